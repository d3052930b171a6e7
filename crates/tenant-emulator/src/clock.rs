//! The tenant's clock: the seed's reference time advancing with the wall clock, and Auth0's
//! timestamp format.

use std::time::Instant;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

/// Profile timestamps, logs and stats run on this clock so that a seed made for a fixed reference
/// time (tests) stays coherent: "the last 60 days" means the 60 days before that time. Token
/// `iat`/`exp` use the real clock instead, because verifiers compare them with theirs.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    reference: DateTime<Utc>,
    started: Instant,
}

impl Clock {
    pub fn new(reference: DateTime<Utc>) -> Self {
        Self {
            reference,
            started: Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.started.elapsed()).unwrap_or(TimeDelta::zero());
        self.reference + elapsed
    }
}

/// Auth0 writes timestamps as ISO 8601 in UTC with milliseconds: `2024-05-01T12:34:56.789Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Seconds since the Unix epoch on the real clock, for JWT claims and rate-limit headers.
pub fn unix_now() -> i64 {
    Utc::now().timestamp()
}
