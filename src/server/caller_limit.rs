//! The per-caller request budget: the generic cell rate algorithm (GCRA) keyed by caller (a
//! hash of issuer and subject), so one caller cannot crowd the others out; each operation of a
//! batch counts. The same limiter, keyed by client address, counts failed authentications, so a
//! stream of bad tokens costs only a bounded number of signature checks. Over budget answers
//! RATE_LIMITED with `Retry-After`. (What a caller may spend of each tenant's Management API is
//! bounded apart, by its share of that tenant's budget.)

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::RateLimitConfig;

/// Entries kept before idle callers are swept out.
const SWEEP_AT: usize = 10_000;

pub(crate) struct CallerLimiter {
    /// Time between two requests at the sustained rate.
    interval: Duration,
    /// How far ahead of schedule a caller may run (the burst).
    tolerance: Duration,
    /// Per caller, the theoretical arrival time of its next request.
    /// Keyed by a hash of the caller: two callers sharing a hash (as likely as a 64-bit
    /// collision) would share a budget, nothing more.
    schedule: Mutex<HashMap<u64, Instant>>,
    hasher: RandomState,
}

impl std::fmt::Debug for CallerLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerLimiter")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl CallerLimiter {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        let interval = Duration::from_secs_f64(1.0 / config.per_second.max(f64::MIN_POSITIVE));
        Self {
            interval,
            tolerance: interval * config.burst.saturating_sub(1),
            schedule: Mutex::new(HashMap::new()),
            hasher: RandomState::new(),
        }
    }

    /// Admits one request of `caller`, or says how long until it would be admitted.
    pub(crate) fn check<K: Hash + ?Sized>(&self, caller: &K) -> Result<(), Duration> {
        self.check_n(caller, 1)
    }

    /// Admits `n` requests of `caller` at once (a batch), or none.
    pub(crate) fn check_n<K: Hash + ?Sized>(&self, caller: &K, n: usize) -> Result<(), Duration> {
        self.admit(caller, n, true)
    }

    /// Whether one request of `caller` would be admitted now, recording nothing.
    pub(crate) fn peek<K: Hash + ?Sized>(&self, caller: &K) -> Result<(), Duration> {
        self.admit(caller, 1, false)
    }

    fn admit<K: Hash + ?Sized>(&self, caller: &K, n: usize, record: bool) -> Result<(), Duration> {
        let caller = self.hasher.hash_one(caller);
        let now = Instant::now();
        let Ok(mut schedule) = self.schedule.lock() else {
            return Ok(());
        };
        if schedule.len() >= SWEEP_AT {
            schedule.retain(|_, next| *next > now);
        }
        let next = schedule.get(&caller).copied().unwrap_or(now).max(now);
        let extra = self.interval * u32::try_from(n.saturating_sub(1)).unwrap_or(u32::MAX);
        let ahead = (next + extra).saturating_duration_since(now);
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        if record {
            schedule.insert(caller, next + extra + self.interval);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_caller_gets_its_burst_then_the_rate_and_others_are_unaffected() {
        let limiter = CallerLimiter::new(RateLimitConfig {
            per_second: 10.0,
            burst: 3,
        });
        for _ in 0..3 {
            limiter.check("a").unwrap();
        }
        let wait = limiter.check("a").unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        limiter.check("b").unwrap();
        tokio::time::advance(wait).await;
        limiter.check("a").unwrap();
        assert!(limiter.check("a").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_counts_each_operation_and_peeking_spends_nothing() {
        let limiter = CallerLimiter::new(RateLimitConfig {
            per_second: 10.0,
            burst: 5,
        });
        assert!(
            limiter.check_n("a", 6).is_err(),
            "six operations exceed a burst of five"
        );
        limiter.check_n("a", 5).unwrap();
        assert!(limiter.peek("a").is_err());
        limiter.peek("b").unwrap();
        limiter.peek("b").unwrap();
        limiter.check_n("b", 5).unwrap();
    }
}
