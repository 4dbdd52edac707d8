//! `custom-token` logins: JWTs issued by the app's own backend, verified with a key from the
//! configuration only (never one named in the token's header), one algorithm per key.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::{config::Config, error::ApiError};

/// Claims copied into the profile's `data` (App Services' metadata fields).
const METADATA: &[&str] =
    &["name", "email", "first_name", "last_name", "picture", "gender", "birthday", "min_age", "max_age"];

pub struct ExternalJwt {
    key: DecodingKey,
    validation: Validation,
    /// Longest `exp - iat` (or `exp - now`) accepted, in seconds.
    max_lifetime: u64,
}

impl std::fmt::Debug for ExternalJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalJwt").field("algorithms", &self.validation.algorithms).finish()
    }
}

/// The identity an external token vouches for.
#[derive(Debug, Clone)]
pub struct ExternalIdentity {
    pub sub: String,
    /// Metadata claims, as a JSON object.
    pub data: Map<String, Value>,
}

impl ExternalJwt {
    /// The verifier the configuration asks for, if any.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let (key, algorithm) = match (&config.custom_jwt_secret, &config.custom_jwt_public_key) {
            (Some(_), Some(_)) => {
                anyhow::bail!(
                    "give either --custom-jwt-secret or --custom-jwt-public-key, not both (one algorithm per key)"
                )
            }
            (Some(secret), None) => {
                anyhow::ensure!(secret.expose().len() >= 32, "the custom JWT secret must be at least 32 bytes long");
                (DecodingKey::from_secret(secret.expose().as_bytes()), Algorithm::HS256)
            }
            (None, Some(path)) => {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read custom JWT public key {}: {e}", path.display()))?;
                let key = DecodingKey::from_rsa_pem(&pem).map_err(|e| {
                    anyhow::anyhow!("custom JWT public key {} is not an RSA PEM key: {e}", path.display())
                })?;
                (key, Algorithm::RS256)
            }
            (None, None) => return Ok(None),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY;
        // `nbf` is checked when present; jsonwebtoken skips it unless asked.
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &config.custom_jwt_audience {
            Some(aud) => {
                required.push("aud");
                validation.set_audience(&[aud]);
            }
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &config.custom_jwt_issuer {
            required.push("iss");
            validation.set_issuer(&[iss]);
        }
        validation.set_required_spec_claims(&required);
        Ok(Some(ExternalJwt { key, validation, max_lifetime: config.custom_jwt_max_lifetime.as_secs() }))
    }

    /// Verifies signature, algorithm, `exp`, `nbf`, the lifetime and (if configured) `aud` and
    /// `iss`. Failures are `401 AuthError`: a refresh of our own tokens cannot fix them.
    pub fn verify(&self, token: &str) -> Result<ExternalIdentity, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation).map_err(|e| {
            refused(match e.kind() {
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::InvalidAudience => "wrong audience",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::ImmatureSignature => "not valid yet",
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::InvalidAlgorithm => "algorithm not allowed",
                ErrorKind::MissingRequiredClaim(_) => "missing a required claim",
                _ => "malformed",
            })
        })?;
        let claims = data.claims;
        // jsonwebtoken accepts an `iss` array that merely contains ours; RFC 7519 §4.1.1 makes
        // it one string, so an array is refused.
        if self.validation.iss.is_some() && !claims.get("iss").is_some_and(Value::is_string) {
            return Err(refused("wrong issuer"));
        }
        self.check_lifetime(&claims, crate::ids::now_secs())?;
        let sub = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
            _ => return Err(refused("sub must be a non-empty string")),
        };
        let data = METADATA
            .iter()
            .filter_map(|k| match claims.get(*k) {
                Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => Some(((*k).to_owned(), v.clone())),
                _ => None,
            })
            .collect();
        Ok(ExternalIdentity { sub, data })
    }

    /// Refuses a token that claims to live longer than `--custom-jwt-max-lifetime`: `exp - iat`
    /// with an `iat` (which may not lie in the future), else `exp - now`. jsonwebtoken has no
    /// such check. `exp` is already known to be a number not in the past.
    fn check_lifetime(&self, claims: &Map<String, Value>, now: u64) -> Result<(), ApiError> {
        let exp = claims.get("exp").and_then(seconds).ok_or_else(|| refused("malformed"))?;
        let lifetime = match claims.get("iat") {
            // `now` is our clock, not the issuer's: allow the leeway.
            None => exp.saturating_sub(now).saturating_sub(LEEWAY),
            Some(iat) => {
                let iat = seconds(iat).ok_or_else(|| refused("malformed iat"))?;
                if iat > now.saturating_add(LEEWAY) {
                    return Err(refused("issued in the future"));
                }
                exp.saturating_sub(iat)
            }
        };
        if lifetime > self.max_lifetime {
            return Err(refused("lifetime longer than this server accepts"));
        }
        Ok(())
    }
}

/// Clock difference allowed with the issuing machine, in seconds.
const LEEWAY: u64 = 30;

fn refused(why: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "AuthError", format!("custom token refused: {why}"))
}

/// A NumericDate (RFC 7519 §2): whole or fractional seconds, not negative.
fn seconds(value: &Value) -> Option<u64> {
    match value.as_u64() {
        Some(s) => Some(s),
        // `as` saturates: 1e300 becomes u64::MAX, which the lifetime check then refuses.
        None => value.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64),
    }
}
