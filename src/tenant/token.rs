//! The Management API token of one tenant: fetched by client credentials, reused until shortly
//! before it expires, refreshed by one caller at a time.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::UpstreamError;
use crate::telemetry::upstream::{CallSpan, Peer};

/// A bearer token and when to stop using it.
#[derive(Clone)]
pub(crate) struct ManagementToken {
    pub(crate) value: Arc<str>,
    refresh_at: Instant,
}

impl std::fmt::Debug for ManagementToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagementToken")
            .field("value", &"[redacted]")
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Why the token endpoint refused the client, in words an operator can act on: the status,
/// Auth0's `error` and `error_description` (which name the client or audience at most, never
/// the secret), and what usually causes it.
fn refusal(status: reqwest::StatusCode, body: &[u8]) -> String {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |key: &str| {
        answer
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(|t| {
                t.chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect::<String>()
            })
    };
    let mut said = format!("the token endpoint answered {}", status.as_u16());
    if let Some(error) = text("error") {
        said = format!("{said} {error}");
    }
    if let Some(description) = text("error_description") {
        said = format!("{said} \"{description}\"");
    }
    let cause = match status.as_u16() {
        401 => Some("wrong client_id or client secret, or a secret rotated since"),
        403 => Some(
            "the application is not authorized for this tenant's Management API, or the audience is not it",
        ),
        _ => None,
    };
    match cause {
        Some(cause) => format!("{said}: {cause}"),
        None => said,
    }
}

/// Caches one tenant's management token.
pub(crate) struct TokenCache {
    url: String,
    client_id: String,
    client_secret: SecretString,
    audience: String,
    current: RwLock<Option<ManagementToken>>,
    /// Held while fetching, so concurrent callers wait for one refresh instead of each asking.
    refreshing: Mutex<()>,
    /// The tenant and the address of its token endpoint, for the token request's span.
    tenant: Arc<str>,
    peer: Peer,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(
        base_url: &str,
        client_id: String,
        client_secret: SecretString,
        audience: String,
        tenant: Arc<str>,
    ) -> Self {
        Self {
            peer: Peer::of(base_url),
            url: format!("{base_url}/oauth/token"),
            client_id,
            client_secret,
            audience,
            current: RwLock::new(None),
            refreshing: Mutex::new(()),
            tenant,
        }
    }

    fn valid(&self) -> Option<ManagementToken> {
        let current = self.current.read().ok()?;
        current
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
            .cloned()
    }

    /// A valid token, fetching one if none is cached or it is about to expire.
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<ManagementToken, UpstreamError> {
        if let Some(token) = self.valid() {
            return Ok(token);
        }
        let _guard = self.refreshing.lock().await;
        // Another caller may have refreshed while this one waited for the lock.
        if let Some(token) = self.valid() {
            return Ok(token);
        }
        let token = self.fetch(http, timeout).await?;
        if let Ok(mut current) = self.current.write() {
            *current = Some(token.clone());
        }
        Ok(token)
    }

    /// Forgets `rejected` (the tenant answered 401 to it), unless a newer token replaced it.
    pub(crate) fn invalidate(&self, rejected: &ManagementToken) {
        if let Ok(mut current) = self.current.write()
            && current.as_ref().is_some_and(|t| t.value == rejected.value)
        {
            *current = None;
        }
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<ManagementToken, UpstreamError> {
        CallSpan::start(&self.tenant, &self.peer, "POST /oauth/token")
            .around(
                async |trace| self.request(http, timeout, trace).await,
                UpstreamError::kind,
            )
            .await
    }

    async fn request(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        trace: &mut CallSpan,
    ) -> Result<ManagementToken, UpstreamError> {
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "audience": self.audience,
        });
        let request = http.post(&self.url).json(&body).timeout(timeout);
        let response = trace.sending(request).send().await.map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout
            } else {
                UpstreamError::unavailable(format!("token request failed: {e}"))
            }
        })?;
        let status = response.status();
        trace.answered(status);
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(UpstreamError::RateLimited);
        }
        if status.is_client_error() {
            // Wrong, revoked or rotated client secret, or an audience the tenant does not
            // serve: nothing a retry would fix soon.
            let body = response.bytes().await.unwrap_or_default();
            return Err(UpstreamError::CredentialsRefused {
                reason: refusal(status, &body),
            });
        }
        if !status.is_success() {
            return Err(UpstreamError::unavailable(format!(
                "token request answered {status}"
            )));
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|e| UpstreamError::unavailable(format!("token answer unreadable: {e}")))?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(86_400));
        // Refresh a little early: a tenth of the lifetime, at most a minute.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        Ok(ManagementToken {
            value: Arc::from(answer.access_token),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn a_refusal_says_what_auth0_said_and_what_usually_causes_it() {
        assert_eq!(
            refusal(
                StatusCode::UNAUTHORIZED,
                br#"{"error":"access_denied","error_description":"Unauthorized"}"#
            ),
            "the token endpoint answered 401 access_denied \"Unauthorized\": wrong client_id or client secret, or a secret rotated since"
        );
        let forbidden = refusal(
            StatusCode::FORBIDDEN,
            br#"{"error":"access_denied","error_description":"Client is not authorized to access \"https://x.auth0.com/api/v2/\"."}"#,
        );
        assert!(
            forbidden.starts_with(
                "the token endpoint answered 403 access_denied \"Client is not authorized"
            ),
            "{forbidden}"
        );
        assert!(
            forbidden.ends_with("or the audience is not it"),
            "{forbidden}"
        );
    }

    #[test]
    fn a_refusal_without_a_readable_body_still_says_its_status_and_stays_short() {
        assert_eq!(
            refusal(StatusCode::BAD_REQUEST, b"<html>"),
            "the token endpoint answered 400"
        );
        let long = format!(
            r#"{{"error":"x","error_description":"{}\u0007"}}"#,
            "y".repeat(1000)
        );
        let said = refusal(StatusCode::BAD_REQUEST, long.as_bytes());
        assert!(said.len() < 260, "{said}");
        assert!(!said.contains('\u{7}'), "{said}");
    }
}
