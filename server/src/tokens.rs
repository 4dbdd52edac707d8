//! Access tokens (HS256 JWTs, verified without a database read) and refresh tokens (opaque
//! random strings of which the server keeps only a SHA-256).

use std::{fmt, path::Path, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{error::ApiError, ids};

/// Minimum length of an HMAC key: 256 bits (RFC 8725 §3.5).
const MIN_KEY_BYTES: usize = 32;

/// The HMAC key that signs access tokens. Never printed.
#[derive(Clone)]
pub struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the signing key must be at least {MIN_KEY_BYTES} bytes long")]
    TooShort,
    #[error("cannot read or write the signing key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl SigningKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort);
        }
        Ok(SigningKey { encoding: EncodingKey::from_secret(bytes), decoding: DecodingKey::from_secret(bytes) })
    }

    /// Loads the key kept at `path`, or generates 256 random bits and keeps them there.
    pub fn load_or_generate(path: &Path) -> Result<Self, KeyError> {
        let (text, _) = crate::secrets::load_or_generate(path, || URL_SAFE_NO_PAD.encode(ids::random_bytes::<32>()))
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| KeyError::TooShort)?;
        Self::from_bytes(&bytes)
    }
}

/// The claims of an access token (PROTOCOL.md §7.1, plus `is_anonymous` for rules).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
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

/// Issues and verifies access tokens for one app.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    key: SigningKey,
    app_id: String,
    ttl: Duration,
    anonymous_inactivity: Duration,
    validation: Validation,
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
    pub fn new(key: SigningKey, app_id: &str, ttl: Duration, anonymous_inactivity: Duration) -> Self {
        // One algorithm, pinned: `alg: none`, HS512, RS256... are all refused (RFC 8725 §3.1).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0; // lifetimes can be seconds long in tests; clients refresh on 401
        validation.set_audience(&[app_id]);
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        AccessTokens { key, app_id: app_id.to_owned(), ttl, anonymous_inactivity, validation }
    }

    pub fn issue(&self, subject: Subject<'_>, now: u64) -> Result<String, ApiError> {
        let claims = AccessClaims {
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
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key.encoding).map_err(ApiError::internal)
    }

    /// Checks signature, algorithm, audience, expiry and type. Every failure is the same
    /// `401 InvalidSession`: the client's remedy (refresh, then log in) does not depend on why.
    pub fn verify(&self, token: &str) -> Result<AccessGrant, ApiError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.key.decoding, &self.validation).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::invalid_session("invalid session: access token expired")
                }
                _ => ApiError::invalid_session("invalid session: invalid access token"),
            }
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

    fn tokens(ttl: u64) -> AccessTokens {
        AccessTokens::new(
            SigningKey::from_bytes(&[7u8; 32]).unwrap(),
            "app-1",
            Duration::from_secs(ttl),
            Duration::from_secs(90 * 86400),
        )
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
        let key = SigningKey::from_bytes(&[7u8; 32]).unwrap();
        let other = AccessTokens::new(key, "app-2", Duration::from_secs(60), Duration::from_secs(60));
        let token = other.issue(subject(), ids::now_secs()).unwrap();
        assert!(tokens(60).verify(&token).is_err());
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(matches!(SigningKey::from_bytes(b"changeme"), Err(KeyError::TooShort)));
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
