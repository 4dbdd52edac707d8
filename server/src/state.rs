//! What every handler shares: the configuration, the store, the token issuer.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, RwLock,
    },
    time::Duration,
};

use crate::{
    admin_key::AdminKey,
    client_addr::TrustedProxies,
    config::Config,
    error::ApiError,
    external_jwt::ExternalJwt,
    limits::Limits,
    merge_proofs::MergeProofs,
    metrics::Metrics,
    outbox::Outbox,
    passkeys::RelyingParty,
    passwords::Passwords,
    signing_keys::{self, KEYS_REREAD},
    store::SigningKeyRecord,
    store::{ProviderRecord, SessionLifetimes, Store, StoreResult},
    tokens::AccessTokens,
};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub tokens: AccessTokens,
    /// Merge proofs, signed with the tokens' keys (issue 14).
    pub merge_proofs: MergeProofs,
    pub passwords: Passwords,
    pub outbox: Outbox,
    /// The `custom-token` verifier; the provider is off without one.
    pub external_jwt: Option<ExternalJwt>,
    pub admin_key: AdminKey,
    pub limits: Limits,
    pub trusted_proxies: TrustedProxies,
    pub metrics: Metrics,
    /// The WebAuthn relying party passkeys are made for and checked against.
    pub relying_party: RelyingParty,
    /// The providers' switches, read on every login; written through to the store.
    providers: RwLock<Vec<ProviderRecord>>,
    /// Counts this process's own switches, so a re-read that began before one never undoes it.
    switches: AtomicU64,
}

/// How often a process on a shared (PostgreSQL) database re-reads the providers' switches:
/// another process's switch takes effect here within this, plus one read, well under 1 s.
/// A short-lived cache rather than LISTEN/NOTIFY: the store's client is synchronous and
/// pooled, so listening would need a connection of its own polled all the same; a read of
/// three rows twice a second is nothing to the database.
pub const SWITCHES_REREAD: Duration = Duration::from_millis(500);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        tokens: AccessTokens,
        external_jwt: Option<ExternalJwt>,
        admin_key: AdminKey,
        relying_party: RelyingParty,
    ) -> StoreResult<Self> {
        let providers = RwLock::new(store.providers()?);
        let link_base = config
            .email_link_base
            .clone()
            .unwrap_or_else(|| config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.listen)));
        let outbox = Outbox::new(config.outbox_path(), link_base);
        let passwords = Passwords::new(config.password_queue);
        let limits = Limits::from_config(&config, Arc::clone(&store).shared_buckets());
        let trusted_proxies = TrustedProxies::new(config.trusted_proxy.clone(), config.forwarded_header);
        let merge_proofs = MergeProofs::new(tokens.clone(), config.merge_proof_ttl);
        Ok(AppState(Arc::new(Inner {
            config,
            store,
            tokens,
            merge_proofs,
            passwords,
            outbox,
            external_jwt,
            admin_key,
            limits,
            trusted_proxies,
            metrics: Metrics::new(),
            relying_party,
            providers,
            switches: AtomicU64::new(0),
        })))
    }

    /// Runs a store call on the blocking pool, so SQLite's fsyncs never stall the async workers.
    pub async fn store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::from)
    }

    pub fn provider_enabled(&self, provider_type: &str) -> bool {
        self.enabled_providers().iter().any(|p| p.provider_type == provider_type)
    }

    /// Providers switched on and usable.
    pub fn enabled_providers(&self) -> Vec<ProviderRecord> {
        self.providers
            .read()
            .map(|list| list.iter().filter(|p| p.enabled && self.provider_configured(p)).cloned().collect())
            .unwrap_or_default()
    }

    /// Whether a provider has what it needs to work: `custom-token` needs a configured key.
    pub fn provider_configured(&self, provider: &ProviderRecord) -> bool {
        match provider.provider_type.as_str() {
            "custom-token" => self.external_jwt.is_some(),
            crate::store::PASSKEY => self.relying_party.is_configured(),
            _ => true,
        }
    }

    /// Activity is written at most this often per user (seconds): often enough for the
    /// inactivity limit and the sessions' idle lifetime (within 1% of the shorter), rarely
    /// enough that reads stay reads.
    pub fn activity_granularity(&self) -> u64 {
        let shortest = self.config.anonymous_inactivity.min(self.config.refresh_token_idle);
        (shortest.as_secs() / 100).clamp(1, 60)
    }

    /// How long signed-in users' sessions live.
    pub fn session_lifetimes(&self) -> SessionLifetimes {
        SessionLifetimes {
            absolute: self.config.refresh_token_ttl.as_secs(),
            idle: self.config.refresh_token_idle.as_secs(),
        }
    }

    /// When an anonymous user last active at `last_active_at` will be deleted.
    pub fn anonymous_expiry(&self, last_active_at: u64) -> u64 {
        last_active_at + self.config.anonymous_inactivity.as_secs()
    }

    /// Re-reads the switches from the store: another process on the same database may have
    /// changed them. A re-read that overlapped a switch made here is dropped (the next one
    /// has it).
    pub async fn reread_provider_switches(&self) -> Result<(), ApiError> {
        let before = self.switches.load(Ordering::SeqCst);
        let list = self.store(|store| store.providers()).await?;
        if let Ok(mut providers) = self.providers.write() {
            if self.switches.load(Ordering::SeqCst) == before {
                *providers = list;
            }
        }
        Ok(())
    }

    /// Keeps the switches in step with the database, for servers sharing one; never returns.
    pub async fn follow_provider_switches(self) {
        let mut ticker = tokio::time::interval(SWITCHES_REREAD);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = self.reread_provider_switches().await {
                tracing::debug!(error = %e, "re-reading the providers' switches failed; trying again");
            }
        }
    }

    /// Switches a provider and updates the switches logins read.
    pub async fn set_provider_enabled(&self, name: String, enabled: bool) -> Result<Option<ProviderRecord>, ApiError> {
        // Counted before the write and after the update, so that a re-read overlapping any
        // part of it is dropped.
        self.switches.fetch_add(1, Ordering::SeqCst);
        let updated = self.store(move |store| store.set_provider_enabled(&name, enabled)).await;
        if let Ok(Some(p)) = &updated {
            if let Ok(mut list) = self.providers.write() {
                for entry in list.iter_mut().filter(|e| e.name == p.name) {
                    entry.enabled = p.enabled;
                }
            }
        }
        self.switches.fetch_add(1, Ordering::SeqCst);
        updated
    }

    /// Whether the signing keys are the store's (not `GUESTPASS_SIGNING_KEY`'s).
    pub fn keys_in_store(&self) -> bool {
        self.config.signing_key.is_none()
    }

    /// Re-reads the signing keys from the store into the ring tokens are signed with.
    pub async fn reread_signing_keys(&self) -> Result<(), ApiError> {
        let records = self.store(|store| store.signing_keys()).await?;
        let ring = self.tokens.ring().with_records(&records, self.tokens.ttl()).map_err(ApiError::internal)?;
        self.tokens.replace_ring(ring);
        Ok(())
    }

    /// Keeps the signing keys in step with the store; never returns.
    pub async fn follow_signing_keys(self) {
        let mut ticker = tokio::time::interval(KEYS_REREAD);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = self.reread_signing_keys().await {
                tracing::debug!(error = %e, "re-reading the signing keys failed; trying again");
            }
        }
    }

    /// Adds a signing key that starts `starts_in` from now, and takes it into use here at once.
    pub async fn rotate_signing_key(&self, starts_in: Duration) -> Result<SigningKeyRecord, ApiError> {
        let ttl = self.tokens.ttl();
        let now = crate::ids::now_millis();
        let key = tokio::task::spawn_blocking({
            let store = Arc::clone(&self.store);
            move || signing_keys::rotate(store.as_ref(), ttl, now, now + starts_in.as_millis() as u64)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            signing_keys::KeyError::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
        self.reread_signing_keys().await?;
        Ok(key)
    }

    /// Checks the app id of an app-scoped route.
    pub fn check_app(&self, app_id: &str) -> Result<(), ApiError> {
        if app_id == self.config.app_id {
            Ok(())
        } else {
            Err(ApiError::app_not_found(app_id))
        }
    }
}
