//! One call to a tenant, done properly.
//!
//! Management API calls pass the circuit breaker, the rate budget (the caller's share, then the
//! tenant's), the credentials check and the management token (refreshed once on 401), run under
//! the tenant's deadline, are retried where that is safe, counted in the metrics, and end in an
//! [`UpstreamError`] the layers above can map. Authentication API calls (the password-reset
//! email) take none of the Management API's token, budget or breaker: Auth0 limits them apart
//! (per endpoint, some per user and IP), and one of their 429s says nothing about the
//! Management API.
//!
//! Retry rules. Auth0's own SDKs retry only 429s (node-auth0 4.x: three times, 500 ms·2^n plus
//! jitter; auth0-python 4.x: three times, 100 ms·(2^n−1)), reading no header. tenantgraph does
//! more, because one gateway serves many callers from one budget: a read is retried (up to
//! `retries` times, within the deadline) after a connection failure, a 429, a 5xx or an
//! unreadable answer; a 429 waits for `Retry-After` (seconds or an HTTP date) and then for the
//! budget, which paces calls at the rate the tenant's headers announce; other failures wait
//! 100 ms·2^attempt ± 10 %. A write is retried only when the tenant certainly did not apply it
//! (connection refused, 401, 429); when it may have (timeout, connection lost, 5xx, unreadable
//! answer), the outcome is reported as unknown.
//!
//! Traces. A call is one span (`crate::telemetry::upstream`), its waits and retries inside, and
//! every request it sends carries that span's W3C trace context.
//!
//! Credentials. When the token endpoint refuses the client, or the Management API still answers
//! 401 to a fresh token, the credentials are taken as refused: calls fail at once (no token
//! request, which Auth0 counts against the monthly machine-to-machine quota) and the tenant is
//! DOWN with the reason "credentials refused: …" (what the tenant answered, and a placeholder in
//! the configuration if there is one); one call tries again after the tenant's
//! `credentials_retry` (30 s by default), then after twice as long each time, up to 10 minutes.
//! `super::probe` tries them once at start-up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use super::breaker::{Breaker, Health};
use super::budget::{Budget, RateHeaders};
use super::error::UpstreamError;
use super::token::TokenCache;
use crate::config::{MAX_CREDENTIALS_RETRY, TenantConfig};
use crate::metrics::Metrics;
use crate::shared::Shared;
use crate::telemetry::upstream::{CallSpan, Peer};

/// Whether a call may be repeated without changing its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Read,
    Write,
}

/// A request to a tenant's Management API.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Path below the tenant's base URL, segments already percent-encoded.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<serde_json::Value>,
    /// Metric label: the route template, e.g. `GET /api/v2/users/{id}`.
    pub(crate) endpoint: &'static str,
    pub(crate) kind: CallKind,
}

impl Call {
    pub(crate) fn get(endpoint: &'static str, path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            endpoint,
            kind: CallKind::Read,
        }
    }

    pub(crate) fn write(
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
        }
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }
}

/// A tenant's health and, when it is not up, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) health: Health,
    pub(crate) reason: Option<Arc<str>>,
    /// DOWN because the tenant refuses the credentials (a set-up fault, not an outage).
    pub(crate) credentials_refused: bool,
}

/// How the reason of a tenant whose credentials are refused begins.
pub(crate) const CREDENTIALS_REFUSED: &str = "credentials refused";

/// The credentials were refused: until when calls fail at once, the pause after that, and why
/// (the status reason, whole).
#[derive(Debug, Clone)]
struct Refusal {
    retry_at: Instant,
    pause: Duration,
    reason: Arc<str>,
}

/// The transport to one tenant, shared by every request.
pub(crate) struct TenantHttp {
    tenant: Arc<str>,
    base_url: String,
    auth_base_url: String,
    http: reqwest::Client,
    tokens: TokenCache,
    budget: Budget,
    breaker: Breaker,
    refused: Mutex<Option<Refusal>>,
    /// The first pause after the credentials were refused.
    credentials_retry: Duration,
    /// What in the configured credentials is a placeholder, if anything: added to every reason
    /// they are refused for.
    placeholder: Option<String>,
    timeout: Duration,
    retries: u32,
    metrics: Metrics,
    /// Where the Management API and the Authentication API are, for the calls' spans.
    peer: Peer,
    auth_peer: Peer,
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
    pub(crate) fn new(
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
        let tenant: Arc<str> = Arc::from(config.id.as_str());
        let peer = Peer::of(&base_url);
        let auth_base_url = config.authentication_base_url();
        let placeholder = super::placeholder::describe(config);
        Self {
            tokens: TokenCache::new(
                &base_url,
                config.client_id.clone(),
                secret,
                config.management_audience(),
                tenant.clone(),
            ),
            auth_peer: Peer::of(&auth_base_url),
            auth_base_url,
            peer,
            base_url,
            http,
            budget: Budget::new(tenant.clone(), config.rate_limit, shared),
            // No call outlives its deadline: a trial older than twice that was lost.
            breaker: Breaker::new(config.breaker, config.timeout * 2),
            refused: Mutex::new(None),
            credentials_retry: config.credentials_retry,
            placeholder,
            timeout: config.timeout,
            retries: config.retries,
            metrics,
            tenant,
        }
    }

    pub(crate) fn status(&self) -> Status {
        if let Some(refusal) = self.refusal() {
            return Status {
                health: Health::Down,
                reason: Some(refusal.reason),
                credentials_refused: true,
            };
        }
        let health = self.breaker.health();
        let reason = match health {
            Health::Up => None,
            Health::Degraded => Some("rate limited, failing, or on trial after failures"),
            Health::Down => Some("unreachable: circuit open after repeated failures"),
        };
        Status {
            health,
            reason: reason.map(Arc::from),
            credentials_refused: false,
        }
    }

    /// Makes the call and decodes a JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, UpstreamError> {
        self.execute(call, |body| {
            serde_json::from_slice(body).map_err(|e| e.to_string())
        })
        .await
    }

    /// Makes the call, ignoring the answer's body (204s).
    pub(crate) async fn send(&self, call: &Call) -> Result<(), UpstreamError> {
        self.execute(call, |_| Ok(())).await
    }

    fn refusal(&self) -> Option<Refusal> {
        self.refused.lock().ok()?.clone()
    }

    /// Refuses the call at once while the credentials are known to be refused; past the pause,
    /// lets this one call through to try again (others keep failing meanwhile).
    fn admit(&self) -> Result<(), UpstreamError> {
        let Ok(mut refused) = self.refused.lock() else {
            return Ok(());
        };
        let Some(refusal) = refused.as_mut() else {
            return Ok(());
        };
        let now = Instant::now();
        if now < refusal.retry_at {
            return Err(UpstreamError::CredentialsRefused {
                reason: refusal.reason.to_string(),
            });
        }
        refusal.retry_at = now + refusal.pause;
        Ok(())
    }

    /// Takes the credentials as refused for `why` (what the tenant answered, or that they are
    /// placeholders): the tenant is DOWN, and its calls fail at once until the next try.
    pub(super) fn credentials_refused(&self, why: &str) {
        let Ok(mut refused) = self.refused.lock() else {
            return;
        };
        let pause = refused.as_ref().map_or(self.credentials_retry, |r| {
            (r.pause * 2).min(MAX_CREDENTIALS_RETRY)
        });
        let reason = match &self.placeholder {
            Some(placeholder) if !why.contains(placeholder.as_str()) => {
                format!("{CREDENTIALS_REFUSED}: {why}; {placeholder}")
            }
            _ => format!("{CREDENTIALS_REFUSED}: {why}"),
        };
        if refused.as_ref().is_none_or(|r| *r.reason != *reason) {
            // Never the secret: the reason holds what the tenant answered and the variable's name.
            tracing::error!(tenant = %self.tenant, %reason, "the tenant refuses tenantgraph's credentials: it is DOWN and its calls fail until they are accepted");
        }
        *refused = Some(Refusal {
            retry_at: Instant::now() + pause,
            pause,
            reason: Arc::from(reason),
        });
    }

    /// The deadline of one call to this tenant.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What in the configured credentials is a placeholder, if anything.
    pub(super) fn placeholder(&self) -> Option<&str> {
        self.placeholder.as_deref()
    }

    /// Asks for a management token within `limit` (the token is kept for the calls that follow).
    pub(super) async fn request_token(&self, limit: Duration) -> Result<(), UpstreamError> {
        self.tokens.get(&self.http, limit).await.map(drop)
    }

    /// The tenant did not answer at all: one failure for the breaker (DEGRADED until it answers).
    pub(super) async fn unanswered(&self) {
        let deadline = Instant::now() + self.timeout;
        if let Some(permit) = self.breaker.permit_by(deadline).await {
            permit.record(true);
        }
    }

    fn credentials_accepted(&self) {
        if let Ok(mut refused) = self.refused.lock()
            && refused.take().is_some()
        {
            tracing::info!(tenant = %self.tenant, "the tenant accepts tenantgraph's credentials again");
        }
    }

    async fn execute<T>(
        &self,
        call: &Call,
        decode: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, UpstreamError> {
        CallSpan::start(&self.tenant, &self.peer, call.endpoint)
            .around(
                async |trace| self.call(call, &decode, trace).await,
                UpstreamError::kind,
            )
            .await
    }

    /// The call with its breaker, budget, token and retries.
    async fn call<T>(
        &self,
        call: &Call,
        decode: &impl Fn(&[u8]) -> Result<T, String>,
        trace: &mut CallSpan,
    ) -> Result<T, UpstreamError> {
        let deadline = Instant::now() + self.timeout;
        let caller = crate::request::current().and_then(|r| r.caller);
        let mut attempts = 0;
        let mut refreshed = false;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(UpstreamError::Timeout);
            }
            self.admit()?;
            let Some(permit) = self.breaker.permit_by(deadline).await else {
                return Err(UpstreamError::unavailable("circuit open"));
            };
            // A slot must leave the call time to be made: one at the end of the deadline would
            // only time out, spend the tenant's budget, and count against the tenant's health.
            // Dropping the permit here (no room) hands a trial back.
            let room = remaining.saturating_sub(self.timeout / 10);
            if self.budget.take(caller, room).await.is_err() {
                self.breaker.rate_limited();
                return Err(UpstreamError::RateLimited);
            }
            attempts += 1;
            let span = tracing::debug_span!("upstream", tenant = %self.tenant, endpoint = call.endpoint, attempt = attempts);
            let outcome = self
                .attempt(call, deadline, attempts, decode, trace)
                .instrument(span)
                .await;
            match outcome {
                Attempt::Done(result) => {
                    let fault = result
                        .as_ref()
                        .err()
                        .is_some_and(UpstreamError::is_tenant_fault);
                    permit.record(fault);
                    match &result {
                        Err(UpstreamError::CredentialsRefused { reason }) => {
                            self.credentials_refused(reason);
                        }
                        _ => self.credentials_accepted(),
                    }
                    return result;
                }
                Attempt::RefreshToken if !refreshed => {
                    permit.record(false);
                    refreshed = true;
                    attempts -= 1;
                }
                Attempt::RefreshToken => {
                    permit.record(false);
                    let reason = "the Management API answered 401 to a fresh token".to_owned();
                    self.credentials_refused(&reason);
                    return Err(UpstreamError::CredentialsRefused { reason });
                }
                Attempt::Retry(wait, error) => {
                    permit.record(error.is_tenant_fault());
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

    async fn attempt<T>(
        &self,
        call: &Call,
        deadline: Instant,
        attempt: u32,
        decode: &impl Fn(&[u8]) -> Result<T, String>,
        trace: &mut CallSpan,
    ) -> Attempt<T> {
        let read = call.kind == CallKind::Read;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let token = match self.tokens.get(&self.http, remaining).await {
            Ok(token) => token,
            // Nothing was sent to the Management API yet, so even a write may be retried.
            Err(error @ (UpstreamError::Unavailable { .. } | UpstreamError::RateLimited)) => {
                return Attempt::Retry(backoff(attempt), error);
            }
            Err(error) => return Attempt::Done(Err(error)),
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut request = self
            .http
            .request(
                call.method.clone(),
                format!("{}{}", self.base_url, call.path),
            )
            .timeout(remaining)
            .bearer_auth(&*token.value);
        if let Some(id) = crate::request::current_id() {
            request = request.header(crate::request::HEADER, &*id);
        }
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let started = Instant::now();
        let answer = match trace.sending(request).send().await {
            Ok(response) => {
                let status = response.status();
                trace.answered(status);
                let limits = RateHeaders::read(response.headers());
                response.bytes().await.map(|body| (status, limits, body))
            }
            Err(error) => Err(error),
        };
        let elapsed = started.elapsed();
        let (status, limits, body) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.metrics.upstream_call(
                    &self.tenant,
                    call.endpoint,
                    failure_label(&error),
                    elapsed,
                );
                tracing::warn!(tenant = %self.tenant, endpoint = call.endpoint, %error, "no answer");
                return no_answer(read, attempt, &error);
            }
        };
        self.metrics.upstream_call(
            &self.tenant,
            call.endpoint,
            Arc::from(status.as_str()),
            elapsed,
        );
        let exhausted = status == StatusCode::TOO_MANY_REQUESTS;
        self.budget.observe(&limits, exhausted);

        if status.is_success() {
            return match decode(&body) {
                Ok(value) => Attempt::Done(Ok(value)),
                Err(error) => {
                    tracing::warn!(tenant = %self.tenant, endpoint = call.endpoint, %error, "unreadable answer");
                    if read {
                        Attempt::Retry(
                            backoff(attempt),
                            UpstreamError::unavailable("unreadable answer"),
                        )
                    } else {
                        Attempt::Done(Err(UpstreamError::OutcomeUnknown {
                            reason: "unreadable answer".into(),
                        }))
                    }
                }
            };
        }
        match status {
            StatusCode::UNAUTHORIZED => {
                self.tokens.invalidate(&token);
                Attempt::RefreshToken
            }
            StatusCode::TOO_MANY_REQUESTS => {
                self.breaker.rate_limited();
                // A 429 means the call was not processed: safe to repeat, even a write. The
                // budget, which has just learnt the tenant's rate, paces the retry.
                let wait = limits.retry_after.unwrap_or_else(jitter).min(MAX_WAIT);
                Attempt::Retry(wait, UpstreamError::RateLimited)
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
                backoff(attempt),
                UpstreamError::unavailable(format!("answered {s}")),
            ),
            s => Attempt::Done(Err(UpstreamError::OutcomeUnknown {
                reason: format!("answered {s}"),
            })),
        }
    }

    /// A `POST` to the tenant's Authentication API (on its custom domain when it has one),
    /// outside the Management API's token, budget and breaker. Its refusals carry Auth0's
    /// `error_description`, which is about the caller's own request and is passed on.
    pub(crate) async fn authentication_post(
        &self,
        endpoint: &'static str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(), UpstreamError> {
        CallSpan::start(&self.tenant, &self.auth_peer, endpoint)
            .around(
                async |trace| self.post_authentication(endpoint, path, body, trace).await,
                UpstreamError::kind,
            )
            .await
    }

    async fn post_authentication(
        &self,
        endpoint: &'static str,
        path: &str,
        body: &serde_json::Value,
        trace: &mut CallSpan,
    ) -> Result<(), UpstreamError> {
        let mut request = self
            .http
            .post(format!("{}{}", self.auth_base_url, path))
            .timeout(self.timeout)
            .json(body);
        if let Some(id) = crate::request::current_id() {
            request = request.header(crate::request::HEADER, &*id);
        }
        let started = Instant::now();
        let answer = match trace.sending(request).send().await {
            Ok(response) => {
                let status = response.status();
                trace.answered(status);
                response.bytes().await.map(|body| (status, body))
            }
            Err(error) => Err(error),
        };
        let elapsed = started.elapsed();
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.metrics
                    .upstream_call(&self.tenant, endpoint, failure_label(&error), elapsed);
                tracing::warn!(tenant = %self.tenant, endpoint, %error, "no answer");
                return Err(if error.is_connect() {
                    UpstreamError::unavailable(format!("connection failed: {error}"))
                } else {
                    UpstreamError::OutcomeUnknown {
                        reason: error.to_string(),
                    }
                });
            }
        };
        self.metrics
            .upstream_call(&self.tenant, endpoint, Arc::from(status.as_str()), elapsed);
        match status {
            s if s.is_success() => Ok(()),
            StatusCode::TOO_MANY_REQUESTS => Err(UpstreamError::AuthenticationRateLimited {
                message: auth0_description(&body),
            }),
            s if s.is_client_error() => Err(UpstreamError::BadRequest {
                message: auth0_description(&body),
            }),
            s => Err(UpstreamError::OutcomeUnknown {
                reason: format!("answered {s}"),
            }),
        }
    }
}

fn failure_label(error: &reqwest::Error) -> Arc<str> {
    Arc::from(if error.is_timeout() {
        "timeout"
    } else {
        "error"
    })
}

fn no_answer<T>(read: bool, attempt: u32, error: &reqwest::Error) -> Attempt<T> {
    if error.is_connect() {
        // Refused before anything was sent: nothing was applied.
        return Attempt::Retry(
            backoff(attempt),
            UpstreamError::unavailable(format!("connection failed: {error}")),
        );
    }
    if read {
        if error.is_timeout() {
            return Attempt::Done(Err(UpstreamError::Timeout));
        }
        return Attempt::Retry(
            backoff(attempt),
            UpstreamError::unavailable(format!("connection lost: {error}")),
        );
    }
    Attempt::Done(Err(UpstreamError::OutcomeUnknown {
        reason: error.to_string(),
    }))
}

const MAX_WAIT: Duration = Duration::from_secs(60);

/// Before the `attempt`-th retry (the first is 1): 100 ms·2^attempt ± 10 %.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(100) * 2u32.saturating_pow(attempt.min(10));
    let jitter = rand::thread_rng().gen_range(0.9..1.1);
    base.mul_f64(jitter).min(MAX_WAIT)
}

/// A short random pause, so that callers turned away together do not come back together.
fn jitter() -> Duration {
    Duration::from_millis(rand::thread_rng().gen_range(0..50))
}

/// Auth0's human `message` from a Management API error body, short and nothing else of it.
fn auth0_message(body: &[u8]) -> String {
    body_text(body, "message")
}

/// The Authentication API's `error_description`.
fn auth0_description(body: &[u8]) -> String {
    body_text(body, "error_description")
}

fn body_text(body: &[u8], key: &str) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get(key).and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "the tenant refused the request".to_owned());
    message.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_each_attempt() {
        let waits: Vec<Duration> = (1..=4).map(backoff).collect();
        for (attempt, wait) in (1..=4).zip(&waits) {
            let base = 100.0 * f64::from(2u32.pow(attempt));
            let ms = wait.as_secs_f64() * 1000.0;
            assert!(
                ms >= base * 0.9 && ms <= base * 1.1,
                "attempt {attempt}: {ms} ms"
            );
        }
        assert_eq!(backoff(40), MAX_WAIT);
    }

    #[test]
    fn error_texts_are_read_from_either_api_and_bounded() {
        assert_eq!(
            auth0_message(br#"{"statusCode":400,"message":"Bad thing"}"#),
            "Bad thing"
        );
        assert_eq!(
            auth0_description(br#"{"error":"too_many_requests","error_description":"Slow down"}"#),
            "Slow down"
        );
        assert_eq!(auth0_message(b"<html>"), "the tenant refused the request");
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(1000));
        assert_eq!(auth0_message(long.as_bytes()).len(), 300);
    }
}
