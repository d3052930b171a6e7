//! A tenant's upstream rate budget shared by every replica: one token bucket per tenant in
//! Redis, taken from by an atomic Lua script on Redis's clock, so N replicas together stay
//! within the tenant's budget. A taker that must wait reserves its token and sleeps; a taker
//! dropped before its call gives the token back. When Redis cannot answer, the caller falls back
//! to its replica's own bucket.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::Script;

use crate::shared::Shared;

/// `KEYS[1]`: the bucket; `ARGV`: rate per second, burst, longest acceptable wait (ms).
/// Answers the wait in ms (≥ 0) after reserving a token, or -1 when the wait would be longer
/// (nothing reserved).
const TAKE_SOURCE: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + now_parts[2] / 1000
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate end
if wait > tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
  redis.call('PEXPIRE', KEYS[1], 60000)
  return -1
end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return math.ceil(wait)
";

/// `KEYS[1]`: the bucket; `ARGV[1]`: burst. Gives one reserved token back.
const REFUND_SOURCE: &str = r"
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens then
  redis.call('HSET', KEYS[1], 'tokens', math.min(tonumber(ARGV[1]), tokens + 1))
end
return 1
";

/// Built once: `Script::new` hashes the source (SHA-1) each time it is called.
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(TAKE_SOURCE));
static REFUND: LazyLock<Script> = LazyLock::new(|| Script::new(REFUND_SOURCE));

/// What the shared bucket said.
#[derive(Debug)]
pub(crate) enum Take {
    /// A token is reserved: wait this long, then call (or drop the reservation to give it back).
    After(Duration, SharedReservation),
    /// No token within the longest acceptable wait.
    NoRoom,
}

/// A token reserved in Redis; given back when dropped before [`SharedReservation::spend`].
#[derive(Debug)]
#[must_use]
pub(crate) struct SharedReservation {
    shared: Arc<Shared>,
    key: String,
    burst: u32,
    spent: bool,
}

impl SharedReservation {
    pub(crate) fn spend(mut self) {
        self.spent = true;
    }
}

impl Drop for SharedReservation {
    fn drop(&mut self) {
        if self.spent {
            return;
        }
        let (shared, key, burst) = (self.shared.clone(), self.key.clone(), self.burst);
        // Drop cannot wait: the refund goes out on its own; at worst (Redis gone) the token is
        // lost and the bucket refills it within one interval.
        tokio::spawn(async move {
            shared
                .run("budget_refund", |mut connection| async move {
                    REFUND
                        .key(key)
                        .arg(burst)
                        .invoke_async::<i64>(&mut connection)
                        .await
                })
                .await;
        });
    }
}

/// Takes one call's worth of `tenant`'s shared budget; `None` when Redis cannot answer.
pub(crate) async fn take(
    shared: &Arc<Shared>,
    tenant: &str,
    per_second: f64,
    burst: u32,
    max_wait: Duration,
) -> Option<Take> {
    let key = shared.key(&["budget", tenant]);
    let max_wait_ms = max_wait.as_millis() as u64;
    let script_key = key.clone();
    let answer: i64 = shared
        .run("budget", |mut connection| async move {
            TAKE.key(script_key)
                .arg(per_second)
                .arg(burst)
                .arg(max_wait_ms)
                .invoke_async(&mut connection)
                .await
        })
        .await?;
    Some(match u64::try_from(answer) {
        Ok(wait) => Take::After(
            Duration::from_millis(wait),
            SharedReservation {
                shared: shared.clone(),
                key,
                burst,
                spent: false,
            },
        ),
        Err(_) => Take::NoRoom,
    })
}
