//! Access tokens (ES256 JWTs with a `kid`, verified without a database read, by this server
//! or by an app's backend through the published keys: `signing_keys.rs`) and refresh tokens
//! (opaque random strings of which the server keeps only a SHA-256).

use std::{
    fmt,
    sync::{Arc, RwLock},
    time::Duration,
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{error::ApiError, ids, signing_keys::KeyRing};

/// The claims of an access token (docs/wire.md, plus `is_anonymous` for rules).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The issuer: this server's public URL. Absent from tokens minted before it was added.
    #[serde(default)]
    pub iss: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub aud: String,
    pub typ: String,
    pub baas_device_id: String,
    pub baas_domain_id: String,
    /// The session this token was minted for; revoking the session revokes the token.
    pub baas_id: String,
    pub is_anonymous: bool,
    /// For an anonymous user: when it will be deleted if it stays inactive (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_expires_at: Option<u64>,
    /// For a user that is not anonymous: when the session ends unless refreshed before
    /// (epoch seconds). `exp` is never later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<u64>,
}

const ACCESS_TYP: &str = "access";

/// What a verified access token vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub user_id: String,
    pub session_id: String,
    pub device_id: String,
    /// The session's end as the token was minted (`None` for anonymous users' tokens).
    pub session_expires_at: Option<u64>,
}

/// Issues and verifies access tokens for one app. Clones share the key ring, so a rotation
/// seen by one is seen by all.
#[derive(Clone)]
pub struct AccessTokens {
    ring: Arc<RwLock<Arc<KeyRing>>>,
    issuer: String,
    app_id: String,
    ttl: Duration,
    anonymous_inactivity: Duration,
}

impl fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokens")
            .field("issuer", &self.issuer)
            .field("app_id", &self.app_id)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The fields an access token is minted from.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub device_id: &'a str,
    pub is_anonymous: bool,
    /// When the session ends (`SessionRecord::ends_at`); the token expires by then.
    pub session_ends_at: Option<u64>,
}

impl AccessTokens {
    pub fn new(ring: KeyRing, issuer: &str, app_id: &str, ttl: Duration, anonymous_inactivity: Duration) -> Self {
        AccessTokens {
            ring: Arc::new(RwLock::new(Arc::new(ring))),
            issuer: issuer.trim_end_matches('/').to_owned(),
            app_id: app_id.to_owned(),
            ttl,
            anonymous_inactivity,
        }
    }

    /// The keys as this process knows them now.
    pub fn ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Takes a re-read (or rotated) key set into use.
    pub fn replace_ring(&self, ring: KeyRing) {
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ring);
    }

    /// The `iss` of the tokens: this server's public URL, without a trailing slash.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The app the tokens are for (their `aud`).
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    pub fn issue(&self, subject: Subject<'_>, now: u64) -> Result<String, ApiError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: subject.user_id.to_owned(),
            iat: now,
            // A token never outlives its session, so an ended session needs no sweep to lock out
            // the tokens minted from it.
            exp: (now + self.ttl.as_secs().max(1)).min(subject.session_ends_at.unwrap_or(u64::MAX)).max(now + 1),
            aud: self.app_id.clone(),
            typ: ACCESS_TYP.to_owned(),
            baas_device_id: subject.device_id.to_owned(),
            baas_domain_id: self.app_id.clone(),
            baas_id: subject.session_id.to_owned(),
            is_anonymous: subject.is_anonymous,
            // Minting a token is activity, so the clock restarts now.
            anonymous_expires_at: subject.is_anonymous.then(|| now + self.anonymous_inactivity.as_secs()),
            session_expires_at: subject.session_ends_at.filter(|_| !subject.is_anonymous),
        };
        let ring = self.ring();
        let key = ring.signing(ids::now_millis()).ok_or_else(|| ApiError::internal("no signing key signs now"))?;
        let encoding =
            key.encoding.as_ref().ok_or_else(|| ApiError::internal("the signing key has no private part"))?;
        let mut header = Header::new(key.algorithm);
        header.kid = key.kid.clone();
        jsonwebtoken::encode(&header, &claims, encoding).map_err(ApiError::internal)
    }

    /// Checks signature, algorithm, audience, expiry and type. The key is the one the token's
    /// `kid` names, and the algorithm is that key's own: a token cannot pick another (no
    /// `alg: none`, no HS256 keyed with a public key; RFC 8725 §3.1). Every failure is the same
    /// `401 InvalidSession`: the client's remedy (refresh, then log in) does not depend on why.
    pub fn verify(&self, token: &str) -> Result<AccessGrant, ApiError> {
        let invalid = || ApiError::invalid_session("invalid session: invalid access token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        let ring = self.ring();
        let key = ring.find(header.kid.as_deref(), ids::now_millis()).ok_or_else(invalid)?;
        if header.alg != key.algorithm {
            return Err(invalid());
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = 0; // lifetimes can be seconds long in tests; clients refresh on 401
        validation.set_audience(&[&self.app_id]);
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::invalid_session("invalid session: access token expired")
                }
                _ => invalid(),
            })?;
        let claims = data.claims;
        if claims.typ != ACCESS_TYP {
            return Err(ApiError::invalid_session("invalid session: not an access token"));
        }
        Ok(AccessGrant {
            user_id: claims.sub,
            session_id: claims.baas_id,
            device_id: claims.baas_device_id,
            session_expires_at: claims.session_expires_at,
        })
    }
}

/// A refresh token as the client holds it. Never printed.
pub struct RefreshToken(String);

/// What the store keeps of a refresh token.
pub type RefreshHash = [u8; 32];

impl RefreshToken {
    /// 256 random bits, base64url without padding (43 characters).
    pub fn generate() -> Self {
        RefreshToken(URL_SAFE_NO_PAD.encode(ids::random_bytes::<32>()))
    }

    pub fn from_client(token: &str) -> Self {
        RefreshToken(token.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> RefreshHash {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::signing_keys::{generate_es256, ring_from_records, LoadedKey};

    fn es256_ring() -> KeyRing {
        ring_from_records(&[generate_es256(0, 0).unwrap()], Duration::from_secs(60)).unwrap()
    }

    fn tokens_with(ring: KeyRing, app_id: &str, ttl: u64) -> AccessTokens {
        AccessTokens::new(
            ring,
            "http://issuer.test/",
            app_id,
            Duration::from_secs(ttl),
            Duration::from_secs(90 * 86400),
        )
    }

    fn tokens(ttl: u64) -> AccessTokens {
        tokens_with(es256_ring(), "app-1", ttl)
    }

    fn subject() -> Subject<'static> {
        Subject { user_id: "u1", session_id: "s1", device_id: "d1", is_anonymous: true, session_ends_at: None }
    }

    #[test]
    fn an_issued_token_verifies_and_names_its_user_and_session() {
        let t = tokens(60);
        let token = t.issue(subject(), ids::now_secs()).unwrap();
        let grant = t.verify(&token).unwrap();
        assert_eq!(grant.user_id, "u1");
        assert_eq!(grant.session_id, "s1");
    }

    #[test]
    fn an_expired_token_is_an_invalid_session() {
        let t = tokens(60);
        let token = t.issue(subject(), ids::now_secs() - 120).unwrap();
        let err = t.verify(&token).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (401, "InvalidSession"));
    }

    #[test]
    fn a_token_never_outlives_its_session() {
        let t = tokens(1800);
        let now = ids::now_secs();
        let member = Subject { is_anonymous: false, session_ends_at: Some(now + 60), ..subject() };
        let claims = decode(&t.issue(member, now).unwrap());
        assert_eq!((claims.exp, claims.session_expires_at), (now + 60, Some(now + 60)));
        assert_eq!(t.verify(&t.issue(member, now).unwrap()).unwrap().session_expires_at, Some(now + 60));
        let later = Subject { session_ends_at: Some(now + 7200), ..member };
        assert_eq!(
            decode(&t.issue(later, now).unwrap()).exp,
            now + 1800,
            "the access TTL when the session lasts longer"
        );
    }

    fn decode(token: &str) -> AccessClaims {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn a_token_for_another_app_is_refused() {
        let ring = es256_ring();
        let other = tokens_with(ring.clone(), "app-2", 60);
        let token = other.issue(subject(), ids::now_secs()).unwrap();
        assert!(tokens_with(ring, "app-1", 60).verify(&token).is_err());
    }

    #[test]
    fn a_token_carries_the_kid_of_its_key_and_the_issuer() {
        let t = tokens(60);
        let token = t.issue(subject(), ids::now_secs()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
        assert_eq!(header.kid, t.ring().signing(ids::now_millis()).unwrap().kid);
        assert_eq!(decode(&token).iss, "http://issuer.test");
    }

    #[test]
    fn a_token_whose_kid_names_another_algorithm_is_refused() {
        // The HS256 "key" an attacker would use: the published public key's bytes.
        let t = tokens(60);
        let ring = t.ring();
        let key = ring.signing(ids::now_millis()).unwrap();
        let public = serde_json::to_vec(key.public_jwk.as_ref().unwrap()).unwrap();
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = key.kid.clone();
        let claims = decode(&t.issue(subject(), ids::now_secs()).unwrap());
        let forged = jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(&public)).unwrap();
        assert!(t.verify(&forged).is_err());
        let hs = LoadedKey::hs256(&[7u8; 32]).unwrap();
        let hs_tokens = tokens_with(KeyRing::new(vec![hs], Duration::from_secs(60)), "app-1", 60);
        let kidless = hs_tokens.issue(subject(), ids::now_secs()).unwrap();
        assert!(hs_tokens.verify(&kidless).is_ok(), "an HS256 secret's own tokens verify");
        assert!(t.verify(&kidless).is_err(), "a token without a kid is refused where no HS256 secret is kept");
    }

    #[test]
    fn refresh_tokens_are_256_bit_base64url_and_distinct() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_eq!(a.as_str().len(), 43);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a.as_str(), b.as_str());
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(a.as_str()));
    }
}
