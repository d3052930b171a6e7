//! What can go wrong when calling a tenant, and how each case reaches the client.

use crate::error::{ClientError, ErrorCode};

/// A failed call to one tenant. The `reason`s are for the log; clients get [`Self::to_client`].
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum UpstreamError {
    /// No usable answer: connection refused, 5xx, malformed body, circuit open, no token.
    #[error("tenant unavailable: {reason}")]
    Unavailable { reason: String },
    /// The tenant's deadline passed before an answer.
    #[error("tenant timed out")]
    Timeout,
    /// The tenant's rate limit (or our budget for it) left no room within the deadline.
    #[error("tenant rate limit reached")]
    RateLimited,
    #[error("not found")]
    NotFound,
    /// Auth0 refused the input (400); `message` is Auth0's human text.
    #[error("rejected by the tenant: {message}")]
    BadRequest { message: String },
    /// Auth0 answered 409 (the user already exists).
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// The gateway's own client was refused (401 after a token refresh, 403): a set-up fault.
    #[error("the gateway's client was refused by the tenant: {reason}")]
    Refused { reason: String },
    /// A write was sent but no answer came back: it may or may not have been applied.
    #[error("write outcome unknown: {reason}")]
    OutcomeUnknown { reason: String },
    /// The tenant refuses the gateway's client credentials (revoked, rotated, wrong, or a
    /// placeholder); `reason` says how, in words an operator can act on, never the secret.
    #[error("the tenant refuses the gateway's credentials: {reason}")]
    CredentialsRefused { reason: String },
    /// The Authentication API turned the request away (its limits are per endpoint, some per
    /// user and IP); `message` is Auth0's `error_description`, about the caller's own request.
    #[error("authentication API rate limit: {message}")]
    AuthenticationRateLimited { message: String },
}

impl UpstreamError {
    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable {
            reason: reason.into(),
        }
    }

    /// What kind of failure this is, in a word: a trace's `error.type`, which carries nothing of
    /// the reason.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "unavailable",
            Self::Timeout => "timeout",
            Self::RateLimited | Self::AuthenticationRateLimited { .. } => "rate_limited",
            Self::NotFound => "not_found",
            Self::BadRequest { .. } => "bad_request",
            Self::Conflict { .. } => "conflict",
            Self::Refused { .. } => "refused",
            Self::OutcomeUnknown { .. } => "outcome_unknown",
            Self::CredentialsRefused { .. } => "credentials_refused",
        }
    }

    /// Whether this failure says something about the tenant's health (for the circuit breaker).
    pub(crate) fn is_tenant_fault(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. } | Self::Timeout | Self::OutcomeUnknown { .. }
        )
    }

    /// Whether the tenant is failing to answer (down, slow, out of budget) rather than answering
    /// that something is wrong: the failures a stale profile may stand in for.
    pub(crate) fn is_outage(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. }
                | Self::Timeout
                | Self::RateLimited
                | Self::CredentialsRefused { .. }
        )
    }

    /// The client-facing error, naming the tenant. Upstream bodies and causes stay in the log.
    pub(crate) fn to_client(&self, tenant: &str) -> ClientError {
        let error = match self {
            Self::Unavailable { .. } | Self::CredentialsRefused { .. } => ClientError::new(
                ErrorCode::TenantUnavailable,
                format!("tenant {tenant} is unavailable"),
            ),
            Self::Timeout => ClientError::new(
                ErrorCode::TenantTimeout,
                format!("tenant {tenant} did not answer in time"),
            ),
            Self::RateLimited => ClientError::new(
                ErrorCode::TenantRateLimited,
                format!("tenant {tenant} is rate limited; try again shortly"),
            ),
            Self::AuthenticationRateLimited { message } => ClientError::new(
                ErrorCode::TenantRateLimited,
                format!("tenant {tenant} turned the request away for now: {message}"),
            ),
            Self::NotFound => ClientError::not_found("not found"),
            Self::BadRequest { message } => {
                ClientError::bad_input(format!("tenant {tenant} refused the input: {message}"))
            }
            Self::Conflict { message } => ClientError::new(ErrorCode::Conflict, message.clone()),
            Self::Refused { .. } => ClientError::internal(),
            Self::OutcomeUnknown { .. } => ClientError::new(
                ErrorCode::UpstreamOutcomeUnknown,
                format!(
                    "the change was sent to tenant {tenant} but no answer came back: it may or may not have been applied; read the user before trying again"
                ),
            ),
        };
        error.for_tenant(tenant)
    }
}
