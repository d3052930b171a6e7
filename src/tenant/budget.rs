//! The rate budget of one tenant's Management API: a token bucket (in Redis when replicas share
//! it, else local), a share of it per caller, and what the tenant's own headers say.
//!
//! - **Reservations**: a taker that must wait reserves its token and sleeps, so concurrent takers
//!   are spaced out instead of retrying at once. A taker dropped while waiting (its request was
//!   cancelled, a sibling in a `try_join!` failed) gives its token back.
//! - **Caller shares**: each caller (by a hash of issuer and subject) draws from a bucket of its
//!   own holding `caller_share` of the tenant's rate and burst before it draws from the tenant's,
//!   so one caller can never spend the whole budget: another caller's read still finds room.
//!   Shares are per replica.
//! - **The tenant's word**: every answer's `X-RateLimit-Limit` caps the burst, and
//!   `X-RateLimit-Remaining` caps the tokens we think are left. When the tenant says it is empty
//!   (`Remaining: 0`, or a 429), calls are not stopped until `X-RateLimit-Reset`: Auth0's bucket
//!   refills continuously, so the rate becomes what the headers announce (the bucket's size over
//!   the time until it is full again), and calls are paced at it. That announced rate holds for
//!   [`ADAPTED_FOR`] after the last such answer, so a free or development tenant (about 2 and
//!   under 1 call/s) configured with the default 16/s adapts at its first 429 instead of failing
//!   every burst.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::shared_budget::{self, Take};
use crate::config::TenantRateLimit;
use crate::shared::Shared;

/// How long a rate the tenant announced (by running out) stays in force.
pub(crate) const ADAPTED_FOR: Duration = Duration::from_secs(600);

/// The slowest rate ever assumed: Auth0's non-production tenants are below 1/s, not below this.
const SLOWEST: f64 = 0.1;

/// Caller shares kept before idle ones are swept out.
const SWEEP_SHARES_AT: usize = 10_000;

/// A token bucket; `tokens` may go negative: tokens promised to waiting takers.
#[derive(Debug, Clone)]
struct Bucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(per_second: f64, burst: f64, now: Instant) -> Self {
        Self {
            per_second,
            burst,
            tokens: burst,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.updated = now;
    }

    /// Refills at the old rate up to now, then takes the new rate and size.
    fn retune(&mut self, per_second: f64, burst: f64, now: Instant) {
        self.refill(now);
        self.per_second = per_second;
        self.burst = burst;
        self.tokens = self.tokens.min(burst);
    }

    /// Reserves a token, answering how long until it is due; nothing is taken when that is
    /// longer than `max_wait`.
    fn reserve(&mut self, now: Instant, max_wait: Duration) -> Result<Duration, NoRoom> {
        self.refill(now);
        let wait = if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        };
        if wait > max_wait {
            return Err(NoRoom { wait });
        }
        self.tokens -= 1.0;
        Ok(wait)
    }

    fn refund(&mut self) {
        self.tokens = (self.tokens + 1.0).min(self.burst);
    }

    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.burst
    }
}

/// No call may be made within the wait the caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoRoom {
    /// How long until there would have been room (for the local buckets; zero when unknown).
    pub(crate) wait: Duration,
}

/// Whose bucket a reservation was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Tenant,
    Share(u64),
}

#[derive(Debug)]
struct State {
    tenant: Bucket,
    shares: HashMap<u64, Bucket>,
    /// The bucket size the tenant's answers announce (`X-RateLimit-Limit`).
    announced_burst: Option<f64>,
    /// The rate the tenant showed when it ran out, and until when it is believed.
    announced_rate: Option<(f64, Instant)>,
}

/// Who a call is made for, when the budget should know: a hash of its issuer and subject.
pub(crate) type CallerKey = u64;

#[derive(Debug)]
pub(crate) struct Budget {
    tenant: Arc<str>,
    configured: TenantRateLimit,
    state: Mutex<State>,
    /// With Redis the tenant's bucket is shared by every replica; the local one is the fallback.
    shared: Option<Arc<Shared>>,
}

/// A token taken from a local bucket, given back if dropped before [`Reservation::spend`].
#[must_use]
struct Reservation<'a> {
    budget: &'a Budget,
    which: Which,
    spent: bool,
}

impl Reservation<'_> {
    fn spend(mut self) {
        self.spent = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.spent {
            return;
        }
        if let Ok(mut state) = self.budget.state.lock() {
            match self.which {
                Which::Tenant => state.tenant.refund(),
                Which::Share(caller) => {
                    if let Some(share) = state.shares.get_mut(&caller) {
                        share.refund();
                    }
                }
            }
        }
    }
}

impl Budget {
    pub(crate) fn new(
        tenant: Arc<str>,
        configured: TenantRateLimit,
        shared: Option<Arc<Shared>>,
    ) -> Self {
        let burst = f64::from(configured.burst.max(1));
        Self {
            tenant,
            state: Mutex::new(State {
                tenant: Bucket::full(configured.per_second, burst, Instant::now()),
                shares: HashMap::new(),
                announced_burst: None,
                announced_rate: None,
            }),
            configured,
            shared,
        }
    }

    /// The rate and burst in force: the configured ones, lowered to what the tenant announced.
    fn effective(&self, state: &State, now: Instant) -> (f64, f64) {
        let mut rate = self.configured.per_second;
        let mut burst = f64::from(self.configured.burst.max(1));
        if let Some((announced, until)) = state.announced_rate
            && now < until
        {
            rate = rate.min(announced);
        }
        if let Some(announced) = state.announced_burst {
            burst = burst.min(announced.max(1.0));
        }
        (rate.max(SLOWEST), burst)
    }

    /// Takes one call's worth of budget for `caller` (its share first, then the tenant's),
    /// waiting up to `max_wait`. Cancellation-safe: dropped while waiting, nothing is spent.
    pub(crate) async fn take(
        &self,
        caller: Option<CallerKey>,
        max_wait: Duration,
    ) -> Result<(), NoRoom> {
        let started = Instant::now();
        let share = match caller {
            Some(caller) if self.configured.caller_share < 1.0 => {
                let (wait, reservation) = self.reserve_local(Which::Share(caller), max_wait)?;
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                Some(reservation)
            }
            _ => None,
        };
        let left = max_wait.saturating_sub(started.elapsed());
        // On failure the share's reservation drops here and its token goes back.
        self.take_tenant(left).await?;
        if let Some(share) = share {
            share.spend();
        }
        Ok(())
    }

    async fn take_tenant(&self, max_wait: Duration) -> Result<(), NoRoom> {
        if let Some(shared) = &self.shared {
            let (rate, burst) = match self.state.lock() {
                Ok(state) => self.effective(&state, Instant::now()),
                Err(_) => (self.configured.per_second, f64::from(self.configured.burst)),
            };
            match shared_budget::take(shared, &self.tenant, rate, burst as u32, max_wait).await {
                Some(Take::After(wait, reservation)) => {
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    reservation.spend();
                    return Ok(());
                }
                Some(Take::NoRoom) => {
                    return Err(NoRoom {
                        wait: Duration::ZERO,
                    });
                }
                // Redis did not answer: this replica's own bucket stands in.
                None => {}
            }
        }
        let (wait, reservation) = self.reserve_local(Which::Tenant, max_wait)?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        reservation.spend();
        Ok(())
    }

    fn reserve_local(
        &self,
        which: Which,
        max_wait: Duration,
    ) -> Result<(Duration, Reservation<'_>), NoRoom> {
        let Ok(mut state) = self.state.lock() else {
            // A poisoned lock means a panic elsewhere; do not make it a second failure here.
            return Ok((
                Duration::ZERO,
                Reservation {
                    budget: self,
                    which,
                    spent: true,
                },
            ));
        };
        let now = Instant::now();
        let (rate, burst) = self.effective(&state, now);
        let wait = match which {
            Which::Tenant => {
                state.tenant.retune(rate, burst, now);
                state.tenant.reserve(now, max_wait)?
            }
            Which::Share(caller) => {
                let share = self.configured.caller_share;
                let (rate, burst) = (rate * share, (burst * share).floor().max(1.0));
                if state.shares.len() >= SWEEP_SHARES_AT {
                    state.shares.retain(|_, bucket| !bucket.is_full(now));
                }
                let bucket = state
                    .shares
                    .entry(caller)
                    .or_insert_with(|| Bucket::full(rate, burst, now));
                bucket.retune(rate, burst, now);
                bucket.reserve(now, max_wait)?
            }
        };
        Ok((
            wait,
            Reservation {
                budget: self,
                which,
                spent: false,
            },
        ))
    }

    /// Takes in what an answer's rate-limit headers say; `exhausted` for a 429.
    pub(crate) fn observe(&self, headers: &RateHeaders, exhausted: bool) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        if let Some(limit) = headers.limit {
            state.announced_burst = Some(limit as f64);
        }
        let (rate, burst) = self.effective(&state, now);
        state.tenant.retune(rate, burst, now);
        if let Some(remaining) = headers.remaining {
            state.tenant.tokens = state.tenant.tokens.min(remaining as f64);
        }
        if exhausted || headers.remaining == Some(0) {
            // Full again by the reset: size over time to reset is the refill rate.
            let until_reset = headers
                .reset
                .map(until_epoch)
                .filter(|d| !d.is_zero())
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(60));
            let size = headers.limit.map_or(burst, |l| l as f64).max(1.0);
            let announced = (size / until_reset.as_secs_f64()).max(SLOWEST);
            state.announced_rate = Some((announced, now + ADAPTED_FOR));
            let (rate, burst) = self.effective(&state, now);
            state.tenant.retune(rate, burst, now);
            state.tenant.tokens = state.tenant.tokens.min(0.0);
        }
    }

    /// The rate in force.
    #[cfg(test)]
    fn rate(&self) -> f64 {
        match self.state.lock() {
            Ok(state) => self.effective(&state, Instant::now()).0,
            Err(_) => self.configured.per_second,
        }
    }
}

/// The rate-limit headers of an answer, read before its body consumes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RateHeaders {
    /// `Retry-After`, in seconds or as an HTTP date, as a wait from now.
    pub(crate) retry_after: Option<Duration>,
    pub(crate) limit: Option<u64>,
    pub(crate) remaining: Option<u64>,
    /// `X-RateLimit-Reset`: when the bucket is full again, in seconds since the epoch.
    pub(crate) reset: Option<u64>,
}

impl RateHeaders {
    pub(crate) fn read(headers: &reqwest::header::HeaderMap) -> Self {
        let text = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
        let number = |name: &str| -> Option<u64> { text(name)?.parse().ok() };
        Self {
            retry_after: text("retry-after").and_then(retry_after),
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110), as a wait from now.
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = u64::try_from(at.timestamp()).ok()?;
    Some(until_epoch(at))
}

/// Time from now until a UTC epoch second (zero when past).
pub(crate) fn until_epoch(epoch_seconds: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_secs(epoch_seconds).saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_second: f64, burst: u32, caller_share: f64) -> Budget {
        Budget::new(
            Arc::from("t"),
            TenantRateLimit {
                per_second,
                burst,
                caller_share,
            },
            None,
        )
    }

    /// The epoch second `seconds` from now, as a tenant's `X-RateLimit-Reset` says it.
    fn epoch_in(seconds: u64) -> u64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        now.as_secs() + seconds
    }

    #[tokio::test(start_paused = true)]
    async fn the_burst_is_free_then_calls_are_spaced() {
        let budget = budget(10.0, 3, 1.0);
        let start = Instant::now();
        for _ in 0..3 {
            budget.take(None, Duration::from_secs(1)).await.unwrap();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        budget.take(None, Duration::from_secs(1)).await.unwrap();
        budget.take(None, Duration::from_secs(1)).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_longer_than_allowed_takes_nothing() {
        let budget = budget(1.0, 1, 1.0);
        budget.take(None, Duration::ZERO).await.unwrap();
        let refused = budget
            .take(None, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(refused.wait, Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        // The refused call did not spend the token that has now refilled.
        budget.take(None, Duration::ZERO).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_taker_dropped_while_waiting_gives_its_token_back() {
        let budget = budget(1.0, 1, 1.0);
        budget.take(None, Duration::ZERO).await.unwrap();
        // Waits a second for its token, and is cancelled half-way.
        let waiting = budget.take(None, Duration::from_secs(5));
        assert!(
            tokio::time::timeout(Duration::from_millis(500), waiting)
                .await
                .is_err()
        );
        tokio::time::advance(Duration::from_millis(500)).await;
        // Without the refund the next token would be due a second later.
        budget.take(None, Duration::ZERO).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_tenant_paces_calls_instead_of_stopping_until_the_reset() {
        let budget = budget(100.0, 100, 1.0);
        let headers = RateHeaders {
            limit: Some(10),
            remaining: Some(0),
            reset: Some(epoch_in(5)),
            ..RateHeaders::default()
        };
        budget.observe(&headers, false);
        // Ten tokens refill over the five seconds or so to the reset: one every half second or so.
        let rate = budget.rate();
        assert!((1.6..=2.6).contains(&rate), "{rate}");
        let start = Instant::now();
        budget.take(None, Duration::from_secs(3)).await.unwrap();
        let first = start.elapsed();
        assert!(
            first >= Duration::from_millis(350) && first <= Duration::from_millis(650),
            "{first:?}, not the five seconds to the reset"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_adapts_the_default_budget_to_a_slow_tenant() {
        let budget = budget(16.0, 16, 1.0);
        // A free tenant: two tokens, refilled in about two seconds (the reset is a whole second,
        // rounded up, so the rate read from it is at most the real one).
        let headers = RateHeaders {
            limit: Some(2),
            remaining: Some(0),
            reset: Some(epoch_in(2)),
            ..RateHeaders::default()
        };
        budget.observe(&headers, true);
        assert!(budget.rate() <= 2.0, "{}", budget.rate());
        tokio::time::advance(ADAPTED_FOR).await;
        assert_eq!(budget.rate(), 16.0, "the adapted rate lapses");
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_caps_what_is_believed_left() {
        let budget = budget(1.0, 10, 1.0);
        budget.observe(
            &RateHeaders {
                remaining: Some(1),
                ..RateHeaders::default()
            },
            false,
        );
        budget.take(None, Duration::ZERO).await.unwrap();
        assert!(budget.take(None, Duration::ZERO).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn one_caller_spends_only_its_share_and_another_still_gets_through() {
        let budget = budget(10.0, 10, 0.5);
        let greedy = Some(1);
        for _ in 0..5 {
            budget.take(greedy, Duration::ZERO).await.unwrap();
        }
        assert!(
            budget.take(greedy, Duration::ZERO).await.is_err(),
            "its share of the burst is five"
        );
        budget
            .take(Some(2), Duration::ZERO)
            .await
            .expect("another caller finds room at once");
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        let in_a_minute = chrono::Utc::now() + chrono::Duration::seconds(60);
        let date = in_a_minute.to_rfc2822().replace("+0000", "GMT");
        let wait = retry_after(&date).unwrap();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }
}
