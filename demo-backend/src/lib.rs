//! The demo blog's backend, a separate service from the auth server: it owns the articles,
//! reading lists and comments in its own SQLite file, serves the reader's page, and knows users
//! only through their access tokens, verified with the auth server's published keys (JWKS).

pub mod articles;
pub mod config;
pub mod error;
pub mod reader;
pub mod routes;
pub mod store;

use std::sync::Arc;

use axum::{
    http::{header, HeaderValue},
    routing::get,
    Json, Router,
};
use serde_json::json;
use tower_http::{
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
};

use crate::{config::Config, error::ApiError, reader::AuthServer, store::BlogStore};

#[derive(Clone)]
pub struct AppState {
    pub store: BlogStore,
    pub auth: Arc<AuthServer>,
    pub app_id: String,
}

/// Opens the store (seeding the shipped articles) and builds the service.
pub async fn build(config: Config) -> anyhow::Result<Router> {
    let store = BlogStore::open(&config.data)?;
    let seeds = articles::shipped_articles();
    let seeded = store.run(move |c| store::seed_articles(c, &seeds)).await?;
    if seeded > 0 {
        tracing::info!(seeded, "seeded the demo blog's articles");
    }
    let auth = AuthServer::new(&config.auth_url, &config.app_id, config.check_session);
    let state = AppState { store, auth, app_id: config.app_id.clone() };
    Ok(router(state, &config))
}

fn router(state: AppState, config: &Config) -> Router {
    let no_store = SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let mut router = Router::new()
        .nest("/api/blog", routes::router().layer(no_store.clone()))
        // Where the page finds its auth server: the SDK's `baseUrl` and the app id.
        .route("/config.json", get(page_config).layer(no_store))
        .with_state(state.clone());
    if let Some(pkg) = &config.pkg {
        router = router.nest_service("/pkg", ServeDir::new(pkg));
    }
    match &config.www {
        Some(www) => {
            // The page talks to this origin and to the auth server's, nothing else.
            let csp = format!(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self' {}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                state.auth.url()
            );
            let csp = HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'self'"));
            let files = ServeDir::new(www).not_found_service(ServeFile::new(www.join("404.html")));
            router.fallback_service(
                tower::ServiceBuilder::new()
                    .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp))
                    .service(files),
            )
        }
        None => router.fallback(|| async { ApiError::not_found() }),
    }
}

async fn page_config(axum::extract::State(state): axum::extract::State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "app_id": state.app_id, "base_url": state.auth.url() }))
}
