//! Each request's id, its log line and its latency: the outermost layer of the router.
//!
//! The id comes from `X-Request-Id` only when the socket's peer is a `--trusted-proxy` (anyone
//! else could write anything there), else it is made here; it is the `id` of the request's
//! span, so every line logged while serving it carries it, and it is sent back in the
//! answer's `X-Request-Id`. Health probes are neither logged nor timed: a load balancer asks
//! every few seconds.

use std::{net::SocketAddr, time::Instant};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A proxy's id is kept only if it is this short and printable (it goes into logs).
const MAX_ID_LEN: usize = 128;

/// The route template a request matched, carried from the router to this layer in the
/// answer's extensions (the layer runs before routing, so it cannot see `MatchedPath`).
#[derive(Clone)]
pub struct RouteTemplate(pub String);

/// Set inside the router (a route layer): tags the answer with its route's template.
pub async fn tag_route(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(RouteTemplate(matched.as_str().to_owned()));
    }
    response
}

/// The paths that are answered without a log line or a latency sample.
pub fn is_probe(path: &str) -> bool {
    path == "/healthz" || path == "/readyz"
}

pub async fn log_request(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let sent = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| usable_id(id));
    let id = match (sent, peer) {
        (Some(sent), Some(peer)) if state.trusted_proxies.trusts_peer(peer) => sent.to_owned(),
        _ => new_id(),
    };
    let value = HeaderValue::from_str(&id).expect("a request id is visible ASCII");
    request.headers_mut().insert(REQUEST_ID, value.clone());
    let probe = is_probe(request.uri().path());
    let method = request.method().clone();
    // At error level, so the span (and its id) is there whatever level RUST_LOG lets through.
    let span = tracing::error_span!("request", id = %id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    response.headers_mut().insert(REQUEST_ID, value);
    if !probe {
        let route = response.extensions().get::<RouteTemplate>().map_or("unmatched", |r| r.0.as_str());
        let status = response.status().as_u16();
        state.metrics.request(method.as_str(), route, status, took);
        if status == 429 {
            // Every 429 is counted: one whose limit is not named counts as `other`.
            let limit = response.extensions().get::<crate::error::LimitHit>().map_or("other", |l| l.0);
            state.metrics.rate_limited(limit);
        }
        // The template, never the raw path: paths can carry ids and tokens (confirm links).
        // At debug: one line per request is an access log, which a proxy usually keeps.
        span.in_scope(|| {
            tracing::debug!(method = %method, route, status, ms = took.as_secs_f64() * 1000.0, "answered");
        });
    }
    response
}

fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// 16 random bytes in hex.
fn new_id() -> String {
    hex::encode(crate::ids::random_bytes::<16>())
}
