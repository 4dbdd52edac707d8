//! Who is asking: the access token in `Authorization: Bearer`, verified against the auth
//! server's key set (cached, refetched on an unknown `kid`), its `iss` and `aud` checked. With
//! `--check-session` the auth server is also asked whether the token's session is still live.

use std::{sync::Arc, time::Duration};

use axum::{extract::FromRequestParts, http::request::Parts, http::StatusCode};
use guestpass_verifier_example::{MergeClaims, Refused, Verifier};
use serde_json::Value;

use crate::{error::ApiError, AppState};

/// At most one JWKS refetch per this long for tokens naming an unknown key.
const REFETCH_COOLDOWN: Duration = Duration::from_secs(10);

/// The signed-in user a request comes from, as its token says.
#[derive(Debug, Clone)]
pub struct Reader {
    pub user_id: String,
    pub is_anonymous: bool,
    /// The token itself, to ask the auth server about this user (the profile's name).
    token: String,
}

impl Reader {
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// The auth server, as this backend sees it: its keys, and its client API for what a token
/// cannot say (is the session still live, the profile's name).
pub struct AuthServer {
    url: String,
    verifier: Verifier,
    check_session: bool,
    http: reqwest::Client,
}

impl AuthServer {
    pub fn new(url: &str, app_id: &str, check_session: bool) -> Arc<Self> {
        let url = url.trim_end_matches('/').to_owned();
        Arc::new(AuthServer {
            verifier: Verifier::new(&url, app_id, REFETCH_COOLDOWN),
            url,
            check_session,
            http: reqwest::Client::new(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn client_get(&self, route: &str, token: &str) -> Result<reqwest::Response, ApiError> {
        self.http
            .get(format!("{}/api/client/v2.0{route}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| unavailable(&e.without_url().to_string()))
    }

    async fn reader(&self, token: &str) -> Result<Reader, ApiError> {
        let claims = self.verifier.verify(token).await.map_err(|refused| match refused {
            Refused::Fetch(e) => unavailable(&e),
            // The reason is safe to tell (no part of the token is in it) and helps a developer.
            other => ApiError::invalid_session(format!("the access token is refused: {other}")),
        })?;
        if self.check_session {
            let answer = self.client_get("/auth/session/verify", token).await?;
            if answer.status() == StatusCode::UNAUTHORIZED {
                return Err(ApiError::invalid_session("the session has ended"));
            }
            if !answer.status().is_success() {
                return Err(unavailable(&format!("session check answered {}", answer.status())));
            }
        }
        Ok(Reader { user_id: claims.sub, is_anonymous: claims.is_anonymous, token: token.to_owned() })
    }

    /// The claims of a merge proof, verified through the same keys as access tokens.
    pub async fn merge_claims(&self, proof: &str) -> Result<MergeClaims, ApiError> {
        self.verifier.verify_merge_proof(proof).await.map_err(|refused| match refused {
            Refused::Fetch(e) => unavailable(&e),
            expired if expired.is_expiry() => {
                ApiError::new(StatusCode::UNAUTHORIZED, "InvalidMergeProof", "the merge proof has expired")
            }
            other => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidMergeProof",
                format!("the merge proof is refused: {other}"),
            ),
        })
    }

    /// The `name` in the user's profile data (e.g. a custom token's claim), if any.
    pub async fn profile_name(&self, reader: &Reader) -> Result<Option<String>, ApiError> {
        let answer = self.client_get("/auth/profile", reader.token()).await?;
        if answer.status() == StatusCode::UNAUTHORIZED {
            return Err(ApiError::invalid_session("the session has ended"));
        }
        let profile: Value = answer.json().await.map_err(|e| unavailable(&e.without_url().to_string()))?;
        Ok(profile["data"]["name"].as_str().map(str::to_owned))
    }
}

fn unavailable(detail: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "AuthServerUnavailable", format!("cannot reach the auth server: {detail}"))
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "MissingAuthReq", "must authenticate first"))?;
        state.auth.reader(token).await
    }
}
