//! Rate limits: a token bucket per client address for anonymous sign-ups (governor's GCRA),
//! so one address cannot mint users without bound.

use std::{net::IpAddr, num::NonZeroU32};

use governor::{
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
    Quota, RateLimiter,
};

use crate::config::Rate;

pub struct SignupLimiter {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>,
    clock: DefaultClock,
}

impl std::fmt::Debug for SignupLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignupLimiter")
    }
}

impl SignupLimiter {
    /// A bucket of `rate.count` sign-ups per address, refilled evenly over `rate.period`.
    pub fn new(rate: Rate) -> Self {
        let count = NonZeroU32::new(rate.count).unwrap_or(NonZeroU32::MIN);
        let per_token = (rate.period / count.get()).max(std::time::Duration::from_nanos(1));
        let quota = Quota::with_period(per_token).unwrap_or_else(|| Quota::per_second(count)).allow_burst(count);
        SignupLimiter { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// Takes a token for `addr`, or says how many whole seconds until one is free.
    pub fn check(&self, addr: IpAddr) -> Result<(), u64> {
        self.limiter.check_key(&addr).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets addresses whose buckets are full again (keeps memory bounded).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_come_back() {
        let limiter = SignupLimiter::new(Rate { count: 3, period: Duration::from_secs(60) });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
        let wait = limiter.check(a).unwrap_err();
        assert!((1..=20).contains(&wait), "one token per 20 s, waited {wait}");
        assert_eq!(limiter.check(b), Ok(()), "another address has its own bucket");
    }
}
