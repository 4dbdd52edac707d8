//! Request extractors that answer in the protocol's error shape instead of axum's plain text.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body any route accepts.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body. An empty body (as realm-core sends on some routes) is the type's default; a
/// non-empty one must be `application/json` (with or without parameters) and well formed.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| ApiError::body_too_large(BODY_LIMIT))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(T::default()));
        }
        if is_json != Some(true) {
            return Err(ApiError::unsupported_media_type());
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            // serde_json's messages can quote the input (a password, say): say only where.
            ApiError::bad_request(format!(
                "invalid JSON body: {} at line {} column {}",
                match e.classify() {
                    serde_json::error::Category::Data => "unexpected value",
                    serde_json::error::Category::Eof => "unexpected end",
                    _ => "malformed JSON",
                },
                e.line(),
                e.column()
            ))
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header. Tokens in URLs are never read.
pub struct BearerToken(pub String);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        BearerToken::from_headers(&parts.headers)
    }
}

impl BearerToken {
    /// Reads the token of an `Authorization: Bearer` header.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Result<Self, ApiError> {
        let value = headers.get(header::AUTHORIZATION).ok_or_else(ApiError::missing_auth)?;
        let value = value.to_str().map_err(|_| ApiError::invalid_session("invalid session: malformed token"))?;
        let (scheme, token) = value.split_once(' ').ok_or_else(ApiError::missing_auth)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::missing_auth());
        }
        let token = token.trim();
        // realm-web sends "Bearer null" for a logged-out user: nothing to refresh.
        if token.is_empty() || token == "null" || token == "undefined" {
            return Err(ApiError::missing_auth());
        }
        Ok(BearerToken(token.to_owned()))
    }
}

/// The signed-in user of a request: a valid access token whose session is still live. Each use
/// counts as activity (which keeps an anonymous user from expiring).
#[derive(Debug)]
pub struct CurrentUser {
    pub grant: crate::tokens::AccessGrant,
    pub user: crate::store::UserRecord,
}

impl FromRequestParts<crate::state::AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &crate::state::AppState) -> Result<Self, ApiError> {
        let BearerToken(token) = BearerToken::from_headers(&parts.headers)?;
        let grant = state.tokens.verify(&token)?;
        let (user_id, session_id) = (grant.user_id.clone(), grant.session_id.clone());
        let now = crate::ids::now_secs();
        let granularity = state.activity_granularity();
        let user = state
            .store(move |store| {
                let user = store.user_of_session(&user_id, &session_id)?;
                if user.as_ref().is_some_and(|u| u.last_active_at + granularity <= now) {
                    store.record_activity(&user_id, now, granularity)?;
                }
                Ok(user)
            })
            .await?
            .ok_or_else(|| ApiError::invalid_session("invalid session: session ended"))?;
        Ok(CurrentUser { grant, user })
    }
}

/// The client's address: the socket's peer, or what a trusted proxy says (`--trusted-proxy`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

impl ClientAddr {
    /// The bucket this client counts against in the rate limits.
    pub fn key(self) -> crate::limits::ClientKey {
        crate::limits::ClientKey::of(self.0)
    }
}

impl FromRequestParts<crate::state::AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &crate::state::AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip())
            .ok_or_else(|| ApiError::internal("a request without its peer's address"))?;
        Ok(ClientAddr(state.trusted_proxies.client(peer, &parts.headers)))
    }
}
