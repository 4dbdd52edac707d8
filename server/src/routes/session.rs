//! Routes that act on a session, found from the bearer token: refresh, logout, profile, delete.

use axum::{
    extract::State,
    http::StatusCode,
    routing::{delete, get, post},
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    error::ApiError,
    extract::{BearerToken, CurrentUser},
    ids,
    state::AppState,
    store::UserRecord,
    tokens::{RefreshToken, Subject},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/session", post(refresh).delete(logout))
        .route("/auth/profile", get(profile))
        .route("/auth/delete", delete(delete_user))
}

/// The message realm-web's `logOut` tolerates (PROTOCOL.md §5.3, §10 item 11).
const NO_REFRESH_TOKEN: &str = "invalid session: failed to find refresh token";

/// `POST /auth/session`: a new access token for a refresh token. The refresh token is not
/// rotated: the protocol's clients keep the one they have.
async fn refresh(State(state): State<AppState>, BearerToken(token): BearerToken) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({ "access_token": access_token })))
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
async fn profile(State(state): State<AppState>, current: CurrentUser) -> Result<Json<Value>, ApiError> {
    Ok(Json(profile_json(&state, &current.user, current.grant.session_expires_at)?))
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

/// The profile as `GET /auth/profile` answers it (PROTOCOL.md §5.4).
/// Anonymous users also get `expires_at`: when the inactivity sweep will delete them unless
/// they are active again (a guestpass extension, so a page can ask the user to link in time).
/// Other users get `session_expires_at`: when the session (`session_ends_at`) ends unless it is
/// refreshed before, after which the user must log in again.
pub fn profile_json(state: &AppState, user: &UserRecord, session_ends_at: Option<u64>) -> Result<Value, ApiError> {
    let parse = |text: &str| serde_json::from_str::<Value>(text).map_err(ApiError::internal);
    let identities = user
        .identities
        .iter()
        .map(|i| {
            Ok(json!({
                "id": i.id,
                "provider_type": i.provider_type,
                "provider_id": i.provider_type,
                "provider_data": parse(&i.data)?,
            }))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mut profile = json!({
        "user_id": user.id,
        "domain_id": state.config.app_id,
        "type": "normal",
        "identities": identities,
        "data": parse(&user.data)?,
        "creation_date": user.created_at,
        "last_authentication_date": user.last_active_at,
    });
    if user.is_anonymous {
        profile["expires_at"] = json!(state.anonymous_expiry(user.last_active_at));
    } else if let Some(ends_at) = session_ends_at {
        profile["session_expires_at"] = json!(ends_at);
    }
    Ok(profile)
}
