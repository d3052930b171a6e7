//! Each tenant's upstream rate budget, shared by all replicas: one token bucket per tenant in
//! Redis, taken from by an atomic Lua script using Redis's clock, so N replicas together stay
//! within the tenant's `rate_limit`. A taker that must wait reserves its token and sleeps, as
//! the local bucket does. When Redis cannot answer, the caller falls back to its local bucket.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use super::Shared;
use crate::config::RateLimitConfig;

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
/// Built once: `Script::new` hashes the source (SHA-1) each time it is called.
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(TAKE_SOURCE));

/// What the shared bucket said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// A token is reserved: wait this long, then call.
    After(Duration),
    /// No token within the longest acceptable wait.
    NoRoom,
}

impl Shared {
    /// Takes one call's worth of `tenant`'s shared budget; `None` when Redis cannot answer.
    pub async fn take(
        &self,
        tenant: &str,
        budget: RateLimitConfig,
        max_wait: Duration,
    ) -> Option<Take> {
        let key = self.key(&["budget", tenant]);
        let max_wait_ms = max_wait.as_millis() as u64;
        let answer: i64 = self
            .run("budget", |mut connection| async move {
                TAKE.key(key)
                    .arg(budget.per_second)
                    .arg(budget.burst)
                    .arg(max_wait_ms)
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        Some(match u64::try_from(answer) {
            Ok(wait) => Take::After(Duration::from_millis(wait)),
            Err(_) => Take::NoRoom,
        })
    }
}
