//! Rate limits and throttles, all token buckets of governor's GCRA: anonymous sign-ups,
//! registrations and mails per client; failed password logins per account and per client; wrong
//! admin keys per client. Clients are keyed by [`ClientKey`] (an IPv6 client by its /64).
//! One process on its database keeps them in memory; processes sharing a PostgreSQL database
//! keep them there, so that N processes do not multiply a limit by N.

use std::{
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::Arc,
    time::{Duration, Instant},
};

use dashmap::DashMap;
use governor::{
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
    Quota, RateLimiter,
};

use crate::{
    config::{Config, Rate},
    store::{BucketRate, SharedBuckets, StoreError},
};

/// The bucket a client address counts against: an IPv4 address, or the /64 of an IPv6 one
/// (one subscriber gets a whole /64, so its 2^64 addresses must share one bucket). An
/// IPv4-mapped IPv6 address counts as its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => ClientKey(IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1)))),
            },
        }
    }
}

/// How a key is named in the shared buckets (which keep only its digest).
pub trait BucketKey: Hash + Eq + Clone + Send + Sync + 'static {
    fn bucket_key(&self) -> String;
}

impl BucketKey for ClientKey {
    fn bucket_key(&self) -> String {
        self.0.to_string()
    }
}

impl BucketKey for String {
    fn bucket_key(&self) -> String {
        self.clone()
    }
}

/// A refusal's wait in whole seconds, or the store's failure to say (the database being down).
pub type Checked = Result<Result<(), u64>, StoreError>;

/// A token bucket per key: `rate.count` events, refilled evenly over `rate.period`. In this
/// process's memory (governor) when one process has the database, in the database when
/// several share it.
pub struct RateLimit<K: BucketKey> {
    buckets: Buckets<K>,
}

enum Buckets<K: BucketKey> {
    Local { limiter: RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>, clock: DefaultClock },
    Shared { name: &'static str, rate: BucketRate, store: Arc<dyn SharedBuckets> },
}

impl<K: BucketKey> std::fmt::Debug for RateLimit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimit")
    }
}

impl<K: BucketKey> RateLimit<K> {
    /// Buckets in this process's memory.
    pub fn new(rate: Rate) -> Self {
        let count = NonZeroU32::new(rate.count).unwrap_or(NonZeroU32::MIN);
        let per_token = (rate.period / count.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(per_token).unwrap_or_else(|| Quota::per_second(count)).allow_burst(count);
        RateLimit { buckets: Buckets::Local { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default() } }
    }

    /// Buckets named `name` in the database every process shares.
    pub fn shared(name: &'static str, rate: Rate, store: Arc<dyn SharedBuckets>) -> Self {
        let rate = BucketRate { count: rate.count.max(1), period: rate.period };
        RateLimit { buckets: Buckets::Shared { name, rate, store } }
    }

    /// Takes a token for `key`, or says how many whole seconds until one is free.
    pub async fn check(&self, key: &K) -> Checked {
        match &self.buckets {
            Buckets::Local { limiter, clock } => {
                Ok(limiter.check_key(key).map_err(|not_until| whole_seconds(not_until.wait_time_from(clock.now()))))
            }
            Buckets::Shared { name, rate, store } => {
                let (name, rate, store, key) = (*name, *rate, Arc::clone(store), key.bucket_key());
                let wait = blocking(move || store.take(name, &key, rate)).await?;
                Ok(wait.map_or(Ok(()), |wait| Err(whole_seconds(wait))))
            }
        }
    }

    /// Forgets keys whose buckets are full again (keeps memory bounded); the shared buckets
    /// are pruned by [`Limits::forget_idle`].
    pub fn forget_idle(&self) {
        if let Buckets::Local { limiter, .. } = &self.buckets {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Runs a call of the (blocking) shared buckets on tokio's blocking pool. A panic there goes
/// on in the handler (which the panic guard answers 500), as one in the store would.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Unavailable(e.to_string())),
    }
}

/// Backoff on failures: a key may fail `rate.count` times at once, then once per
/// `rate.period / rate.count`. A key past its bucket is refused *before* the attempt is
/// judged, whatever it carries (the right password included), until the bucket has a token:
/// otherwise the answer to a throttled guess would still tell a right one from a wrong one.
/// Successes cost nothing. governor counts; the map only remembers who is refused until when,
/// as governor cannot be asked whether a key has a token without taking it. The shared
/// buckets keep that time in the key's row.
pub struct FailureLimit<K: BucketKey> {
    failures: RateLimit<K>,
    refused_until: DashMap<K, Instant>,
}

impl<K: BucketKey> std::fmt::Debug for FailureLimit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FailureLimit")
    }
}

impl<K: BucketKey> FailureLimit<K> {
    pub fn new(rate: Rate) -> Self {
        FailureLimit { failures: RateLimit::new(rate), refused_until: DashMap::new() }
    }

    pub fn shared(name: &'static str, rate: Rate, store: Arc<dyn SharedBuckets>) -> Self {
        FailureLimit { failures: RateLimit::shared(name, rate, store), refused_until: DashMap::new() }
    }

    /// Whether `key` may make an attempt now; if not, the whole seconds to wait.
    pub async fn check(&self, key: &K) -> Checked {
        if let Buckets::Shared { name, store, .. } = &self.failures.buckets {
            let (name, store, key) = (*name, Arc::clone(store), key.bucket_key());
            let wait = blocking(move || store.refused_for(name, &key)).await?;
            return Ok(wait.map_or(Ok(()), |wait| Err(whole_seconds(wait))));
        }
        let now = Instant::now();
        Ok(match self.refused_until.get(key).map(|until| *until) {
            Some(until) if until > now => Err(whole_seconds(until - now)),
            Some(_) => {
                self.refused_until.remove_if(key, |_, until| *until <= now);
                Ok(())
            }
            None => Ok(()),
        })
    }

    /// Counts a failure of `key`; one past the bucket refuses the key until a token is free.
    pub async fn record_failure(&self, key: &K) -> Result<(), StoreError> {
        let refused = self.failures.check(key).await?;
        if let (Err(wait), Buckets::Local { .. }) = (refused, &self.failures.buckets) {
            self.refused_until.insert(key.clone(), Instant::now() + Duration::from_secs(wait));
        }
        Ok(())
    }

    pub fn forget_idle(&self) {
        self.failures.forget_idle();
        let now = Instant::now();
        self.refused_until.retain(|_, until| *until > now);
        self.refused_until.shrink_to_fit();
    }
}

fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Every limit the routes apply, built from the configuration.
#[derive(Debug)]
pub struct Limits {
    pub anonymous_signups: RateLimit<ClientKey>,
    pub registrations: RateLimit<ClientKey>,
    /// `confirm/send` and `reset/send`, per client and per recipient.
    pub mails_by_client: RateLimit<ClientKey>,
    pub mails_by_recipient: RateLimit<String>,
    /// Failed password logins, by canonical email (known or not) and by client.
    pub login_failures_by_account: FailureLimit<String>,
    pub login_failures_by_client: FailureLimit<ClientKey>,
    pub admin_key_failures: FailureLimit<ClientKey>,
    /// The database's buckets, when the limits are kept there.
    shared: Option<Arc<dyn SharedBuckets>>,
}

impl Limits {
    /// The configured limits, in the database's shared buckets when `shared` is given (several
    /// processes on one PostgreSQL database), else in this process's memory.
    pub fn from_config(config: &Config, shared: Option<Arc<dyn SharedBuckets>>) -> Self {
        let Some(store) = shared else {
            return Limits {
                anonymous_signups: RateLimit::new(config.anonymous_signup_limit),
                registrations: RateLimit::new(config.registration_limit),
                mails_by_client: RateLimit::new(config.email_send_limit),
                mails_by_recipient: RateLimit::new(config.email_send_limit_per_recipient),
                login_failures_by_account: FailureLimit::new(config.login_failure_limit),
                login_failures_by_client: FailureLimit::new(config.login_failure_limit_per_address),
                admin_key_failures: FailureLimit::new(config.admin_key_failure_limit),
                shared: None,
            };
        };
        let s = || Arc::clone(&store);
        Limits {
            anonymous_signups: RateLimit::shared("anonymous-signups", config.anonymous_signup_limit, s()),
            registrations: RateLimit::shared("registrations", config.registration_limit, s()),
            mails_by_client: RateLimit::shared("mails-by-client", config.email_send_limit, s()),
            mails_by_recipient: RateLimit::shared("mails-by-recipient", config.email_send_limit_per_recipient, s()),
            login_failures_by_account: FailureLimit::shared(
                "login-failures-by-account",
                config.login_failure_limit,
                s(),
            ),
            login_failures_by_client: FailureLimit::shared(
                "login-failures-by-client",
                config.login_failure_limit_per_address,
                s(),
            ),
            admin_key_failures: FailureLimit::shared("admin-key-failures", config.admin_key_failure_limit, s()),
            shared: Some(store),
        }
    }

    /// Forgets every key whose bucket is full again (run by the cleanup task).
    pub async fn forget_idle(&self) -> Result<usize, StoreError> {
        self.anonymous_signups.forget_idle();
        self.registrations.forget_idle();
        self.mails_by_client.forget_idle();
        self.mails_by_recipient.forget_idle();
        self.login_failures_by_account.forget_idle();
        self.login_failures_by_client.forget_idle();
        self.admin_key_failures.forget_idle();
        match &self.shared {
            Some(store) => {
                let store = Arc::clone(store);
                blocking(move || store.forget_full()).await
            }
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ClientKey {
        ClientKey::of(s.parse().unwrap())
    }

    #[tokio::test]
    async fn a_bucket_allows_its_burst_then_says_when_to_come_back() {
        let limiter = RateLimit::new(Rate { count: 3, period: Duration::from_secs(60) });
        let (a, b) = (key("10.0.0.1"), key("10.0.0.2"));
        for _ in 0..3 {
            assert_eq!(limiter.check(&a).await.unwrap(), Ok(()));
        }
        let wait = limiter.check(&a).await.unwrap().unwrap_err();
        assert!((1..=20).contains(&wait), "one token per 20 s, waited {wait}");
        assert_eq!(limiter.check(&b).await.unwrap(), Ok(()), "another address has its own bucket");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2::"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"), "a mapped IPv4 address is that address");
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"), "IPv4 addresses stay whole");
    }

    #[tokio::test]
    async fn failures_past_the_bucket_refuse_the_key_and_successes_cost_nothing() {
        let limit = FailureLimit::new(Rate { count: 2, period: Duration::from_secs(60) });
        let (a, b) = ("a".to_owned(), "b".to_owned());
        for _ in 0..100 {
            assert_eq!(limit.check(&a).await.unwrap(), Ok(()), "checks alone never refuse");
        }
        limit.record_failure(&a).await.unwrap();
        limit.record_failure(&a).await.unwrap();
        assert_eq!(limit.check(&a).await.unwrap(), Ok(()), "the burst is two failures");
        limit.record_failure(&a).await.unwrap();
        let wait = limit.check(&a).await.unwrap().unwrap_err();
        assert!((1..=30).contains(&wait), "one failure per 30 s, waited {wait}");
        assert_eq!(limit.check(&b).await.unwrap(), Ok(()));
    }
}
