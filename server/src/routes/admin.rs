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
    error::ApiError,
    extract::{BearerToken, ClientAddr, JsonBody},
    paging::Paging,
    state::AppState,
    store::{ProviderRecord, UserRecord},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/{id}", delete(delete_user))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/providers", get(list_providers))
        .route("/providers/{name}", put(set_provider))
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
