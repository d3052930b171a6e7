//! The HTTP surface: `POST /graphql`, `GET /graphql` (the explorer for browsers, queries
//! otherwise) and the explorer's files under `/explorer/`, `/healthz`, `/readyz` and
//! `/metrics`, behind request ids, CORS and per-caller limits.
//!
//! - `graphql`: the GraphQL endpoint: body and batch limits, CSRF rules, authentication,
//!   per-caller rate limiting, the caller's scope, execution, error codes.
//! - `explorer`: the query explorer: its page, script and style sheet, all built in.
//! - `request_id`: `x-request-id` taken or made, returned, logged and sent upstream.
//! - `caller_limit`: the per-caller request budget.
//! - `ops`: health, readiness and metrics, on the API address or an address of their own.
//! - `gateway`: the same request path driven in-process (the portal's pages use it).

mod caller_limit;
mod explorer;
mod gateway;
pub(crate) mod graphql;
mod ops;
mod request_id;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use secrecy::SecretString;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::Verifier;
use crate::config::{LimitsConfig, ServerConfig};
use crate::graphql::TenantGraphSchema;
use crate::metrics::Metrics;
use crate::scope::Access;

pub(crate) use caller_limit::CallerLimiter;
pub(crate) use explorer::Explorer;
pub use gateway::Gateway;

/// What every handler shares (axum clones it for each request: keep it behind an `Arc`).
pub struct AppState {
    pub(crate) schema: TenantGraphSchema,
    pub(crate) verifier: Arc<Verifier>,
    pub(crate) access: Access,
    pub(crate) metrics: Metrics,
    /// The explorer page; `None` when it is off.
    pub(crate) explorer: Option<Explorer>,
    pub(crate) limits: Arc<LimitsConfig>,
    pub(crate) caller_limit: Arc<CallerLimiter>,
    /// Failed authentications per client address.
    pub(crate) failed_auth: Arc<CallerLimiter>,
    /// Who may read `/metrics` and the detailed `/readyz` on the API address.
    pub(crate) ops: OpsAccess,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Who may read operational details on the API address.
#[derive(Debug, Clone)]
pub(crate) enum OpsAccess {
    /// Everyone (the demo).
    Open,
    /// Holders of this bearer token.
    Token(SecretString),
    /// Nobody: they are on `server.ops_listen`, or nowhere.
    Closed,
}

impl OpsAccess {
    pub(crate) fn of(server: &ServerConfig) -> Self {
        match (&server.ops_token, server.open_ops) {
            (_, true) => Self::Open,
            (Some(token), false) => Self::Token(token.clone()),
            (None, false) => Self::Closed,
        }
    }
}

/// The API's router.
pub(crate) fn router(state: Arc<AppState>, server: &ServerConfig) -> Router {
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/explorer/{file}", get(explorer::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .with_state(state)
        .layer(axum::middleware::from_fn(request_id::middleware));
    match cors(&server.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The router of `server.ops_listen`: metrics and the detailed readiness, to anyone who can
/// reach that address.
pub(crate) fn ops_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz_detailed))
        .route("/metrics", get(ops::metrics_open))
        .with_state(state)
}

/// Browsers may call from these origins only; without any, no CORS headers are sent at all.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("apollo-require-preflight"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
