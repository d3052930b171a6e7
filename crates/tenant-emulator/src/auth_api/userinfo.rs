//! `GET /userinfo`: the OIDC claims of the user an access token was issued to, as its scopes
//! release them, read from the profile as it is now. The token must have been issued through the
//! domain it is presented on (its `iss` and its `https://{domain}/userinfo` audience). Auth0
//! answers a missing or bad token with a bare 401 "Unauthorized" and a `WWW-Authenticate`
//! challenge, not with a JSON error.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::bearer::{Times, has_audience, verify};
use super::user_tokens::profile_claims;
use crate::errors::json_response;
use crate::state::SharedState;

pub async fn userinfo(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return unauthorized(r#"Bearer realm="Users""#);
    };
    let issuer = state.tenant.issuer_for(&headers);
    let audience = format!("{issuer}userinfo");
    let claims =
        verify(&state, token, issuer, Times::Enforced).filter(|c| has_audience(c, &audience));
    let subject = claims
        .as_ref()
        .and_then(|c| c.get("sub"))
        .and_then(Value::as_str);
    let profile = subject.and_then(|sub| state.read().get(sub).cloned());
    let (Some(claims), Some(profile)) = (&claims, profile) else {
        return unauthorized(
            r#"Bearer realm="Users", error="invalid_token", error_description="Invalid token""#,
        );
    };
    let scope = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut body = profile_claims(&profile, scope);
    body.insert("sub".into(), json!(subject));
    json_response(StatusCode::OK, &body)
}

fn unauthorized(challenge: &'static str) -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}
