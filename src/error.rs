//! The closed set of error codes clients see, and the conversion of internal errors into them.
//!
//! Every GraphQL error tenantgraph returns carries `extensions.code` (one of [`ErrorCode`]) and,
//! when one tenant is concerned, `extensions.tenant`. Messages are written for the client; causes
//! (upstream bodies, I/O errors) go to the log only.

use std::fmt;

use async_graphql::ErrorExtensions;

/// The codes of docs/ARCHITECTURE.md "Errors". Adding one is a contract change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    TenantUnavailable,
    TenantTimeout,
    TenantRateLimited,
    UpstreamOutcomeUnknown,
    QueryTooComplex,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::TenantUnavailable => "TENANT_UNAVAILABLE",
            Self::TenantTimeout => "TENANT_TIMEOUT",
            Self::TenantRateLimited => "TENANT_RATE_LIMITED",
            Self::UpstreamOutcomeUnknown => "UPSTREAM_OUTCOME_UNKNOWN",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error meant for the client: a code, a message safe to show, and the tenant it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub code: ErrorCode,
    pub message: String,
    pub tenant: Option<String>,
}

impl ClientError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            tenant: None,
        }
    }

    pub fn for_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadUserInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// For failures whose cause must stay in the log: the client learns only that it happened.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }
}

// No `Display` on purpose: async-graphql turns any `Display` type into an error without
// extensions, and a `?` would then silently drop the code.

impl ErrorExtensions for ClientError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message.clone()).extend_with(|_, ext| {
            ext.set("code", self.code.as_str());
            if let Some(tenant) = &self.tenant {
                ext.set("tenant", tenant.as_str());
            }
        })
    }
}

impl From<ClientError> for async_graphql::Error {
    fn from(error: ClientError) -> Self {
        error.extend()
    }
}

/// Result of a resolver step whose error is already meant for the client.
pub type ClientResult<T> = Result<T, ClientError>;
