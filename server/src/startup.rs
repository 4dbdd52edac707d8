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
    /// `--metrics-listen`: the metrics' own listener.
    metrics_listener: Option<TcpListener>,
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
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (--metrics-listen)"))?,
            ),
            None => None,
        };
        let issuer = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", listener.local_addr().unwrap_or(config.listen)));
        let tokens =
            AccessTokens::new(ring, &issuer, &config.app_id, config.access_token_ttl, config.anonymous_inactivity);
        let relying_party = crate::passkeys::RelyingParty::from_config(&config, listener.local_addr()?.port())?;
        // Off the async workers: the PostgreSQL client blocks (AppState::new reads the switches).
        let state = tokio::task::spawn_blocking(move || {
            AppState::new(config, store, tokens, external_jwt, admin_key, relying_party)
        })
        .await??;
        let router = routes::router(state.clone());
        Ok(Application { listener, metrics_listener, router, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Where the metrics are served, with `--metrics-listen`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight (for at most
    /// `--shutdown-timeout`) and the store's queued writes.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let sweeper = tokio::spawn(crate::cleanup::run(self.state.clone()));
        let metrics = self.metrics_listener.map(|listener| {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!("metrics at http://{addr}/metrics");
            }
            tokio::spawn(crate::metrics_server::serve(listener, self.state.clone()))
        });
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
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        // Requests cut off by the timeout may still have writes queued: they commit (or fail)
        // before the process ends, so nothing is left half-done in the writer.
        match self.state.store(|store| store.flush()).await {
            Ok(()) => tracing::info!("stopped"),
            Err(e) => tracing::warn!(error = %e, "stopped; the store's last writes failed"),
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
    tokio::select! {
        _ = ctrl_c => tracing::info!("interrupted: stopping, finishing the requests in flight"),
        _ = terminate => tracing::info!("SIGTERM: stopping, finishing the requests in flight"),
    }
}
