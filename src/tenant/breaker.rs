//! A circuit breaker per tenant, and the health status derived from it.
//!
//! Closed: calls flow; `failures` consecutive tenant faults open it. Open: calls fail at once
//! (a dead tenant costs an error, not a timeout) until `cooldown` has passed. Half-open: one
//! trial call goes through; its success closes the circuit, its failure opens it again. Calls
//! arriving during the trial wait for its outcome (within their deadline) rather than fail: the
//! first request after an outage, often several calls at once, is answered if the tenant is back.
//!
//! A [`Permit`] is a guard: a call that ends without reporting (its future was dropped by a
//! `try_join!` sibling's failure, a client that hung up, a deadline) hands its trial back when the
//! guard drops, so the circuit can never stay half-open with a trial that no one is making. As a
//! second line, a trial older than `stuck_after` is taken as lost.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::BreakerConfig;

/// What clients see in `Tenant.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    Up,
    /// Rate limited in the last 30 s, failing without being down yet, or on trial after being down.
    Degraded,
    Down,
}

/// How long a 429 or a failure keeps a tenant DEGRADED.
const DEGRADED_WINDOW: Duration = Duration::from_secs(30);

#[derive(Debug)]
enum Circuit {
    Closed {
        consecutive_failures: u32,
    },
    Open {
        until: Instant,
    },
    /// `trial`: when the one trial call in flight began.
    HalfOpen {
        trial: Option<Instant>,
    },
}

#[derive(Debug)]
struct State {
    circuit: Circuit,
    last_rate_limited: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    /// A trial in flight longer than this is taken as lost (the call's deadline is shorter).
    stuck_after: Duration,
    state: Mutex<State>,
    /// Wakes the calls waiting for a trial when it ends, whichever way.
    trial_ended: Notify,
}

/// What a call may do now.
enum Admission<'a> {
    Go(Permit<'a>),
    Wait,
    Refused,
}

/// Permission to make one call. Report its outcome with [`Permit::record`]; dropped without a
/// report, it hands a trial back.
#[derive(Debug)]
#[must_use]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    trial: bool,
    settled: bool,
}

impl Permit<'_> {
    /// Reports the call's outcome: `fault` when it says the tenant is unhealthy.
    pub(crate) fn record(mut self, fault: bool) {
        self.settled = true;
        self.breaker.record(self.trial, fault);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled && self.trial {
            self.breaker.release_trial();
        }
    }
}

impl Breaker {
    /// `stuck_after` should exceed the longest a call may take (the tenant's deadline).
    pub(crate) fn new(config: BreakerConfig, stuck_after: Duration) -> Self {
        Self {
            config,
            stuck_after,
            state: Mutex::new(State {
                circuit: Circuit::Closed {
                    consecutive_failures: 0,
                },
                last_rate_limited: None,
            }),
            trial_ended: Notify::new(),
        }
    }

    /// `None` while the circuit is open (or a half-open trial is already in flight).
    #[cfg(test)]
    fn permit(&self) -> Option<Permit<'_>> {
        match self.admit() {
            Admission::Go(permit) => Some(permit),
            Admission::Wait | Admission::Refused => None,
        }
    }

    /// A permit, waiting until `deadline` for a trial in flight to end; `None` while the
    /// circuit is open, or when the trial outlasts the deadline.
    pub(crate) async fn permit_by(&self, deadline: Instant) -> Option<Permit<'_>> {
        loop {
            // Registered before looking, so a trial ending in between still wakes this call.
            let ended = self.trial_ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            match self.admit() {
                Admission::Go(permit) => return Some(permit),
                Admission::Refused => return None,
                Admission::Wait => {
                    if tokio::time::timeout_at(deadline, ended).await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    fn admit(&self) -> Admission<'_> {
        let Ok(mut state) = self.state.lock() else {
            return Admission::Refused;
        };
        let now = Instant::now();
        let trial = match state.circuit {
            Circuit::Closed { .. } => false,
            Circuit::Open { until } if now < until => return Admission::Refused,
            Circuit::HalfOpen { trial: Some(began) }
                if now.duration_since(began) < self.stuck_after =>
            {
                return Admission::Wait;
            }
            // Cooled down, no trial running, or the last one was lost: this call is the trial.
            Circuit::Open { .. } | Circuit::HalfOpen { .. } => {
                state.circuit = Circuit::HalfOpen { trial: Some(now) };
                true
            }
        };
        Admission::Go(Permit {
            breaker: self,
            trial,
            settled: false,
        })
    }

    fn record(&self, trial: bool, fault: bool) {
        self.settle(trial, fault);
        if trial {
            self.trial_ended.notify_waiters();
        }
    }

    fn settle(&self, trial: bool, fault: bool) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        let opened = Circuit::Open {
            until: now + self.config.cooldown,
        };
        state.circuit = match (&state.circuit, fault) {
            (_, false) if trial => Circuit::Closed {
                consecutive_failures: 0,
            },
            (_, true) if trial => opened,
            (Circuit::Closed { .. }, false) => Circuit::Closed {
                consecutive_failures: 0,
            },
            (
                Circuit::Closed {
                    consecutive_failures,
                },
                true,
            ) => {
                let failures = consecutive_failures + 1;
                if failures >= self.config.failures {
                    opened
                } else {
                    Circuit::Closed {
                        consecutive_failures: failures,
                    }
                }
            }
            // A call admitted before the circuit opened finished late: it changes nothing.
            (Circuit::Open { until }, _) => Circuit::Open { until: *until },
            (Circuit::HalfOpen { trial }, _) => Circuit::HalfOpen { trial: *trial },
        };
    }

    /// The trial ended without an answer that says anything about health: the next call may try.
    fn release_trial(&self) {
        if let Ok(mut state) = self.state.lock()
            && matches!(state.circuit, Circuit::HalfOpen { .. })
        {
            state.circuit = Circuit::HalfOpen { trial: None };
        }
        self.trial_ended.notify_waiters();
    }

    pub(crate) fn rate_limited(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.last_rate_limited = Some(Instant::now());
        }
    }

    pub(crate) fn health(&self) -> Health {
        let Ok(state) = self.state.lock() else {
            return Health::Degraded;
        };
        let now = Instant::now();
        let recent =
            |at: Option<Instant>| at.is_some_and(|t| now.duration_since(t) < DEGRADED_WINDOW);
        match state.circuit {
            Circuit::Open { until } if now < until => Health::Down,
            Circuit::Open { .. } | Circuit::HalfOpen { .. } => Health::Degraded,
            Circuit::Closed {
                consecutive_failures,
            } => {
                if consecutive_failures > 0 || recent(state.last_rate_limited) {
                    Health::Degraded
                } else {
                    Health::Up
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(
            BreakerConfig {
                failures: 3,
                cooldown: Duration::from_secs(5),
            },
            Duration::from_secs(30),
        )
    }

    fn fail(breaker: &Breaker) {
        breaker.permit().unwrap().record(true);
    }

    fn open(breaker: &Breaker) {
        for _ in 0..3 {
            fail(breaker);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_closes_after_a_good_trial() {
        let breaker = breaker();
        fail(&breaker);
        assert_eq!(breaker.health(), Health::Degraded);
        fail(&breaker);
        fail(&breaker);
        assert_eq!(breaker.health(), Health::Down);
        assert!(breaker.permit().is_none());

        tokio::time::advance(Duration::from_secs(5)).await;
        let trial = breaker.permit().unwrap();
        assert!(breaker.permit().is_none(), "one trial at a time");
        trial.record(false);
        assert_eq!(breaker.health(), Health::Up);
        assert!(breaker.permit().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_trial_opens_the_circuit_again() {
        let breaker = breaker();
        open(&breaker);
        tokio::time::advance(Duration::from_secs(5)).await;
        fail(&breaker);
        assert_eq!(breaker.health(), Health::Down);
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count() {
        let breaker = breaker();
        fail(&breaker);
        fail(&breaker);
        breaker.permit().unwrap().record(false);
        fail(&breaker);
        fail(&breaker);
        assert!(breaker.permit().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_trial_dropped_without_a_report_lets_the_next_call_try() {
        let breaker = breaker();
        open(&breaker);
        tokio::time::advance(Duration::from_secs(5)).await;
        let trial = breaker.permit().unwrap();
        assert!(breaker.permit().is_none());
        drop(trial);
        let next = breaker.permit().expect("the dropped trial was handed back");
        next.record(false);
        assert_eq!(breaker.health(), Health::Up);
    }

    #[tokio::test(start_paused = true)]
    #[allow(clippy::mem_forget)] // a leaked permit is the case under test
    async fn a_trial_lost_for_longer_than_any_call_takes_is_replaced() {
        let breaker = breaker();
        open(&breaker);
        tokio::time::advance(Duration::from_secs(5)).await;
        let trial = breaker.permit().unwrap();
        // Leaked on purpose: nothing will ever report or drop it.
        std::mem::forget(trial);
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(breaker.permit().is_none());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(
            breaker.permit().is_some(),
            "a stuck trial does not wedge the tenant"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn calls_during_a_trial_wait_for_its_outcome() {
        let breaker = std::sync::Arc::new(breaker());
        open(&breaker);
        tokio::time::advance(Duration::from_secs(5)).await;
        let trial = breaker.permit().unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        let waiting = {
            let breaker = breaker.clone();
            tokio::spawn(async move { breaker.permit_by(deadline).await.is_some() })
        };
        tokio::task::yield_now().await;
        trial.record(false);
        assert!(
            waiting.await.unwrap(),
            "the trial succeeded: the waiter goes"
        );

        open(&breaker);
        tokio::time::advance(Duration::from_secs(5)).await;
        let trial = breaker.permit().unwrap();
        let waiting = {
            let breaker = breaker.clone();
            tokio::spawn(async move {
                breaker
                    .permit_by(deadline + Duration::from_secs(10))
                    .await
                    .is_some()
            })
        };
        tokio::task::yield_now().await;
        trial.record(true);
        assert!(
            !waiting.await.unwrap(),
            "the trial failed: the waiter fails at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_gives_up_at_its_deadline() {
        let breaker = breaker();
        open(&breaker);
        tokio::time::advance(Duration::from_secs(5)).await;
        let _trial = breaker.permit().unwrap();
        let started = Instant::now();
        let deadline = started + Duration::from_millis(300);
        assert!(breaker.permit_by(deadline).await.is_none());
        assert_eq!(started.elapsed(), Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_ordinary_permit_changes_nothing() {
        let breaker = breaker();
        fail(&breaker);
        drop(breaker.permit().unwrap());
        fail(&breaker);
        assert_eq!(
            breaker.health(),
            Health::Degraded,
            "two failures, not three"
        );
    }
}
