//! The admin API (`/api/admin`), which the console at `/admin` uses and scripts can call:
//! `Authorization: Bearer <admin key>` on every request.

use axum::{
    extract::{FromRequestParts, Path, RawQuery, State},
    http::{request::Parts, StatusCode},
    routing::{delete, get, post, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    emails,
    error::ApiError,
    extract::{BearerToken, ClientAddr, JsonBody},
    paging::Paging,
    signing_keys::key_state,
    state::AppState,
    store::{PasskeyRecord, ProviderRecord, SessionInfo, UserRecord},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/find", post(find_user))
        .route("/users/{id}", delete(delete_user))
        .route("/users/{id}/sessions", get(list_sessions))
        .route("/users/{id}/sessions/{session_id}", delete(revoke_session))
        .route("/users/{id}/passkeys", get(list_passkeys))
        .route("/users/{id}/passkeys/{credential_id}", delete(delete_passkey))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/providers", get(list_providers))
        .route("/providers/{name}", put(set_provider))
        .route("/signing-keys", get(list_signing_keys).post(rotate_signing_key))
}

/// Proof that the request carries the admin key.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let refused = || ApiError::new(StatusCode::UNAUTHORIZED, "InvalidAdminKey", "a valid admin key is required");
        let client = ClientAddr::from_request_parts(parts, state).await?;
        // Refused before the key is compared: a throttled guess must not learn if it was right.
        state.limits.admin_key_failures.check(&client.key()).await?.map_err(|wait| {
            ApiError::too_many_requests(
                format!("too many wrong admin keys from this address; try again in {wait} s"),
                wait,
            )
            .for_limit("admin_key_failure")
        })?;
        let BearerToken(key) = BearerToken::from_headers(&parts.headers).map_err(|_| refused())?;
        if state.admin_key.matches(&key) {
            Ok(Admin)
        } else {
            if let Err(e) = state.limits.admin_key_failures.record_failure(&client.key()).await {
                tracing::warn!(error = %e, "a wrong admin key could not be counted");
            }
            tracing::warn!(client = %client.0, "admin API request with a wrong key");
            Err(refused())
        }
    }
}

/// What the console shows for each provider; the anonymous row uses the seed's words.
fn label(provider_type: &str) -> &'static str {
    match provider_type {
        "anon-user" => "Allow users to log in anonymously",
        "local-userpass" => "Email/Password",
        "custom-token" => "Custom JWT Authentication",
        "passkey" => "Passkeys",
        _ => "Other",
    }
}

fn provider_json(state: &AppState, p: &ProviderRecord) -> Value {
    json!({
        "name": p.name, "type": p.provider_type, "enabled": p.enabled, "label": label(&p.provider_type),
        "configured": state.provider_configured(p),
    })
}

fn user_json(state: &AppState, u: &UserRecord) -> Value {
    let identities: Vec<Value> =
        u.identities.iter().map(|i| json!({ "id": i.id, "provider_type": i.provider_type })).collect();
    let mut user = json!({
        "id": u.id, "is_anonymous": u.is_anonymous, "disabled": u.disabled, "identities": identities,
        "created_at": u.created_at, "last_active_at": u.last_active_at,
        "data": serde_json::from_str::<Value>(&u.data).unwrap_or(Value::Null),
    });
    if u.is_anonymous {
        user["expires_at"] = json!(state.anonymous_expiry(u.last_active_at));
    }
    user
}

async fn list_users(
    State(state): State<AppState>,
    _: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let Paging { page, per_page, offset } = Paging::from_query(query.as_deref())?;
    let listed = state.store(move |store| store.list_users(offset, per_page)).await?;
    Ok(Json(json!({
        "users": listed.users.iter().map(|u| user_json(&state, u)).collect::<Vec<_>>(),
        "total": listed.total, "page": page, "per_page": per_page,
    })))
}

fn no_user() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "UserNotFound", "user not found")
}

async fn delete_user(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let user_id = id.clone();
    if !state.store(move |store| store.delete_user(&user_id)).await? {
        return Err(no_user());
    }
    tracing::info!(user_id = %id, "admin deleted a user");
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(state: AppState, id: String, disabled: bool) -> Result<StatusCode, ApiError> {
    let user_id = id.clone();
    if !state.store(move |store| store.set_user_disabled(&user_id, disabled)).await? {
        return Err(no_user());
    }
    tracing::info!(user_id = %id, disabled, "admin changed a user");
    Ok(StatusCode::NO_CONTENT)
}

async fn disable_user(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    set_disabled(state, id, true).await
}

async fn enable_user(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    set_disabled(state, id, false).await
}

#[derive(Debug, Default, Deserialize)]
struct UserQuery {
    query: Option<String>,
}

/// Finds a user by id or by the email of its email/password identity. A POST body rather than
/// a query string, so emails stay out of URLs (and the logs of proxies in front).
async fn find_user(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(body): JsonBody<UserQuery>,
) -> Result<Json<Value>, ApiError> {
    let query = body.query.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    let query = query.ok_or_else(|| ApiError::bad_request("query (a user id or an email) is required"))?;
    // Not an email is fine: the query may be an id.
    let email = emails::canonical(&query).ok().filter(|_| query.contains('@'));
    let found = state.store(move |store| store.find_user(&query, email.as_deref())).await?;
    Ok(Json(user_json(&state, &found.ok_or_else(no_user)?)))
}

fn session_json(s: &SessionInfo) -> Value {
    json!({ "id": s.id, "device_id": s.device_id, "created_at": s.created_at, "last_used_at": s.last_used_at })
}

/// A user's sessions: device, created, last used (never a token: only hashes are kept).
async fn list_sessions(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user_id = id.clone();
    let (user, sessions) = state
        .store(move |store| {
            let Some(user) = store.find_user(&user_id, None)? else { return Ok((None, Vec::new())) };
            Ok((Some(user), store.sessions_of(&user_id)?))
        })
        .await?;
    if user.is_none() {
        return Err(no_user());
    }
    Ok(Json(json!({ "sessions": sessions.iter().map(session_json).collect::<Vec<_>>() })))
}

/// Revokes one session: its refresh token is refused from the next request on. An anonymous
/// user has only that way back in, so it is deleted with it (as at logout).
async fn revoke_session(
    State(state): State<AppState>,
    _: Admin,
    Path((id, session_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (user_id, session) = (id.clone(), session_id.clone());
    let ended = state.store(move |store| store.revoke_session(&user_id, &session)).await?;
    let ended = ended.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "SessionNotFound", "session not found"))?;
    tracing::info!(user_id = %id, session_id = %session_id, user_deleted = ended.user_deleted, "admin revoked a session");
    Ok(StatusCode::NO_CONTENT)
}

fn passkey_json(p: &PasskeyRecord) -> Value {
    json!({
        "credential_id": p.credential_id, "created_at": p.created_at, "last_used_at": p.last_used_at,
        "backup_eligible": p.backup_eligible, "backup_state": p.backup_state, "counter": p.counter,
    })
}

/// A user's passkeys (issue 11): never the public key, which the console has no use for.
async fn list_passkeys(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user_id = id.clone();
    let (user, passkeys) = state
        .store(move |store| {
            let Some(user) = store.find_user(&user_id, None)? else { return Ok((None, Vec::new())) };
            Ok((Some(user), store.passkeys_of(&user_id)?))
        })
        .await?;
    if user.is_none() {
        return Err(no_user());
    }
    Ok(Json(json!({ "passkeys": passkeys.iter().map(passkey_json).collect::<Vec<_>>() })))
}

/// Removes one passkey of a user (and its identity): it no longer logs in.
async fn delete_passkey(
    State(state): State<AppState>,
    _: Admin,
    Path((id, credential_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (user_id, credential) = (id.clone(), credential_id.clone());
    if !state.store(move |store| store.delete_passkey(&user_id, &credential)).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "PasskeyNotFound", "passkey not found"));
    }
    tracing::info!(user_id = %id, credential_id = %credential_id, "admin removed a passkey");
    Ok(StatusCode::NO_CONTENT)
}

async fn list_providers(State(state): State<AppState>, _: Admin) -> Result<Json<Value>, ApiError> {
    let providers = state.store(|store| store.providers()).await?;
    Ok(Json(json!({ "providers": providers.iter().map(|p| provider_json(&state, p)).collect::<Vec<_>>() })))
}

#[derive(Debug, Default, Deserialize)]
struct ProviderSwitch {
    enabled: Option<bool>,
}

/// Switches a provider on or off: it takes effect for the next login and survives restarts.
async fn set_provider(
    State(state): State<AppState>,
    _: Admin,
    Path(name): Path<String>,
    JsonBody(switch): JsonBody<ProviderSwitch>,
) -> Result<Json<Value>, ApiError> {
    let enabled = switch.enabled.ok_or_else(|| ApiError::bad_request("enabled (true or false) is required"))?;
    let provider =
        state.set_provider_enabled(name.clone(), enabled).await?.ok_or_else(|| ApiError::provider_not_found(&name))?;
    tracing::info!(provider = %provider.name, enabled, "admin switched a provider");
    Ok(Json(provider_json(&state, &provider)))
}

/// The signing keys this server knows, newest last, without their private parts.
async fn list_signing_keys(State(state): State<AppState>, _: Admin) -> Result<Json<Value>, ApiError> {
    if state.keys_in_store() {
        state.reread_signing_keys().await?;
    }
    let now = crate::ids::now_millis();
    let ring = state.tokens.ring();
    let secs = |ms: Option<u64>| ms.map(|ms| ms / 1000);
    let keys: Vec<Value> = ring
        .entries()
        .iter()
        .map(|e| {
            json!({
                "kid": e.key.kid, "algorithm": format!("{:?}", e.key.algorithm), "created_at": e.key.created_at / 1000,
                "signs_from": e.key.signs_from / 1000, "signs_until": secs(e.signs_until),
                "published_until": secs(e.accepted_until),
                "state": key_state(e, now),
            })
        })
        .collect();
    Ok(Json(json!({ "keys": keys, "managed_outside": !state.keys_in_store() })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    /// Seconds from now until the new key signs (it is published at once).
    #[serde(default)]
    starts_in: Option<u64>,
}

/// Longest `starts_in` accepted: a day (a key meant for later than that is a typo).
const MAX_STARTS_IN: u64 = 86_400;

/// Adds a signing key (the same as `guestpass-server keys rotate`).
async fn rotate_signing_key(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(rotation): JsonBody<Rotation>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !state.keys_in_store() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "KeysManagedOutside",
            "GUESTPASS_SIGNING_KEY is set: the operator manages the signing key, rotate it there",
        ));
    }
    let starts_in = rotation.starts_in.unwrap_or(0);
    if starts_in > MAX_STARTS_IN {
        return Err(ApiError::bad_request(format!("starts_in is at most {MAX_STARTS_IN} seconds")));
    }
    let key = state.rotate_signing_key(std::time::Duration::from_secs(starts_in)).await?;
    // The kid is public, but 43 base64url characters look like a token to the log scans
    // (scripts/test.sh): its start identifies it well enough.
    let kid_start = key.kid.get(..8).unwrap_or(&key.kid);
    tracing::info!(kid_start, signs_from = key.signs_from / 1000, "admin added a signing key");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "kid": key.kid, "algorithm": key.algorithm, "signs_from": key.signs_from / 1000 })),
    ))
}
