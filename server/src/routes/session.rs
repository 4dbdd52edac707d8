//! Routes that act on a session, found from the bearer token: refresh, logout, profile, delete,
//! and the introspection an app's backend asks when it must know of a revocation at once.

use axum::{
    extract::State,
    http::StatusCode,
    routing::{delete, get, post},
    Json, Router,
};
use guestpass_protocol::{answers::RefreshAnswer, Secret};

use crate::{
    answers::{self, UserProfile},
    error::ApiError,
    extract::{BearerToken, CurrentUser},
    ids,
    state::AppState,
    tokens::{RefreshToken, Subject},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/session", post(refresh).delete(logout))
        .route("/auth/profile", get(profile))
        .route("/auth/session/verify", get(verify_session))
        .route("/auth/delete", delete(delete_user))
}

/// The message realm-web's `logOut` tolerates (docs/wire.md).
const NO_REFRESH_TOKEN: &str = "invalid session: failed to find refresh token";

/// `POST /auth/session`: a new access token for a refresh token. The refresh token is not
/// rotated: the protocol's clients keep the one they have.
/// Counts the refresh by outcome (`success` or the error code answered). A refresh without a
/// bearer token is refused before this and not counted.
async fn refresh(State(state): State<AppState>, token: BearerToken) -> Result<Json<RefreshAnswer>, ApiError> {
    let answer = refresh_with(&state, token).await;
    state.metrics.refresh(answer.as_ref().map_or_else(|e| e.code, |_| "success"));
    answer
}

async fn refresh_with(state: &AppState, BearerToken(token): BearerToken) -> Result<Json<RefreshAnswer>, ApiError> {
    let hash = RefreshToken::from_client(&token).hash();
    let now = ids::now_secs();
    let (granularity, lifetimes) = (state.activity_granularity(), state.session_lifetimes());
    let session = state
        .store(move |store| store.use_refresh_token(&hash, now, granularity, lifetimes))
        .await?
        .ok_or_else(|| ApiError::invalid_session(NO_REFRESH_TOKEN))?;
    let access_token = state.tokens.issue(
        Subject {
            user_id: &session.user_id,
            session_id: &session.session_id,
            device_id: &session.device_id,
            is_anonymous: session.is_anonymous,
            session_ends_at: session.ends_at,
        },
        now,
    )?;
    Ok(Json(RefreshAnswer { access_token: Secret::new(access_token) }))
}

/// `DELETE /auth/session`: revoke the refresh token's session. An anonymous user has no other
/// way back in, so it is deleted with it (its documents stay).
async fn logout(State(state): State<AppState>, BearerToken(token): BearerToken) -> Result<StatusCode, ApiError> {
    let hash = RefreshToken::from_client(&token).hash();
    let ended = state
        .store(move |store| store.end_session(&hash))
        .await?
        .ok_or_else(|| ApiError::invalid_session(NO_REFRESH_TOKEN))?;
    if ended.user_deleted {
        tracing::info!(user_id = %ended.user_id, "anonymous user logged out and deleted");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /auth/profile`. `CurrentUser` checks that the token's session is still live, so
/// logout, deletion and revocation take effect at once rather than when the token expires.
async fn profile(State(state): State<AppState>, current: CurrentUser) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(answers::profile(&state, &current.user, current.grant.session_expires_at)?))
}

/// `GET /auth/session/verify`: whether the access token is valid *and* its session still live.
/// A backend that verifies tokens through the JWKS accepts them until `exp`; this answers 401
/// `InvalidSession` at once after a logout, a disable or a deletion.
async fn verify_session(current: CurrentUser) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "active": true,
        "user_id": current.user.id,
        "is_anonymous": current.user.is_anonymous,
        "session_expires_at": current.grant.session_expires_at,
    }))
}

/// `DELETE /auth/delete`: the calling user, its identities and sessions. Documents stay.
async fn delete_user(State(state): State<AppState>, BearerToken(token): BearerToken) -> Result<StatusCode, ApiError> {
    let grant = state.tokens.verify(&token)?;
    let user_id = grant.user_id.clone();
    let deleted = state.store(move |store| store.delete_user_of_session(&grant.user_id, &grant.session_id)).await?;
    if !deleted {
        return Err(ApiError::invalid_session("invalid session: session ended"));
    }
    tracing::info!(%user_id, "user deleted itself");
    Ok(StatusCode::NO_CONTENT)
}
