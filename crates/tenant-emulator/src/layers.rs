//! The layers every API request passes that need the whole tenant's state: injected faults
//! (both APIs) and the Management API's rate limit. Kept apart from `faults` and `ratelimit`,
//! which only describe their state, so that the state can hold those without a cycle.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::{ApiError, AuthError};
use crate::faults::{CredentialsRevoked, DropConnection, TOKEN_PATH, is_management, is_write};
use crate::ratelimit::{Decision, set_headers};
use crate::state::SharedState;

fn dropped() -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(DropConnection);
    response
}

/// Applies the faults in force to an Authentication or Management API request.
pub async fn inject(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(faults) = state.faults.take(request.method(), &path) else {
        return next.run(request).await;
    };
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if faults.down {
        return dropped();
    }
    if faults.error_rate > 0.0 && rand::random::<f64>() < faults.error_rate {
        let status = faults
            .error_status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return ApiError::new(status, "injected_fault", "Injected fault (tenant-emulator)")
            .into_response();
    }
    let management = is_management(&path);
    if faults.auth_rate_limit_storm && !management {
        return AuthError::too_many_requests().into_response();
    }
    let mut request = request;
    if faults.revoked_credentials && (management || path == TOKEN_PATH) {
        request.extensions_mut().insert(CredentialsRevoked);
    }
    if faults.rate_limit_storm && management {
        let mut response = ApiError::too_many_requests().into_response();
        set_headers(
            response.headers_mut(),
            &Decision::storm(state.limiter.limit()),
        );
        return response;
    }
    if faults.garbage_body {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body>502 Bad Gateway</body></html>",
        )
            .into_response();
    }
    let write = is_write(request.method());
    let response = next.run(request).await;
    if faults.drop_after_write && write && management {
        return dropped();
    }
    response
}

/// Charges every Management API call (before the token check, as a gateway in front of the
/// API would) and stamps the headers on whatever the answer is.
pub async fn limit(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let decision = state.limiter.check();
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        ApiError::too_many_requests().into_response()
    };
    set_headers(response.headers_mut(), &decision);
    response
}
