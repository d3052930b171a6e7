//! Operations endpoints: `/readyz` (each tenant's last known status, and whether the audit
//! trail is being written) and `/metrics` (Prometheus text).
//!
//! On the API address they are closed by default: `/readyz` answers only its status code and
//! `{"status": …}`, and `/metrics` is not served, unless the server is configured to open them
//! (`server.open_ops`, the demo) or the request carries `server.ops_token_env`'s token. On
//! `server.ops_listen` both are served in full.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{AppState, OpsAccess};
use crate::metrics::TenantLabels;
use crate::tenant::Health;

fn label(health: Health) -> &'static str {
    match health {
        Health::Up => "UP",
        Health::Degraded => "DEGRADED",
        Health::Down => "DOWN",
    }
}

/// Whether this request may see operational details on the API address.
fn may_see(state: &AppState, headers: &HeaderMap) -> bool {
    match &state.ops {
        OpsAccess::Open => true,
        OpsAccess::Closed => false,
        OpsAccess::Token(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            // Compared as digests: equal-length, so the comparison says nothing by its time.
            .is_some_and(|given| {
                Sha256::digest(given.trim().as_bytes())
                    == Sha256::digest(token.expose_secret().as_bytes())
            }),
    }
}

/// 200 while at least one tenant is not down (partial results are still useful), else 503.
pub(crate) async fn readyz(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (status, body) = readiness(&state);
    if may_see(&state, &headers) {
        return (status, axum::Json(body)).into_response();
    }
    (status, axum::Json(json!({"status": body["status"]}))).into_response()
}

pub(crate) async fn readyz_detailed(State(state): State<Arc<AppState>>) -> Response {
    let (status, body) = readiness(&state);
    (status, axum::Json(body)).into_response()
}

fn readiness(state: &AppState) -> (StatusCode, Value) {
    let mut tenants = Map::new();
    let mut reasons = Map::new();
    let mut any_up = false;
    for tenant in state.access.tenants() {
        let status = tenant.status();
        any_up |= status.health != Health::Down;
        tenants.insert(tenant.id().to_string(), label(status.health).into());
        if let Some(reason) = status.reason {
            reasons.insert(tenant.id().to_string(), reason.as_ref().into());
        }
    }
    let audit = state.access.auditor().health();
    let (status, summary) = if any_up {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "no tenant reachable")
    };
    let summary = if any_up && audit.failing {
        "ready, but the audit trail cannot be written"
    } else {
        summary
    };
    (
        status,
        json!({
            "status": summary,
            "tenants": tenants,
            "reasons": reasons,
            "audit": {"ok": !audit.failing, "failures": audit.failures},
        }),
    )
}

pub(crate) async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if !may_see(&state, &headers) {
        return (
            StatusCode::NOT_FOUND,
            "metrics are served on server.ops_listen, or with server.ops_token_env's token",
        )
            .into_response();
    }
    render(&state)
}

pub(crate) async fn metrics_open(State(state): State<Arc<AppState>>) -> Response {
    render(&state)
}

fn render(state: &AppState) -> Response {
    for tenant in state.access.tenants() {
        let status = tenant.status();
        let value = match status.health {
            Health::Up => 0,
            Health::Degraded => 1,
            Health::Down => 2,
        };
        let labels = TenantLabels {
            tenant: tenant.id().clone(),
        };
        state
            .metrics
            .tenant_status
            .get_or_create(&labels)
            .set(value);
        state
            .metrics
            .tenant_credentials_refused
            .get_or_create(&labels)
            .set(i64::from(status.credentials_refused));
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
