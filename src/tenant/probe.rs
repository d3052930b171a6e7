//! Each tenant's credentials tried once at start-up, every tenant at once and within a bound, so
//! that a deployment with wrong or placeholder credentials says so from its first second instead
//! of reporting every tenant UP until a caller's request fails.
//!
//! - Placeholders (`super::placeholder`): DOWN at once; no token is asked for with them.
//! - Refused by the token endpoint: DOWN with what it answered ("credentials refused: …"), on
//!   `/readyz` and in `tenants { status statusReason }`, through the same state as a refusal at
//!   any later time (`super::http`): calls fail at once and one tries again after 30 s.
//! - No answer (unreachable, timed out, rate limited, 5xx): a warning and one failure for the
//!   tenant's breaker (DEGRADED); nothing is known of the credentials yet, and the tenant may
//!   well come up later, so it is not taken as refused.
//! - Accepted: the token is kept for the first calls.
//!
//! Every line names the tenant; none holds the secret.

use std::sync::Arc;
use std::time::Duration;

use super::client::TenantClient;
use super::error::UpstreamError;

/// The longest start-up waits for the tenants' token endpoints, whatever their deadlines.
pub(crate) const STARTUP_LIMIT: Duration = Duration::from_secs(10);

/// Tries every tenant's credentials at once, for at most `limit` (and each tenant's own
/// deadline), and logs what each came to.
pub(crate) async fn check_all(tenants: &[Arc<TenantClient>], limit: Duration) {
    futures::future::join_all(tenants.iter().map(|tenant| check(tenant, limit))).await;
}

async fn check(tenant: &TenantClient, limit: Duration) {
    let http = tenant.transport();
    if let Some(placeholder) = http.placeholder() {
        let placeholder = placeholder.to_owned();
        http.credentials_refused(&placeholder);
        return;
    }
    let limit = limit.min(http.timeout());
    let answer = tokio::time::timeout(limit, http.request_token(limit))
        .await
        .unwrap_or(Err(UpstreamError::Timeout));
    match answer {
        Ok(()) => {
            tracing::info!(tenant = %tenant.id, "the tenant accepts tenantgraph's credentials");
        }
        Err(UpstreamError::CredentialsRefused { reason }) => http.credentials_refused(&reason),
        Err(error) => {
            let reason = match error {
                UpstreamError::Timeout => format!("no answer within {limit:?}"),
                other => other.to_string(),
            };
            tracing::warn!(tenant = %tenant.id, %reason, "the tenant could not be reached to check its credentials: it is DEGRADED until it answers");
            http.unanswered().await;
        }
    }
}
