//! Merge proofs (issue 14): short-lived JWTs, signed with the access tokens' keys, saying that
//! whoever holds one held a live session of the anonymous user `from` and had just proved the
//! credentials of the account `into`. An app's backend verifies one through the same JWKS as
//! access tokens and moves `from`'s data into `into`; each proof's `jti` is kept in the store
//! so that it can be redeemed once (docs/merge.md).
//!
//! A proof is told from an access token both ways: its JOSE header says `typ: merge+jwt`
//! (RFC 8725 §3.11) and its `typ` claim says `merge`. Access-token verifiers (this server's
//! and examples/rust-verifier) require the claim `typ: access`, so a proof is never a session;
//! the proof verifier requires both marks, so an access token is never a proof.

use std::{fmt, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{ids, tokens::AccessTokens};

/// The JOSE header `typ` of a merge proof.
pub const PROOF_HEADER_TYP: &str = "merge+jwt";
/// The `typ` claim of a merge proof.
pub const PROOF_TYP: &str = "merge";

/// The claims of a merge proof.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MergeClaims {
    pub iss: String,
    pub aud: String,
    pub typ: String,
    /// The anonymous user whose data moves.
    pub from: String,
    /// The account it moves into.
    pub into: String,
    pub iat: u64,
    pub exp: u64,
    /// The proof's id, redeemable once.
    pub jti: String,
}

/// Why a proof was refused. Every case but expiry reads the same to the client: there is
/// nothing it can fix in a forged or foreign proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofRefused {
    #[error("the merge proof is not valid")]
    Invalid,
    #[error("the merge proof has expired")]
    Expired,
}

/// Issues and verifies merge proofs with the key ring of the access tokens (shared: a key
/// rotation applies to both).
#[derive(Clone)]
pub struct MergeProofs {
    tokens: AccessTokens,
    ttl: Duration,
}

impl fmt::Debug for MergeProofs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MergeProofs").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl MergeProofs {
    pub fn new(tokens: AccessTokens, ttl: Duration) -> Self {
        MergeProofs { tokens, ttl }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A new proof that `from`'s data may move into `into`; its claims (for the store's record).
    pub fn issue(&self, from: &str, into: &str, now: u64) -> Result<(String, MergeClaims), String> {
        let claims = MergeClaims {
            iss: self.tokens.issuer().to_owned(),
            aud: self.tokens.app_id().to_owned(),
            typ: PROOF_TYP.to_owned(),
            from: from.to_owned(),
            into: into.to_owned(),
            iat: now,
            exp: now + self.ttl.as_secs().max(1),
            jti: URL_SAFE_NO_PAD.encode(ids::random_bytes::<16>()),
        };
        let ring = self.tokens.ring();
        let key = ring.signing(ids::now_millis()).ok_or("no signing key signs now")?;
        let encoding = key.encoding.as_ref().ok_or("the signing key has no private part")?;
        let mut header = Header::new(key.algorithm);
        header.kid = key.kid.clone();
        header.typ = Some(PROOF_HEADER_TYP.to_owned());
        let proof = jsonwebtoken::encode(&header, &claims, encoding).map_err(|e| e.to_string())?;
        Ok((proof, claims))
    }

    /// Checks signature (with the key the `kid` names, in that key's algorithm), issuer,
    /// audience, expiry and both type marks. Redemption is the store's part.
    pub fn verify(&self, proof: &str) -> Result<MergeClaims, ProofRefused> {
        let header = jsonwebtoken::decode_header(proof).map_err(|_| ProofRefused::Invalid)?;
        if header.typ.as_deref() != Some(PROOF_HEADER_TYP) {
            return Err(ProofRefused::Invalid);
        }
        let ring = self.tokens.ring();
        let key = ring.find(header.kid.as_deref(), ids::now_millis()).ok_or(ProofRefused::Invalid)?;
        if header.alg != key.algorithm {
            return Err(ProofRefused::Invalid);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = 0;
        validation.set_audience(&[self.tokens.app_id()]);
        validation.set_issuer(&[self.tokens.issuer()]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        let claims = jsonwebtoken::decode::<MergeClaims>(proof, &key.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => ProofRefused::Expired,
                _ => ProofRefused::Invalid,
            })?
            .claims;
        if claims.typ != PROOF_TYP || claims.from == claims.into {
            return Err(ProofRefused::Invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        signing_keys::{generate_es256, ring_from_records, KeyRing},
        tokens::Subject,
    };

    fn ring() -> KeyRing {
        ring_from_records(&[generate_es256(0, 0).unwrap()], Duration::from_secs(60)).unwrap()
    }

    fn tokens(ring: KeyRing, app_id: &str) -> AccessTokens {
        AccessTokens::new(ring, "http://issuer.test", app_id, Duration::from_secs(60), Duration::from_secs(86400))
    }

    fn proofs() -> MergeProofs {
        MergeProofs::new(tokens(ring(), "app-1"), Duration::from_secs(300))
    }

    #[test]
    fn an_issued_proof_verifies_and_names_from_into_and_its_jti() {
        let p = proofs();
        let (proof, issued) = p.issue("anon", "account", ids::now_secs()).unwrap();
        let claims = p.verify(&proof).unwrap();
        assert_eq!((claims.from.as_str(), claims.into.as_str()), ("anon", "account"));
        assert_eq!(claims, issued);
        assert_eq!(claims.exp - claims.iat, 300);
        let header = jsonwebtoken::decode_header(&proof).unwrap();
        assert_eq!(header.typ.as_deref(), Some(PROOF_HEADER_TYP));
        assert_eq!(header.kid, p.tokens.ring().signing(ids::now_millis()).unwrap().kid);
    }

    #[test]
    fn an_access_token_is_not_a_proof_and_a_proof_is_not_an_access_token() {
        let p = proofs();
        let subject =
            Subject { user_id: "u1", session_id: "s1", device_id: "d1", is_anonymous: true, session_ends_at: None };
        let access = p.tokens.issue(subject, ids::now_secs()).unwrap();
        assert_eq!(p.verify(&access), Err(ProofRefused::Invalid));
        let (proof, _) = p.issue("anon", "account", ids::now_secs()).unwrap();
        assert!(p.tokens.verify(&proof).is_err());
    }

    #[test]
    fn an_expired_proof_is_refused_as_expired() {
        let p = proofs();
        let (proof, _) = p.issue("anon", "account", ids::now_secs() - 301).unwrap();
        assert_eq!(p.verify(&proof), Err(ProofRefused::Expired));
    }

    #[test]
    fn a_proof_for_another_app_or_signed_by_another_key_is_refused() {
        let shared = ring();
        let other_app = MergeProofs::new(tokens(shared.clone(), "app-2"), Duration::from_secs(300));
        let (proof, _) = other_app.issue("anon", "account", ids::now_secs()).unwrap();
        let here = MergeProofs::new(tokens(shared, "app-1"), Duration::from_secs(300));
        assert_eq!(here.verify(&proof), Err(ProofRefused::Invalid));
        let (foreign, _) = proofs().issue("anon", "account", ids::now_secs()).unwrap();
        assert_eq!(here.verify(&foreign), Err(ProofRefused::Invalid));
    }

    #[test]
    fn a_tampered_proof_is_refused() {
        let p = proofs();
        let (proof, claims) = p.issue("anon", "account", ids::now_secs()).unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        let swapped = MergeClaims { from: claims.into.clone(), into: claims.from.clone(), ..claims };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&swapped).unwrap());
        let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert_eq!(p.verify(&tampered), Err(ProofRefused::Invalid));
    }
}
