//! Fault injection (`PUT /__emulator/faults`): latency, errors, a dead server, 429 storms on
//! either API, revoked credentials, garbage bodies and writes whose answer is lost.

use std::sync::{Mutex, PoisonError};

use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

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
    pub(crate) fn take(&self, method: &Method, path: &str) -> Option<Faults> {
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

/// The token endpoint, refused like the Management API under `revoked_credentials`.
pub(crate) const TOKEN_PATH: &str = "/oauth/token";

pub(crate) fn is_management(path: &str) -> bool {
    path.starts_with("/api/v2/")
}

pub(crate) fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    )
}
