//! The one error shape every route answers with: `{error, error_code, link}` and
//! `Content-Type: application/json` exactly (docs/wire.md).

use std::borrow::Cow;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use guestpass_protocol::answers::ErrorBody;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Cow<'static, str>,
    /// Seconds to wait, sent as `Retry-After` (429 and 503 answers).
    pub retry_after: Option<u64>,
    /// The rate limit a 429 hit, for the metrics (never sent).
    pub limit: Option<&'static str>,
}

/// In an answer's extensions: the rate limit it was refused by (counted by `request_log`).
#[derive(Debug, Clone, Copy)]
pub struct LimitHit(pub &'static str);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None, limit: None }
    }

    /// Names the rate limit this answer comes from (a word: `anonymous_signup`).
    pub fn for_limit(mut self, limit: &'static str) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// The only answer that tells a client a refresh may help: 401 `InvalidSession`.
    pub fn invalid_session(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidSession", message)
    }

    pub fn missing_auth() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "MissingAuthReq", "must authenticate first")
    }

    pub fn app_not_found(app_id: &str) -> Self {
        // Keep the client's text out of our message if it is not a plausible id.
        let shown: String = app_id.chars().take(64).filter(|c| c.is_ascii_graphic()).collect();
        Self::new(StatusCode::NOT_FOUND, "AppNotFound", format!("cannot find app using Client App ID '{shown}'"))
    }

    pub fn provider_not_found(provider: &str) -> Self {
        let shown: String = provider.chars().take(64).filter(|c| c.is_ascii_graphic()).collect();
        Self::new(
            StatusCode::NOT_FOUND,
            "AuthProviderNotFound",
            format!("authentication via '{shown}' is not enabled on this server"),
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "no such route")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "method not allowed on this route")
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ReadSizeLimitExceeded",
            format!("request body larger than {limit} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "request body must be sent with Content-Type: application/json",
        )
    }

    /// Too many requests of one kind from one client; try again in `seconds`.
    pub fn rate_limited(what: &str, seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!("too many {what} from this address; try again in {seconds} s"),
        );
        e.retry_after = Some(seconds);
        e
    }

    /// Too many requests of one kind for one key (an address, an account); come back in `seconds`.
    pub fn too_many_requests(message: impl Into<Cow<'static, str>>, seconds: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message);
        e.retry_after = Some(seconds);
        e
    }

    /// Not now, for a reason that passes (e.g. the database is locked); try again in `seconds`.
    pub fn unavailable(message: impl Into<Cow<'static, str>>, seconds: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", message);
        e.retry_after = Some(seconds);
        e
    }

    /// The server is at a bound it keeps on purpose (queued hashes, requests in flight).
    pub fn overloaded(what: &str, seconds: u64) -> Self {
        Self::unavailable(format!("too many {what} in progress; try again in {seconds} s"), seconds)
    }

    /// The request took longer than `--request-timeout` (a slow upload, say).
    pub fn request_timeout() -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "RequestTimeout", "the request took too long")
    }

    /// A fault of ours. The cause is logged here; the client only learns that it happened.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "internal server error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: self.message.into_owned(), error_code: self.code.to_owned(), link: String::new() };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if let Some(limit) = self.limit {
            response.extensions_mut().insert(LimitHit(limit));
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if let crate::store::StoreError::Unavailable(cause) = &e {
            // The operator needs the cause, the client a time to retry.
            tracing::warn!(%cause, "database unavailable; answered 503");
            return ApiError::unavailable("the database is unavailable; try again shortly", 1);
        }
        if e.is_busy() {
            // Nothing was written; the operator needs the cause, the client a time to retry.
            tracing::warn!(cause = %e, "database locked past the busy timeout; answered 503");
            return ApiError::unavailable("the database is busy; try again shortly", 1);
        }
        ApiError::internal(e)
    }
}
