//! The per-tenant token bucket over Management API calls and Auth0's `X-RateLimit-*` headers, and
//! the keyed buckets of Authentication API endpoints limited per user and IP.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue};

use crate::clock::unix_now;
use crate::config::RateLimit;

/// What the headers report when no limit is configured: a large nominal bucket that never
/// empties, so clients that pace themselves by the headers run at full speed.
pub const NOMINAL_LIMIT: u64 = 10_000;

/// The outcome of one call against the bucket.
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// UTC epoch seconds at which the bucket is full again.
    pub reset: i64,
}

impl Decision {
    /// The answer during a `rate_limit_storm` fault: empty, refilled in a second.
    pub fn storm(limit: u64) -> Self {
        Self {
            allowed: false,
            limit,
            remaining: 0,
            reset: unix_now() + 1,
        }
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(config: RateLimit) -> Self {
        Self {
            tokens: f64::from(config.burst),
            last: Instant::now(),
        }
    }

    /// Refills for the time since the last call, then takes one token if there is one.
    fn take(&mut self, config: RateLimit) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * config.per_second;
        self.tokens = (self.tokens + refill).min(f64::from(config.burst));
        self.last = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        allowed
    }

    fn is_full(&self, config: RateLimit) -> bool {
        let refill = self.last.elapsed().as_secs_f64() * config.per_second;
        self.tokens + refill >= f64::from(config.burst)
    }
}

pub struct RateLimiter {
    config: Option<RateLimit>,
    bucket: Mutex<Bucket>,
}

impl RateLimiter {
    pub fn new(config: Option<RateLimit>) -> Self {
        let tokens = config.map_or(0.0, |c| f64::from(c.burst));
        Self {
            config,
            bucket: Mutex::new(Bucket {
                tokens,
                last: Instant::now(),
            }),
        }
    }

    pub fn limit(&self) -> u64 {
        self.config.map_or(NOMINAL_LIMIT, |c| u64::from(c.burst))
    }

    /// Takes one token if there is one.
    pub fn check(&self) -> Decision {
        let Some(config) = self.config else {
            return Decision {
                allowed: true,
                limit: NOMINAL_LIMIT,
                remaining: NOMINAL_LIMIT,
                reset: unix_now(),
            };
        };
        let burst = f64::from(config.burst);
        let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let allowed = bucket.take(config);
        let missing = burst - bucket.tokens;
        // Rounded up: a client that waits until `reset` finds the bucket full.
        let seconds_to_full = (missing / config.per_second).ceil();
        let (remaining, wait) = (bucket.tokens.floor() as u64, seconds_to_full as i64);
        Decision {
            allowed,
            limit: u64::from(config.burst),
            remaining,
            reset: unix_now() + wait,
        }
    }
}

/// Buckets per key (for `/dbconnections/change_password`, an email and the caller's IP), each
/// full when first used.
pub struct KeyedRateLimiter<K> {
    config: Option<RateLimit>,
    buckets: Mutex<HashMap<K, Bucket>>,
}

/// Above this many keys, buckets that have refilled completely are forgotten (they hold nothing
/// a new bucket would not).
const KEYED_BUCKETS_KEPT: usize = 10_000;

impl<K: Hash + Eq> KeyedRateLimiter<K> {
    pub fn new(config: Option<RateLimit>) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `key`'s bucket; `false` when it is empty. Always `true` unlimited.
    pub fn allow(&self, key: K) -> bool {
        let Some(config) = self.config else {
            return true;
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= KEYED_BUCKETS_KEPT {
            buckets.retain(|_, bucket| !bucket.is_full(config));
        }
        buckets
            .entry(key)
            .or_insert_with(|| Bucket::full(config))
            .take(config)
    }
}

pub fn set_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    headers.insert("x-ratelimit-reset", HeaderValue::from(decision.reset));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_refuses_and_reports_when_it_is_full() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 1.0,
            burst: 2,
        }));
        let first = limiter.check();
        assert!(first.allowed);
        assert_eq!((first.limit, first.remaining), (2, 1));
        assert!(limiter.check().allowed);
        let refused = limiter.check();
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert!(refused.reset > unix_now() && refused.reset <= unix_now() + 2);
    }

    #[test]
    fn keyed_buckets_are_independent() {
        let limiter = KeyedRateLimiter::new(Some(RateLimit {
            per_second: 0.001,
            burst: 2,
        }));
        assert!(limiter.allow("a"));
        assert!(limiter.allow("a"));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"), "another key has its own bucket");
        assert!(KeyedRateLimiter::new(None).allow("a"));
    }

    #[test]
    fn without_a_limit_everything_passes_with_nominal_headers() {
        let decision = RateLimiter::new(None).check();
        assert!(decision.allowed);
        assert_eq!(decision.remaining, NOMINAL_LIMIT);
    }
}
