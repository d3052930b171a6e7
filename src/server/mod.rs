//! The HTTP surface: `POST /graphql`, `GET /graphql` (GraphiQL for browsers, queries otherwise),
//! `/healthz`, `/readyz` and `/metrics`, behind request ids, CORS and per-caller limits.
//!
//! - [`graphql`]: the GraphQL endpoint: body and batch limits, CSRF rules, authentication,
//!   per-caller rate limiting, execution, error codes.
//! - [`request_id`]: `x-request-id` taken or made, returned, logged and sent upstream.
//! - [`caller_limit`]: the per-caller request budget.
//! - [`ops`]: health, readiness and metrics.

pub mod caller_limit;
pub mod graphql;
pub mod ops;
pub mod request_id;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::Verifier;
use crate::config::{LimitsConfig, ServerConfig};
use crate::graphql::TenantGraphSchema;
use crate::metrics::Metrics;
use crate::store::Store;

pub use graphql::graphiql_page;

/// What every handler shares (axum clones it for each request: keep it behind an `Arc`).
pub struct AppState {
    pub schema: TenantGraphSchema,
    pub verifier: Arc<Verifier>,
    pub store: Store,
    pub metrics: Metrics,
    /// GraphiQL page, rendered once; `None` when GraphiQL is off.
    pub graphiql: Option<Arc<str>>,
    pub limits: Arc<LimitsConfig>,
    pub caller_limit: Arc<caller_limit::CallerLimiter>,
}

pub fn router(state: Arc<AppState>, server: &ServerConfig) -> Router {
    let router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
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
