//! The `--metrics-listen` listener: `GET /metrics` in Prometheus' text format, and nothing
//! else. Apart from the public listener so that metrics never reach the public network unless
//! the operator puts them there.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use tokio::net::TcpListener;

use crate::state::AppState;

/// The content type Prometheus asks for and prometheus-client writes.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn serve(listener: TcpListener, state: AppState) {
    let router = Router::new().route("/metrics", get(metrics)).with_state(state);
    if let Err(e) = axum::serve(listener, router).await {
        tracing::warn!(error = %e, "the metrics listener stopped");
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    // Reading the gauges touches the store: off the async workers.
    let store = std::sync::Arc::clone(&state.store);
    let rendered = tokio::task::spawn_blocking(move || state.metrics.render(store.as_ref())).await;
    match rendered {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
