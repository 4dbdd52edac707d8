//! Verifying a guestpass access token in a Rust backend with `jsonwebtoken`: the key set is
//! fetched from the auth server's `/.well-known/jwks.json`, cached, and fetched again when a
//! token names a `kid` the cached set lacks (a rotation), at most once per `cooldown`.
//!
//! The same keys sign merge proofs (`login?merge=true`, docs/merge.md): [`Verifier::verify_merge_proof`]
//! checks one, and each check refuses the other kind of token.

use std::time::{Duration, Instant};

use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

/// The claims a backend uses; guestpass tokens carry more (see docs/wire.md).
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub exp: u64,
    pub typ: String,
    pub is_anonymous: bool,
}

impl Claims {
    /// The `is_anonymous` rule: anonymous users may read, only signed-in ones may write.
    pub fn may_write(&self) -> bool {
        !self.is_anonymous
    }
}

/// The claims of a merge proof: `from`'s data may move into `into`, once (`jti`).
#[derive(Debug, Clone, Deserialize)]
pub struct MergeClaims {
    pub from: String,
    pub into: String,
    pub jti: String,
    pub iss: String,
    pub exp: u64,
    pub typ: String,
}

/// The JOSE header `typ` of a merge proof; its `typ` claim is `merge`.
pub const MERGE_PROOF_HEADER_TYP: &str = "merge+jwt";

#[derive(Debug)]
pub enum Refused {
    /// The token's header names no key of the set, even after a refetch.
    UnknownKey,
    /// Not ES256 (e.g. HS256 keyed with the public key): refused before any key is used.
    Algorithm(Algorithm),
    /// Signature, issuer, audience, expiry or shape.
    Invalid(jsonwebtoken::errors::Error),
    NotAnAccessToken,
    /// Not a merge proof (an access token, say), or one naming the same user twice.
    NotAMergeProof,
    /// The key set could not be fetched.
    Fetch(String),
}

impl Refused {
    /// Whether the token was valid but is past its `exp`.
    pub fn is_expiry(&self) -> bool {
        matches!(self, Refused::Invalid(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::ExpiredSignature)
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::UnknownKey => f.write_str("unknown key"),
            Refused::Algorithm(alg) => write!(f, "algorithm {alg:?} is not accepted"),
            Refused::Invalid(e) => write!(f, "invalid: {e}"),
            Refused::NotAnAccessToken => f.write_str("not an access token"),
            Refused::NotAMergeProof => f.write_str("not a merge proof"),
            Refused::Fetch(e) => write!(f, "cannot fetch the key set: {e}"),
        }
    }
}

struct Cache {
    keys: JwkSet,
    /// When the set was first fetched (`None`: not yet).
    fetched: Option<Instant>,
    /// When an unknown `kid` last made it refetch the set: the cooldown counts from here, not
    /// from the first fetch, so a rotation right after the first fetch is still picked up.
    refetched: Option<Instant>,
}

pub struct Verifier {
    issuer: String,
    audience: String,
    jwks_url: String,
    cooldown: Duration,
    client: reqwest::Client,
    cache: Mutex<Cache>,
}

impl Verifier {
    pub fn new(issuer: &str, audience: &str, cooldown: Duration) -> Self {
        let issuer = issuer.trim_end_matches('/').to_owned();
        Verifier {
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            audience: audience.to_owned(),
            cooldown,
            client: reqwest::Client::new(),
            cache: Mutex::new(Cache { keys: JwkSet { keys: Vec::new() }, fetched: None, refetched: None }),
        }
    }

    /// The cached key of `kid`; the set is refetched if it lacks it and the cooldown allows.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Refused> {
        let mut cache = self.cache.lock().await;
        let first = cache.fetched.is_none();
        // Unknown kids (a rotation, or made-up ones) refetch the set at most once per cooldown.
        if cache.keys.find(kid).is_none() && (first || cache.refetched.is_none_or(|at| at.elapsed() >= self.cooldown)) {
            let fetched = async { self.client.get(&self.jwks_url).send().await?.error_for_status()?.json().await };
            cache.keys = fetched.await.map_err(|e: reqwest::Error| Refused::Fetch(e.to_string()))?;
            let now = Instant::now();
            if first {
                cache.fetched = Some(now);
            } else {
                cache.refetched = Some(now);
            }
        }
        let jwk = cache.keys.find(kid).ok_or(Refused::UnknownKey)?;
        DecodingKey::from_jwk(jwk).map_err(Refused::Invalid)
    }

    /// Checks an access token: signature (ES256, the key its `kid` names), issuer, audience,
    /// expiry, and `typ: access` (so a merge proof is refused).
    pub async fn verify(&self, token: &str) -> Result<Claims, Refused> {
        let claims: Claims = self.decode(token, &["exp", "sub", "aud", "iss"]).await?.1;
        if claims.typ != "access" {
            return Err(Refused::NotAnAccessToken);
        }
        Ok(claims)
    }

    /// Checks a merge proof as [`verify`](Self::verify) checks an access token, and that both
    /// its header and its claims say it is one (so an access token is refused). Whether it was
    /// redeemed before is the caller's to record (its `jti`).
    pub async fn verify_merge_proof(&self, proof: &str) -> Result<MergeClaims, Refused> {
        let (header, claims): (_, MergeClaims) = self.decode(proof, &["exp", "aud", "iss"]).await?;
        if header.typ.as_deref() != Some(MERGE_PROOF_HEADER_TYP) || claims.typ != "merge" || claims.from == claims.into
        {
            return Err(Refused::NotAMergeProof);
        }
        Ok(claims)
    }

    async fn decode<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        required: &[&str],
    ) -> Result<(jsonwebtoken::Header, T), Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(Refused::Invalid)?;
        // Only the algorithm guestpass signs with; the token does not get to choose.
        if header.alg != Algorithm::ES256 {
            return Err(Refused::Algorithm(header.alg));
        }
        let key = self.key(header.kid.as_deref().ok_or(Refused::UnknownKey)?).await?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(required);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<T>(token, &key, &validation).map_err(Refused::Invalid)?.claims;
        Ok((header, claims))
    }
}
