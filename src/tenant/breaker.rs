//! A circuit breaker per tenant, and the health status derived from it.
//!
//! Closed: calls flow; `failures` consecutive tenant faults open it. Open: calls fail at once
//! (a dead tenant costs an error, not a timeout) until `cooldown` has passed. Half-open: one
//! trial call goes through; its success closes the circuit, its failure opens it again.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::BreakerConfig;

/// What clients see in `Tenant.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Up,
    /// Rate limited in the last 30 s, failing without being down yet, or on trial after being down.
    Degraded,
    Down,
}

/// How long a 429 or a failure keeps a tenant DEGRADED.
const DEGRADED_WINDOW: Duration = Duration::from_secs(30);

#[derive(Debug)]
enum Circuit {
    Closed { consecutive_failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

#[derive(Debug)]
struct State {
    circuit: Circuit,
    last_rate_limited: Option<Instant>,
}

#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

/// Permission to make one call; report its outcome with [`Breaker::record`].
#[derive(Debug)]
#[must_use]
pub struct Permit {
    trial: bool,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State {
                circuit: Circuit::Closed {
                    consecutive_failures: 0,
                },
                last_rate_limited: None,
            }),
        }
    }

    /// `None` while the circuit is open (or a half-open trial is already in flight).
    pub fn permit(&self) -> Option<Permit> {
        let mut state = self.state.lock().ok()?;
        let now = Instant::now();
        match state.circuit {
            Circuit::Closed { .. } => Some(Permit { trial: false }),
            Circuit::Open { until } if now >= until => {
                state.circuit = Circuit::HalfOpen {
                    trial_in_flight: true,
                };
                Some(Permit { trial: true })
            }
            Circuit::Open { .. }
            | Circuit::HalfOpen {
                trial_in_flight: true,
            } => None,
            Circuit::HalfOpen {
                trial_in_flight: false,
            } => {
                state.circuit = Circuit::HalfOpen {
                    trial_in_flight: true,
                };
                Some(Permit { trial: true })
            }
        }
    }

    /// Reports a call's outcome: `fault` is true when it says the tenant is unhealthy.
    pub fn record(&self, permit: Permit, fault: bool) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        state.circuit = match (&state.circuit, fault) {
            (_, false) if permit.trial => Circuit::Closed {
                consecutive_failures: 0,
            },
            (_, true) if permit.trial => Circuit::Open {
                until: now + self.config.cooldown,
            },
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
                    Circuit::Open {
                        until: now + self.config.cooldown,
                    }
                } else {
                    Circuit::Closed {
                        consecutive_failures: failures,
                    }
                }
            }
            // A call admitted before the circuit opened finished late: it changes nothing.
            (Circuit::Open { until }, _) => Circuit::Open { until: *until },
            (Circuit::HalfOpen { trial_in_flight }, _) => Circuit::HalfOpen {
                trial_in_flight: *trial_in_flight,
            },
        };
    }

    /// A call ended without an answer that says anything about health (the caller gave up
    /// before sending it, say): a trial permit is handed back.
    pub fn release(&self, permit: Permit) {
        if permit.trial
            && let Ok(mut state) = self.state.lock()
        {
            state.circuit = Circuit::HalfOpen {
                trial_in_flight: false,
            };
        }
    }

    pub fn rate_limited(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.last_rate_limited = Some(Instant::now());
        }
    }

    pub fn health(&self) -> Health {
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
        Breaker::new(BreakerConfig {
            failures: 3,
            cooldown: Duration::from_secs(5),
        })
    }

    fn fail(breaker: &Breaker) {
        let permit = breaker.permit().unwrap();
        breaker.record(permit, true);
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
        breaker.record(trial, false);
        assert_eq!(breaker.health(), Health::Up);
        assert!(breaker.permit().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_trial_opens_the_circuit_again() {
        let breaker = breaker();
        for _ in 0..3 {
            fail(&breaker);
        }
        tokio::time::advance(Duration::from_secs(5)).await;
        fail(&breaker);
        assert_eq!(breaker.health(), Health::Down);
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count() {
        let breaker = breaker();
        fail(&breaker);
        fail(&breaker);
        let ok = breaker.permit().unwrap();
        breaker.record(ok, false);
        fail(&breaker);
        fail(&breaker);
        assert!(breaker.permit().is_some());
    }
}
