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
        validation.leeway = 30; // another machine's clock
        match &config.custom_jwt_audience {
            Some(aud) => {
                validation.set_required_spec_claims(&["exp", "sub", "aud"]);
                validation.set_audience(&[aud]);
            }
            None => {
                validation.set_required_spec_claims(&["exp", "sub"]);
                validation.validate_aud = false;
            }
        }
        Ok(Some(ExternalJwt { key, validation }))
    }

    /// Verifies signature, algorithm, `exp`, `nbf` and (if configured) `aud`. Failures are
    /// `401 AuthError`: a refresh of our own tokens cannot fix them.
    pub fn verify(&self, token: &str) -> Result<ExternalIdentity, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation).map_err(|e| {
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::InvalidAudience => "wrong audience",
                ErrorKind::ImmatureSignature => "not valid yet",
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::InvalidAlgorithm => "algorithm not allowed",
                ErrorKind::MissingRequiredClaim(_) => "missing a required claim",
                _ => "malformed",
            };
            ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "AuthError", format!("custom token refused: {why}"))
        })?;
        let claims = data.claims;
        let sub = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
            _ => {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "AuthError",
                    "custom token refused: sub must be a non-empty string",
                ))
            }
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
}
