//! The Management API's bearer-token check: signature by one of the tenant's published keys,
//! `iss`, `aud`, `exp`, `nbf`, then the scopes each endpoint requires; Auth0's 401/403 answers.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::clock::unix_now;
use crate::errors::ApiError;
use crate::faults::CredentialsRevoked;
use crate::state::{AppState, SharedState};

pub use crate::api_caller::Caller;

/// Handlers take `Auth` to be reached only with a valid token.
pub struct Auth(pub Arc<Caller>);

impl FromRequestParts<SharedState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            let mut error = ApiError::unauthorized("Missing authentication");
            error.with_attributes = false;
            return Err(error);
        };
        if parts.extensions.get::<CredentialsRevoked>().is_some() {
            return Err(ApiError::unauthorized("Invalid token"));
        }
        let issuer = state.tenant.issuer_for(&parts.headers);
        verify(state, token, issuer).map(Auth)
    }
}

/// Verifies `token` for a call expecting tokens of `issuer` (the domain it came through).
fn verify(state: &AppState, token: &str, issuer: &str) -> Result<Arc<Caller>, ApiError> {
    let now = unix_now();
    if let Some(caller) = state.tokens.get(token) {
        check_times(caller.exp, caller.nbf, now)?;
        if caller.issuer != issuer {
            return Err(ApiError::unauthorized("Bad issuer"));
        }
        return Ok(caller);
    }
    let invalid = || ApiError::unauthorized("Invalid token");
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid());
    }
    let kid = header.kid.ok_or_else(invalid)?;
    let key = state.keys().find(&kid).cloned().ok_or_else(invalid)?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Times, audience and issuer are checked below, to answer with Auth0's messages.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(token, key.decoding_key(), &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => {
                ApiError::unauthorized("Invalid signature received for JSON Web Token validation")
            }
            _ => invalid(),
        })?
        .claims;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(invalid)?;
    let nbf = claims.get("nbf").and_then(Value::as_i64);
    check_times(exp, nbf, now)?;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(ApiError::unauthorized("Bad issuer"));
    }
    let audience = &state.tenant.management_audience;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience.as_str())),
        _ => false,
    };
    if !aud_ok {
        let got = claims.get("aud").map(Value::to_string).unwrap_or_default();
        return Err(ApiError::unauthorized(format!(
            "Bad audience: {}",
            got.trim_matches('"')
        )));
    }
    let scopes = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let client_id = claims
        .get("azp")
        .and_then(Value::as_str)
        .or_else(|| {
            claims
                .get("sub")
                .and_then(Value::as_str)
                .map(|s| s.trim_end_matches("@clients"))
        })
        .unwrap_or_default()
        .to_owned();
    let caller = Arc::new(Caller {
        scopes,
        client_id,
        issuer: issuer.to_owned(),
        exp,
        nbf,
    });
    state.tokens.put(token, Arc::clone(&caller));
    Ok(caller)
}

fn check_times(exp: i64, nbf: Option<i64>, now: i64) -> Result<(), ApiError> {
    if exp <= now {
        return Err(ApiError::unauthorized(
            "Expired token received for JSON Web Token validation",
        ));
    }
    if nbf.is_some_and(|nbf| nbf > now) {
        return Err(ApiError::unauthorized("Token not yet valid (nbf)"));
    }
    Ok(())
}
