//! Fault injection (`PUT /__emulator/faults`): latency, errors, a dead server, 429 storms on
//! either API, revoked credentials, garbage bodies and writes whose answer is lost.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::errors::{ApiError, AuthError};
use crate::ratelimit::{Decision, set_headers};
use crate::state::SharedState;

/// The faults to inject; every field is optional in the JSON body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay before answering.
    pub latency_ms: u64,
    /// Share (0..=1) of requests answered with `error_status`.
    pub error_rate: f64,
    /// Status of injected errors (default 500).
    pub error_status: Option<u16>,
    /// Accept connections, then drop them without answering.
    pub down: bool,
    /// Every Management API call answers 429.
    pub rate_limit_storm: bool,
    /// Every Authentication API call answers 429 in that API's shape; the Management API's
    /// budget is untouched (narrow it with `paths`, e.g. `/dbconnections/change_password`).
    pub auth_rate_limit_storm: bool,
    /// The application's credentials no longer work: every Management API call answers 401
    /// (`Invalid token`) and `POST /oauth/token` with the client secret answers 401
    /// `access_denied` "Unauthorized".
    pub revoked_credentials: bool,
    /// 200 with a body that is not JSON.
    pub garbage_body: bool,
    /// Management API POST/PATCH/PUT/DELETE are applied, then the connection is dropped without
    /// an answer (the "outcome unknown" case).
    pub drop_after_write: bool,
    /// Only requests whose path starts with one of these (default: all but `/__emulator`).
    pub paths: Vec<String>,
    /// Apply to the next `count` matching requests, then clear.
    pub count: Option<u64>,
}

impl Faults {
    /// Refuses values no client could have meant.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err("error_rate must be between 0 and 1".into());
        }
        if let Some(status) = self.error_status
            && (StatusCode::from_u16(status).is_err() || status < 400)
        {
            return Err("error_status must be an HTTP error status (400-599)".into());
        }
        Ok(())
    }

    /// Whether any configured fault acts on this request: only those consume a `count`, so
    /// `{"drop_after_write": true, "count": 1}` loses the next write, not the read before it.
    fn acts_on(&self, method: &Method, path: &str) -> bool {
        let in_scope =
            self.paths.is_empty() || self.paths.iter().any(|p| path.starts_with(p.as_str()));
        let management = is_management(path);
        in_scope
            && (self.latency_ms > 0
                || self.down
                || self.error_rate > 0.0
                || self.garbage_body
                || (self.rate_limit_storm && management)
                || (self.auth_rate_limit_storm && !management)
                || (self.revoked_credentials && (management || path == TOKEN_PATH))
                || (self.drop_after_write && management && is_write(method)))
    }
}

const TOKEN_PATH: &str = "/oauth/token";

/// Put on a request while `revoked_credentials` is in force: the token check and the token
/// endpoint refuse it, after the rate limiter has charged it as it would any 401.
#[derive(Clone, Copy, Debug)]
pub struct CredentialsRevoked;

/// The faults in force. A `count` is decremented per matching request.
#[derive(Default)]
pub struct FaultState {
    active: Mutex<Option<Faults>>,
}

impl FaultState {
    pub fn set(&self, faults: Faults) {
        let keep = faults.count != Some(0) && faults != Faults::default();
        *self.active.lock().unwrap_or_else(PoisonError::into_inner) = keep.then_some(faults);
    }

    pub fn clear(&self) {
        *self.active.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub fn current(&self) -> Option<Faults> {
        self.active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The faults that apply to a request on `path`, consuming one use of a `count`.
    fn take(&self, method: &Method, path: &str) -> Option<Faults> {
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        let faults = active.as_mut().filter(|f| f.acts_on(method, path))?;
        let taken = faults.clone();
        if let Some(count) = faults.count.as_mut() {
            *count = count.saturating_sub(1);
            if *count == 0 {
                *active = None;
            }
        }
        Some(taken)
    }
}

/// Put on a response to make the server drop the connection instead of answering it.
#[derive(Clone, Copy, Debug)]
pub struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

fn is_management(path: &str) -> bool {
    path.starts_with("/api/v2/")
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    )
}

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
