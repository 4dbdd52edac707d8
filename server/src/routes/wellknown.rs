//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`: what an app's backend
//! needs to verify access tokens on its own (README "Verifying tokens in your backend").

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;

use crate::{ids, state::AppState};

/// How long a verifier may cache either document. A rotation that starts at once is safe for a
/// verifier that refetches the set on an unknown `kid` (every library that fetches a JWKS
/// does); one that does not should be given a rotation `--starts-in` at least this long, so the
/// next key is in every cached copy before it signs. Retired keys stay longer than any cache.
pub const MAX_AGE_SECS: u64 = 300;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(openid_configuration))
}

fn cached(body: serde_json::Value) -> Response {
    let mut response = Json(body).into_response();
    let value = HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}")).expect("an ASCII header value");
    response.headers_mut().insert(header::CACHE_CONTROL, value);
    response
}

async fn jwks(State(state): State<AppState>) -> Response {
    cached(json!({ "keys": state.tokens.ring().published(ids::now_millis()) }))
}

async fn openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = state.tokens.issuer();
    let algorithms: Vec<String> = state.tokens.ring().algorithms().iter().map(|a| format!("{a:?}")).collect();
    cached(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": algorithms,
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "typ", "baas_device_id", "is_anonymous"],
    }))
}
