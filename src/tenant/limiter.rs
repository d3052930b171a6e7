//! The rate budget of one tenant: a local token bucket, plus obedience to what the tenant says
//! about its own limit (`X-RateLimit-Remaining: 0` and 429 pause calls until `X-RateLimit-Reset`).

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::config::RateLimitConfig;

/// A token bucket whose takers reserve their turn: a caller that must wait sleeps until its
/// token is due, so concurrent callers are spaced out instead of all retrying at once.
#[derive(Debug)]
struct Bucket {
    per_second: f64,
    burst: f64,
    /// May go negative: tokens already promised to waiting callers.
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.updated = now;
    }

    /// How long a new taker would wait for its token.
    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }
}

#[derive(Debug)]
struct State {
    bucket: Bucket,
    /// The tenant said it has no room until then.
    paused_until: Option<Instant>,
}

/// Why no call may be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom {
    /// How long until there would be room.
    pub wait: Duration,
}

#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        let burst = f64::from(config.burst.max(1));
        Self {
            state: Mutex::new(State {
                bucket: Bucket {
                    per_second: config.per_second,
                    burst,
                    tokens: burst,
                    updated: Instant::now(),
                },
                paused_until: None,
            }),
        }
    }

    /// Takes one call's worth of budget, waiting up to `max_wait` for it. When the wait would
    /// be longer nothing is taken and the caller learns how long it would have been.
    pub async fn acquire(&self, max_wait: Duration) -> Result<(), NoRoom> {
        let wait = {
            let Ok(mut state) = self.state.lock() else {
                return Ok(());
            };
            let now = Instant::now();
            state.bucket.refill(now);
            let paused = state
                .paused_until
                .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
            let wait = state.bucket.wait().max(paused);
            if wait > max_wait {
                return Err(NoRoom { wait });
            }
            state.bucket.tokens -= 1.0;
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// How long the tenant asked us to hold off (after a 429 or `Remaining: 0`).
    pub fn paused_for(&self) -> Duration {
        let Ok(state) = self.state.lock() else {
            return Duration::ZERO;
        };
        state.paused_until.map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        })
    }

    /// Records the tenant's `X-RateLimit-Remaining` / `X-RateLimit-Reset` (epoch seconds).
    pub fn observe(&self, remaining: Option<u64>, reset_epoch: Option<u64>) {
        if remaining == Some(0) {
            self.pause_until_reset(reset_epoch);
        }
    }

    /// The tenant answered 429: no calls until its reset time (or a second when it gave none).
    pub fn rate_limited(&self, reset_epoch: Option<u64>) {
        self.pause_until_reset(reset_epoch);
    }

    fn pause_until_reset(&self, reset_epoch: Option<u64>) {
        let pause = reset_epoch
            .map(until_epoch)
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(1))
            // A tenant's clock far ahead must not stall us for long.
            .min(Duration::from_secs(60));
        if let Ok(mut state) = self.state.lock() {
            let until = Instant::now() + pause;
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
    }
}

/// Time from now until a UTC epoch second (zero when past).
pub fn until_epoch(epoch_seconds: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_secs(epoch_seconds).saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimitConfig { per_second, burst })
    }

    #[tokio::test(start_paused = true)]
    async fn the_burst_is_free_then_calls_are_spaced() {
        let limiter = limiter(10.0, 3);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire(Duration::from_secs(1)).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire(Duration::from_secs(1)).await.unwrap();
        limiter.acquire(Duration::from_secs(1)).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_longer_than_allowed_takes_nothing() {
        let limiter = limiter(1.0, 1);
        limiter.acquire(Duration::ZERO).await.unwrap();
        let refused = limiter
            .acquire(Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(refused.wait, Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        // The refused call did not spend the token that has now refilled.
        limiter.acquire(Duration::ZERO).await.unwrap();
    }

    /// The epoch second `seconds` from now, as a tenant's `X-RateLimit-Reset` says it.
    fn epoch_in(seconds: u64) -> u64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        now.as_secs() + seconds
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_zero_pauses_until_the_reset() {
        let limiter = limiter(100.0, 100);
        limiter.observe(Some(1), Some(epoch_in(3)));
        limiter.acquire(Duration::ZERO).await.unwrap();
        limiter.observe(Some(0), Some(epoch_in(3)));
        let refused = limiter
            .acquire(Duration::from_millis(10))
            .await
            .unwrap_err();
        // The reset is a whole second: between two and three seconds from now.
        assert!(
            refused.wait > Duration::from_secs(2) && refused.wait <= Duration::from_secs(3),
            "{:?}",
            refused.wait
        );
        limiter.acquire(Duration::from_secs(4)).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_is_a_second_without_a_reset_and_a_minute_at_most() {
        let limiter = limiter(100.0, 100);
        limiter.observe(Some(0), None);
        let refused = limiter.acquire(Duration::ZERO).await.unwrap_err();
        assert_eq!(refused.wait, Duration::from_secs(1));

        let limiter = self::limiter(100.0, 100);
        limiter.rate_limited(Some(epoch_in(3600)));
        let refused = limiter.acquire(Duration::ZERO).await.unwrap_err();
        assert_eq!(refused.wait, Duration::from_secs(60));
    }
}
