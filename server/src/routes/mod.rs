//! The HTTP surface: the client API under `/api/client/v2.0`, and the static demo and SDK.

mod admin;
mod app;
mod health;
mod intent;
mod login;
mod merge;
mod merging;
mod passkey;
mod session;
mod userpass;
mod wellknown;

use std::time::Duration;

use axum::{
    error_handling::HandleErrorLayer,
    http::{header, HeaderValue, Method},
    response::{IntoResponse, Response},
    BoxError, Router,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{error::ApiError, state::AppState};

pub const API_PREFIX: &str = "/api/client/v2.0";

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(app::router())
        .merge(login::router())
        .merge(passkey::router())
        .merge(merge::router())
        .merge(session::router())
        .merge(userpass::router())
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .fallback(|| async { ApiError::not_found() })
        // Token responses must never be cached (RFC 6749 §5.1).
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(cors())
        .with_state(state.clone());

    let json_api = |routes: Router<AppState>| {
        routes
            .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
            .fallback(|| async { ApiError::not_found() })
            .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .with_state(state.clone())
    };
    // The admin API has no CORS: only the console, on this origin, calls it, so a preflight
    // from any other origin gets no Access-Control-Allow-Origin.
    let mut router = Router::new()
        .nest(API_PREFIX, api)
        .nest("/api/admin", json_api(admin::router()))
        .merge(wellknown::router().layer(cors()).with_state(state.clone()));
    if state.config.test_panic_route {
        tracing::warn!("--test-panic-route: GET /api/test/panic panics on purpose; for tests only");
        router = router.route("/api/test/panic", axum::routing::get(panic_on_purpose));
    }
    if let Some(pkg) = state.config.pkg_dir() {
        router = router
            .nest_service("/pkg", ServiceBuilder::new().layer(cors()).layer(compression()).service(static_files(&pkg)));
    }
    router = match &state.config.www {
        Some(www) => {
            let files = static_files(www).not_found_service(ServeFile::new(www.join("404.html")));
            router.fallback_service(
                ServiceBuilder::new()
                    .layer(SetResponseHeaderLayer::if_not_present(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(PAGE_CSP),
                    ))
                    .layer(compression())
                    .service(files),
            )
        }
        None => router.fallback(|| async { ApiError::not_found() }),
    };

    let config = &state.config;
    router
        // Each matched route names its template to the request log (request_log.rs).
        .route_layer(axum::middleware::from_fn(crate::request_log::tag_route))
        // Innermost: a request has `--request-timeout` from its headers to its answer (a slow
        // upload included); at most `--concurrency-limit` are served at once, the surplus gets
        // 503 at once instead of a queue. The limit is one semaphore for every route.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|e: BoxError| async move { edge_error(&e) }))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(config.concurrency_limit.max(1)))
                .timeout(config.request_timeout),
        )
        // The probes, outside the concurrency limit: a busy server that answers is healthy.
        .merge(health::router().with_state(state.clone()))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| -> Response {
            ApiError::internal("a handler panicked").into_response()
        }))
        .layer(TraceLayer::new_for_http())
        // Outermost: the request id and its span cover everything above, panics included.
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::request_log::log_request))
}

/// The demo's pages load only their own scripts, styles and the SDK's wasm, and may not be
/// framed (no clickjacking of the console's buttons).
const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// What the timeout and the concurrency limit answer, in the protocol's error shape.
fn edge_error(error: &BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::request_timeout()
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        ApiError::overloaded("requests", 1)
    } else {
        ApiError::internal(error)
    }
}

/// `--test-panic-route` (hidden, off by default): a handler that panics, so a test can show
/// that the binary as built for release answers 500 in the protocol's shape and goes on.
async fn panic_on_purpose() -> &'static str {
    panic!("GET /api/test/panic was called (--test-panic-route)")
}

/// A directory of static files. A file's precompressed copy beside it (`X.br`, `X.gz`, as
/// scripts/build-sdk.sh writes for the SDK) is sent instead when the browser accepts it:
/// brotli at its best quality is 16% smaller than on the fly for the wasm, and too slow to
/// make per request. Other files are compressed on the fly ([`compression`] skips a response
/// that already has its encoding).
fn static_files(dir: &std::path::Path) -> ServeDir {
    ServeDir::new(dir).precompressed_br().precompressed_gzip()
}

/// Static files (the page, the SDK's wasm and glue) go compressed when the browser accepts it:
/// on a slow phone link the bytes of the SDK are most of the time to a first user. API answers
/// are small and carry tokens, so they are not compressed (no BREACH-style oracle).
fn compression() -> CompressionLayer {
    CompressionLayer::new().gzip(true).br(true)
}

/// Pages on any origin may call the API: tokens travel in `Authorization`, never in cookies,
/// so there are no ambient credentials for another origin to ride on.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}
