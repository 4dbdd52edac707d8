//! Verifying a guestpass access token in a Rust backend with `jsonwebtoken`: the key set is
//! fetched from the auth server's `/.well-known/jwks.json`, cached, and fetched again when a
//! token names a `kid` the cached set lacks (a rotation), at most once per `cooldown`.

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

#[derive(Debug)]
pub enum Refused {
    /// The token's header names no key of the set, even after a refetch.
    UnknownKey,
    /// Not ES256 (e.g. HS256 keyed with the public key): refused before any key is used.
    Algorithm(Algorithm),
    /// Signature, issuer, audience, expiry or shape.
    Invalid(jsonwebtoken::errors::Error),
    NotAnAccessToken,
    /// The key set could not be fetched.
    Fetch(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::UnknownKey => f.write_str("unknown key"),
            Refused::Algorithm(alg) => write!(f, "algorithm {alg:?} is not accepted"),
            Refused::Invalid(e) => write!(f, "invalid: {e}"),
            Refused::NotAnAccessToken => f.write_str("not an access token"),
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

    pub async fn verify(&self, token: &str) -> Result<Claims, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(Refused::Invalid)?;
        // Only the algorithm guestpass signs with; the token does not get to choose.
        if header.alg != Algorithm::ES256 {
            return Err(Refused::Algorithm(header.alg));
        }
        let key = self.key(header.kid.as_deref().ok_or(Refused::UnknownKey)?).await?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(Refused::Invalid)?.claims;
        if claims.typ != "access" {
            return Err(Refused::NotAnAccessToken);
        }
        Ok(claims)
    }
}
