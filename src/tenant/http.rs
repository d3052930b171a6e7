//! One call to a tenant, done properly: circuit breaker, rate budget, management token (refreshed
//! once on 401), deadline, retries where they are safe, metrics, and errors mapped to
//! [`UpstreamError`].
//!
//! Retry rules: a read is retried (up to `retries` times, within the tenant's deadline) after a
//! connection failure, a 429, a 5xx or an unreadable answer, waiting for `Retry-After`, else
//! `X-RateLimit-Reset` plus 0–20 % jitter, else 100 ms·2^attempt ± 10 %. A write is retried only
//! when the tenant certainly did not apply it (connection refused, 401, 429); when it may have
//! (timeout, connection lost, 5xx, unreadable answer) the outcome is reported as unknown.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use super::breaker::{Breaker, Health};
use super::error::UpstreamError;
use super::limiter::{RateLimiter, until_epoch};
use super::token::TokenCache;
use crate::config::{RateLimitConfig, TenantConfig};
use crate::metrics::Metrics;
use crate::shared::Shared;
use crate::shared::budget::Take;

/// Whether a call may be repeated without changing its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Read,
    Write,
}

/// A request to a tenant's Management API.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// Path below the tenant's base URL, segments already percent-encoded.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    /// Metric label: the route template, e.g. `GET /api/v2/users/{id}`.
    pub endpoint: &'static str,
    pub kind: CallKind,
    /// Whether to send the management token (the Authentication API takes none).
    pub authenticated: bool,
}

impl Call {
    pub fn get(endpoint: &'static str, path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            endpoint,
            kind: CallKind::Read,
            authenticated: true,
        }
    }

    pub fn write(
        method: Method,
        endpoint: &'static str,
        path: String,
        body: Option<serde_json::Value>,
    ) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body,
            endpoint,
            kind: CallKind::Write,
            authenticated: true,
        }
    }

    /// An Authentication API call, made without the management token.
    pub fn without_token(mut self) -> Self {
        self.authenticated = false;
        self
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }
}

/// The transport to one tenant, shared by every request.
pub struct TenantHttp {
    tenant: Arc<str>,
    base_url: String,
    http: reqwest::Client,
    tokens: TokenCache,
    limiter: RateLimiter,
    breaker: Breaker,
    timeout: Duration,
    retries: u32,
    metrics: Metrics,
    /// With Redis, the budget is shared by every replica; the local bucket is the fallback.
    shared: Option<Arc<Shared>>,
    budget: RateLimitConfig,
}

impl std::fmt::Debug for TenantHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantHttp")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Attempt<T> {
    Done(Result<T, UpstreamError>),
    /// Try again after this long (if the deadline allows), remembering the error to report if not.
    Retry(Duration, UpstreamError),
    /// The token was refused: refresh it and try again at once.
    RefreshToken,
}

impl TenantHttp {
    pub fn new(
        config: &TenantConfig,
        http: reqwest::Client,
        metrics: Metrics,
        shared: Option<Arc<Shared>>,
    ) -> Self {
        let base_url = config.base_url();
        let secret = config
            .client_secret
            .clone()
            .unwrap_or_else(|| secrecy::SecretString::from(String::new()));
        Self {
            tenant: Arc::from(config.id.as_str()),
            tokens: TokenCache::new(
                &base_url,
                config.client_id.clone(),
                secret,
                config.management_audience(),
            ),
            base_url,
            http,
            limiter: RateLimiter::new(config.rate_limit),
            breaker: Breaker::new(config.breaker),
            timeout: config.timeout,
            retries: config.retries,
            metrics,
            shared,
            budget: config.rate_limit,
        }
    }

    pub fn health(&self) -> Health {
        self.breaker.health()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Makes the call and decodes a JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, UpstreamError> {
        self.execute(call, |body| {
            serde_json::from_slice(body).map_err(|e| e.to_string())
        })
        .await
    }

    /// Makes the call, ignoring the answer's body (204s, plain-text answers).
    pub async fn send(&self, call: &Call) -> Result<(), UpstreamError> {
        self.execute(call, |_| Ok(())).await
    }

    async fn execute<T>(
        &self,
        call: &Call,
        decode: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, UpstreamError> {
        let deadline = Instant::now() + self.timeout;
        let mut attempts = 0;
        let mut refreshed = false;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(UpstreamError::Timeout);
            }
            let Some(permit) = self.breaker.permit() else {
                return Err(UpstreamError::unavailable("circuit open"));
            };
            if !self.take_budget(remaining).await {
                self.breaker.release(permit);
                self.breaker.rate_limited();
                return Err(UpstreamError::RateLimited);
            }
            attempts += 1;
            let span = tracing::debug_span!("upstream", tenant = %self.tenant, endpoint = call.endpoint, attempt = attempts);
            let outcome = self.attempt(call, deadline, &decode).instrument(span).await;
            match outcome {
                Attempt::Done(result) => {
                    let fault = result
                        .as_ref()
                        .err()
                        .is_some_and(UpstreamError::is_tenant_fault);
                    self.breaker.record(permit, fault);
                    return result;
                }
                Attempt::RefreshToken if !refreshed => {
                    self.breaker.record(permit, false);
                    refreshed = true;
                    attempts -= 1;
                }
                Attempt::RefreshToken => {
                    self.breaker.record(permit, false);
                    return Err(UpstreamError::Refused {
                        reason: "token refused after refresh".into(),
                    });
                }
                Attempt::Retry(wait, error) => {
                    self.breaker.record(permit, error.is_tenant_fault());
                    let time_left = deadline.saturating_duration_since(Instant::now());
                    if attempts > self.retries || wait >= time_left {
                        return Err(error);
                    }
                    tracing::debug!(tenant = %self.tenant, endpoint = call.endpoint, ?wait, %error, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One call's worth of the tenant's budget (shared by every replica when Redis is there),
    /// after any pause the tenant asked for; `false` when it cannot come within `max_wait`.
    async fn take_budget(&self, max_wait: Duration) -> bool {
        let paused = self.limiter.paused_for();
        if paused > max_wait {
            return false;
        }
        if let Some(shared) = &self.shared {
            match shared
                .take(&self.tenant, self.budget, max_wait - paused)
                .await
            {
                Some(Take::After(wait)) => {
                    tokio::time::sleep(paused.max(wait)).await;
                    return true;
                }
                Some(Take::NoRoom) => return false,
                // Redis did not answer: this replica's own bucket stands in.
                None => {}
            }
        }
        self.limiter.acquire(max_wait).await.is_ok()
    }

    async fn attempt<T>(
        &self,
        call: &Call,
        deadline: Instant,
        decode: &impl Fn(&[u8]) -> Result<T, String>,
    ) -> Attempt<T> {
        let read = call.kind == CallKind::Read;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let token = if call.authenticated {
            match self.tokens.get(&self.http, remaining).await {
                Ok(token) => Some(token),
                // Nothing was sent to the Management API yet, so even a write may be retried.
                Err(error @ (UpstreamError::Unavailable { .. } | UpstreamError::RateLimited)) => {
                    return Attempt::Retry(backoff(0), error);
                }
                Err(error) => return Attempt::Done(Err(error)),
            }
        } else {
            None
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut request = self
            .http
            .request(
                call.method.clone(),
                format!("{}{}", self.base_url, call.path),
            )
            .timeout(remaining);
        if let Some(token) = &token {
            request = request.bearer_auth(&*token.value);
        }
        if let Some(id) = crate::server::request_id::current() {
            request = request.header(crate::server::request_id::HEADER, &*id);
        }
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let started = Instant::now();
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let limits = RateHeaders::read(response.headers());
                response.bytes().await.map(|body| (status, limits, body))
            }
            Err(error) => Err(error),
        };
        let elapsed = started.elapsed();
        let (status, limits, body) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                let label = if error.is_timeout() {
                    "timeout"
                } else {
                    "error"
                };
                self.metrics
                    .upstream_call(&self.tenant, call.endpoint, Arc::from(label), elapsed);
                tracing::warn!(tenant = %self.tenant, endpoint = call.endpoint, %error, "no answer");
                return self.no_answer(read, &error);
            }
        };
        self.metrics.upstream_call(
            &self.tenant,
            call.endpoint,
            Arc::from(status.as_str()),
            elapsed,
        );
        self.limiter.observe(limits.remaining, limits.reset);

        if status.is_success() {
            return match decode(&body) {
                Ok(value) => Attempt::Done(Ok(value)),
                Err(error) => {
                    tracing::warn!(tenant = %self.tenant, endpoint = call.endpoint, %error, "unreadable answer");
                    if read {
                        Attempt::Retry(backoff(1), UpstreamError::unavailable("unreadable answer"))
                    } else {
                        Attempt::Done(Err(UpstreamError::OutcomeUnknown {
                            reason: "unreadable answer".into(),
                        }))
                    }
                }
            };
        }
        match status {
            StatusCode::UNAUTHORIZED => match &token {
                Some(token) => {
                    self.tokens.invalidate(token);
                    Attempt::RefreshToken
                }
                None => Attempt::Done(Err(UpstreamError::Refused {
                    reason: auth0_message(&body),
                })),
            },
            StatusCode::TOO_MANY_REQUESTS => {
                self.limiter.rate_limited(limits.reset);
                self.breaker.rate_limited();
                // A 429 means the call was not processed: safe to repeat, even a write.
                Attempt::Retry(limits.retry_wait(0), UpstreamError::RateLimited)
            }
            StatusCode::NOT_FOUND => Attempt::Done(Err(UpstreamError::NotFound)),
            StatusCode::CONFLICT => Attempt::Done(Err(UpstreamError::Conflict {
                message: auth0_message(&body),
            })),
            StatusCode::FORBIDDEN => Attempt::Done(Err(UpstreamError::Refused {
                reason: auth0_message(&body),
            })),
            s if s.is_client_error() => Attempt::Done(Err(UpstreamError::BadRequest {
                message: auth0_message(&body),
            })),
            s if read => Attempt::Retry(
                limits.retry_wait(1),
                UpstreamError::unavailable(format!("answered {s}")),
            ),
            s => Attempt::Done(Err(UpstreamError::OutcomeUnknown {
                reason: format!("answered {s}"),
            })),
        }
    }

    fn no_answer<T>(&self, read: bool, error: &reqwest::Error) -> Attempt<T> {
        if error.is_connect() {
            // Refused before anything was sent: nothing was applied.
            return Attempt::Retry(
                backoff(1),
                UpstreamError::unavailable(format!("connection failed: {error}")),
            );
        }
        if read {
            if error.is_timeout() {
                return Attempt::Done(Err(UpstreamError::Timeout));
            }
            return Attempt::Retry(
                backoff(1),
                UpstreamError::unavailable(format!("connection lost: {error}")),
            );
        }
        Attempt::Done(Err(UpstreamError::OutcomeUnknown {
            reason: error.to_string(),
        }))
    }
}

/// The rate-limit headers of an answer, read before its body consumes it.
struct RateHeaders {
    retry_after: Option<u64>,
    remaining: Option<u64>,
    /// `X-RateLimit-Reset`: when the budget refills, in seconds since the epoch.
    reset: Option<u64>,
}

impl RateHeaders {
    fn read(headers: &HeaderMap) -> Self {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        Self {
            retry_after: number("retry-after"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
        }
    }

    /// How long to wait before repeating a call the tenant turned away, as Auth0's SDKs do.
    fn retry_wait(&self, attempt: u32) -> Duration {
        if let Some(seconds) = self.retry_after {
            return Duration::from_secs(seconds).min(MAX_WAIT);
        }
        if let Some(reset) = self.reset {
            let wait = until_epoch(reset);
            let jitter = rand::thread_rng().gen_range(0.0..0.2);
            return wait.mul_f64(1.0 + jitter).min(MAX_WAIT);
        }
        backoff(attempt)
    }
}

const MAX_WAIT: Duration = Duration::from_secs(60);

fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(100) * 2u32.saturating_pow(attempt.min(10));
    let jitter = rand::thread_rng().gen_range(0.9..1.1);
    base.mul_f64(jitter).min(MAX_WAIT)
}

/// Auth0's human `message` from an error body, short and without anything else of the body.
fn auth0_message(body: &[u8]) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "the tenant refused the request".to_owned());
    message.chars().take(300).collect()
}
