//! App-scoped discovery routes: location and the enabled providers.

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    routing::get,
    Json, Router,
};
use guestpass_protocol::answers::{AuthProvider, Location};

use crate::{error::ApiError, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/app/{app_id}/location", get(location)).route("/app/{app_id}/auth/providers", get(providers))
}

/// Where the client should send its requests (realm-web asks this first).
async fn location(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Location>, ApiError> {
    state.check_app(&app_id)?;
    let hostname = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
                .map(str::to_owned)
                .unwrap_or_else(|| state.config.listen.to_string());
            format!("http://{host}")
        }
    };
    let ws_hostname = hostname.replacen("http", "ws", 1);
    Ok(Json(Location { deployment_model: "GLOBAL".into(), location: "local".into(), hostname, ws_hostname }))
}

/// The enabled providers, so a page can tell "no anonymous provider" before trying.
async fn providers(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
) -> Result<Json<Vec<AuthProvider>>, ApiError> {
    state.check_app(&app_id)?;
    let list = state
        .enabled_providers()
        .into_iter()
        .map(|p| AuthProvider { name: p.name.to_string(), kind: p.provider_type.to_string() })
        .collect();
    Ok(Json(list))
}
