//! Prometheus metrics (`--metrics-listen`): what the server counts and how it is rendered.
//!
//! Every label value is one of a fixed set of words (a provider type, an error code, a route
//! template), never a user id, an email, a token or a raw path, so no label grows with users.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

use crate::store::{Store, UserCounts};

/// The users-by-kind gauge counts rows; a scrape re-counts at most this often.
pub const USER_COUNT_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    provider: &'static str,
    /// `login`, or `link` for `?link=true`.
    kind: &'static str,
    /// `success`, or the error code answered.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    /// The matched route template (`/api/client/v2.0/auth/session`), `unmatched` otherwise.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// A server's metrics; each server owns its registry.
pub struct Metrics {
    registry: Registry,
    logins: Family<LoginLabels, Counter>,
    refreshes: Family<OutcomeLabels, Counter>,
    link_conflicts: Family<ReasonLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    requests: Family<RouteLabels, Histogram, fn() -> Histogram>,
    write_queue: Gauge,
    users: Family<KindLabels, Gauge>,
    /// When the users were last counted.
    users_counted: Mutex<Option<Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("guestpass");
        let logins = Family::default();
        registry.register("logins", "Logins (and links) by provider and outcome", logins.clone());
        let refreshes = Family::default();
        registry.register("refreshes", "Access-token refreshes by outcome", refreshes.clone());
        let link_conflicts = Family::default();
        registry.register(
            "link_conflicts",
            "Links refused because the identity or the provider was taken",
            link_conflicts.clone(),
        );
        let rate_limited = Family::default();
        registry.register("rate_limited", "Requests answered 429, by the limit they hit", rate_limited.clone());
        let requests = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register("request_duration_seconds", "Time to answer a request, by route", requests.clone());
        let write_queue = Gauge::default();
        registry.register("store_write_queue", "Writes waiting for the store's writer", write_queue.clone());
        let users = Family::default();
        registry.register("users", "Users by kind (anonymous, signed_in)", users.clone());
        Metrics {
            registry,
            logins,
            refreshes,
            link_conflicts,
            rate_limited,
            requests,
            write_queue,
            users,
            users_counted: Mutex::new(None),
        }
    }

    pub fn login(&self, provider: &'static str, link: bool, outcome: &'static str) {
        let kind = if link { "link" } else { "login" };
        self.logins.get_or_create(&LoginLabels { provider, kind, outcome }).inc();
    }

    pub fn refresh(&self, outcome: &'static str) {
        self.refreshes.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn link_conflict(&self, reason: &'static str) {
        self.link_conflicts.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited.get_or_create(&LimitLabels { limit }).inc();
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let labels = RouteLabels { method: method.to_owned(), route: route.to_owned(), status };
        self.requests.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// Whether the users gauge is due for a re-count.
    pub fn users_due(&self) -> bool {
        let counted = self.users_counted.lock().unwrap_or_else(|p| p.into_inner());
        counted.is_none_or(|at| at.elapsed() >= USER_COUNT_EVERY)
    }

    pub fn set_users(&self, counts: UserCounts) {
        self.users.get_or_create(&KindLabels { kind: "anonymous" }).set(counts.anonymous as i64);
        self.users.get_or_create(&KindLabels { kind: "signed_in" }).set(counts.signed_in as i64);
        *self.users_counted.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// The text exposition, with the gauges read from `store` now (the user count if due).
    /// Blocks on the store: call it off the async workers.
    pub fn render(&self, store: &dyn Store) -> String {
        self.write_queue.set(store.write_queue_depth() as i64);
        if self.users_due() {
            match store.count_users() {
                Ok(counts) => self.set_users(counts),
                Err(e) => tracing::warn!(error = %e, "counting users for the metrics failed"),
            }
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
