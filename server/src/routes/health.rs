//! `GET /healthz` (the process answers) and `GET /readyz` (so does its store), for load
//! balancers and orchestrators: no key, no rate limit, no log line per probe, outside the
//! concurrency limit (a probe must not be shed when the server is busy but well).

use std::time::Duration;

use axum::{extract::State, routing::get, Json, Router};
use serde_json::{json, Value};

use crate::{error::ApiError, state::AppState};

/// A store that has not answered within this is not ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let ping = state.store(|store| store.ping());
    match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ok" }))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness probe: the store failed");
            Err(ApiError::unavailable("the store is not answering", 1))
        }
        Err(_) => {
            tracing::warn!("readiness probe: the store did not answer in time");
            Err(ApiError::unavailable("the store is not answering", 1))
        }
    }
}
