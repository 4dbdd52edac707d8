//! Building the application: open the store, load the key, bind the listener.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    admin_key::AdminKey,
    config::Config,
    external_jwt::ExternalJwt,
    routes,
    state::AppState,
    store::{PostgresStore, SqliteStore, Store},
    tokens::AccessTokens,
};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let external_jwt = ExternalJwt::from_config(&config)?;
        let admin_key = AdminKey::from_config(&config)?;
        let store = open_store(&config).await?;
        let ring = crate::keys::load_ring(&config, &store).await?;
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        warn_without_public_url(&config, listener.local_addr()?);
        let issuer = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", listener.local_addr().unwrap_or(config.listen)));
        let tokens =
            AccessTokens::new(ring, &issuer, &config.app_id, config.access_token_ttl, config.anonymous_inactivity);
        // Off the async workers: the PostgreSQL client blocks (AppState::new reads the switches).
        let state = tokio::task::spawn_blocking(move || AppState::new(config, store, tokens, external_jwt, admin_key))
            .await??;
        let seeded = state.store(|store| store.seed_articles(&crate::blog::shipped_articles())).await?;
        if seeded > 0 {
            tracing::info!(seeded, "seeded the demo blog's articles");
        }
        let router = routes::router(state.clone());
        Ok(Application { listener, router, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let sweeper = tokio::spawn(crate::cleanup::run(self.state.clone()));
        // Several processes may share a PostgreSQL database: follow the switches they make.
        let switches =
            self.state.config.postgres_url().map(|_| tokio::spawn(self.state.clone().follow_provider_switches()));
        // Another process (or `keys rotate`) may add a key to the store: follow it.
        let keys = self.state.keys_in_store().then(|| tokio::spawn(self.state.clone().follow_signing_keys()));
        let served = crate::serve::serve(self.listener, self.router, &self.state.config, shutdown_signal()).await;
        sweeper.abort();
        if let Some(switches) = switches {
            switches.abort();
        }
        if let Some(keys) = keys {
            keys.abort();
        }
        served
    }
}

/// The store `--data` names: a PostgreSQL URL, else a SQLite file.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let Some(url) = config.postgres_url() else {
        return Ok(Arc::new(SqliteStore::open_with(&config.data, config.database_busy_timeout)?));
    };
    let (url, pool_size) = (url.to_owned(), config.database_pool_size);
    let store = tokio::task::spawn_blocking(move || PostgresStore::open(&url, pool_size)).await??;
    Ok(Arc::new(store))
}

/// Without `--public-url` the location route answers with the request's Host header, which any
/// client sets: fine on loopback, not where others connect.
fn warn_without_public_url(config: &Config, addr: SocketAddr) {
    if config.public_url.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            listen = %addr,
            "no --public-url: the location route answers with the Host header each client sends; \
             set --public-url (GUESTPASS_PUBLIC_URL) to this server's public origin in production"
        );
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
