//! Operations endpoints: `/readyz` (configuration loaded, each tenant's last known status) and
//! `/metrics` (Prometheus text).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::metrics::TenantLabels;
use crate::tenant::Health;

fn label(health: Health) -> &'static str {
    match health {
        Health::Up => "UP",
        Health::Degraded => "DEGRADED",
        Health::Down => "DOWN",
    }
}

/// 200 while at least one tenant is not down (partial results are still useful), else 503.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let mut tenants = serde_json::Map::new();
    let mut any_up = false;
    for tenant in state.store.tenants.all() {
        let health = tenant.health();
        any_up |= health != Health::Down;
        tenants.insert(tenant.id.to_string(), label(health).into());
    }
    let (status, summary) = if any_up {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "no tenant reachable")
    };
    (
        status,
        axum::Json(serde_json::json!({"status": summary, "tenants": tenants})),
    )
        .into_response()
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    for tenant in state.store.tenants.all() {
        let value = match tenant.health() {
            Health::Up => 0,
            Health::Degraded => 1,
            Health::Down => 2,
        };
        state
            .metrics
            .tenant_status
            .get_or_create(&TenantLabels {
                tenant: tenant.id.clone(),
            })
            .set(value);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
