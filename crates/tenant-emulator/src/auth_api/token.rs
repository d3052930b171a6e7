//! `POST /oauth/token`: client credentials (management tokens), the password-realm grant and the
//! authorization code grant (end-user tokens), with the Authentication API's errors.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::authenticate::{Attempt, Proof, Refusal, authenticate};
use super::user_tokens::{self, TokenRequest};
use super::{Form, client_ip, code_grant, read_form, sign, ttl_seconds, unauthorized};
use crate::clock::unix_now;
use crate::config::TokenEndpointAuthMethod;
use crate::errors::{AuthError, json_response};
use crate::faults::CredentialsRevoked;
use crate::state::{AppState, SharedState};

pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// `POST /oauth/token`
pub async fn token(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    revoked: Option<Extension<CredentialsRevoked>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AuthError> {
    let mut form = read_form(&headers, &body)?;
    basic_credentials(&headers, &mut form);
    // A revoked (rotated or deleted) secret is refused as a wrong one is.
    if revoked.is_some() && form.contains_key("client_secret") {
        return Err(unauthorized());
    }
    let ip = client_ip(peer);
    // Tokens name the domain they were requested through (for a code, that of its `/authorize`,
    // which the exchange must come through too); the Management API audience stays canonical.
    let issuer = state.tenant.issuer_for(&headers);
    let answer = match form.get("grant_type").map(String::as_str) {
        None => Err(AuthError::invalid_request(
            "Missing required parameter: grant_type",
        )),
        Some("client_credentials") => client_credentials(&state, &form, issuer),
        Some(PASSWORD_REALM) => password_realm(&state, &form, ip, issuer),
        Some("authorization_code") => code_grant::exchange(&state, &form, ip, issuer),
        Some(other) => Err(AuthError::new(
            StatusCode::FORBIDDEN,
            "unsupported_grant_type",
            format!("Unsupported grant type: {other}"),
        )),
    }?;
    let mut response = json_response(StatusCode::OK, &answer);
    // Token answers must not be cached (RFC 6749 §5.1).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `client_secret_basic`: credentials in an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap, form: &mut Form) {
    let decoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
        form.entry("client_id".into())
            .or_insert_with(|| id.to_owned());
        form.entry("client_secret".into())
            .or_insert_with(|| secret.to_owned());
    }
}

fn client_credentials(state: &AppState, form: &Form, issuer: &str) -> Result<Value, AuthError> {
    let client_id = form.get("client_id").ok_or_else(unauthorized)?;
    let client = state.tenant.client(client_id).ok_or_else(unauthorized)?;
    if client.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
        return Err(AuthError::new(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "Grant type 'client_credentials' not allowed for the client.",
        ));
    }
    if form.get("client_secret") != Some(&client.client_secret) {
        return Err(unauthorized());
    }
    let audience = form.get("audience").ok_or_else(|| {
        AuthError::access_denied(
            StatusCode::FORBIDDEN,
            "No audience parameter was provided, and no default audience has been configured",
        )
    })?;
    if *audience != state.tenant.management_audience {
        return Err(AuthError::access_denied(
            StatusCode::FORBIDDEN,
            format!("Service not enabled within domain: {audience}"),
        ));
    }
    if client.scopes.is_empty() {
        return Err(AuthError::access_denied(
            StatusCode::FORBIDDEN,
            format!(
                "Client is not authorized to access \"{audience}\". You need to create a \
                 \"client-grant\" associated to this API. See: \
                 https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
            ),
        ));
    }
    let scopes: Vec<&str> = match form.get("scope").filter(|s| !s.trim().is_empty()) {
        None => client.scopes.iter().map(String::as_str).collect(),
        Some(requested) => {
            let requested: Vec<&str> = requested.split_whitespace().collect();
            let missing: Vec<&str> = requested
                .iter()
                .copied()
                .filter(|s| !client.scopes.iter().any(|c| c == s))
                .collect();
            if !missing.is_empty() {
                return Err(AuthError::access_denied(
                    StatusCode::FORBIDDEN,
                    format!("Client has not been granted scopes: {}", missing.join(", ")),
                ));
            }
            requested
        }
    };
    let scope = scopes.join(" ");
    let now = unix_now();
    let ttl = ttl_seconds(state);
    let claims = json!({
        "iss": issuer,
        "sub": format!("{client_id}@clients"),
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "scope": scope,
        "gty": "client-credentials",
        "azp": client_id,
    });
    let access_token = sign(state, &claims)?;
    Ok(json!({
        "access_token": access_token,
        "scope": scope,
        "expires_in": ttl,
        "token_type": "Bearer",
    }))
}

fn required<'a>(form: &'a Form, name: &str) -> Result<&'a str, AuthError> {
    form.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthError::invalid_request(format!("Missing required parameter: {name}")))
}

fn password_realm(
    state: &AppState,
    form: &Form,
    ip: Ipv4Addr,
    issuer: &str,
) -> Result<Value, AuthError> {
    let client_id = required(form, "client_id")?;
    let client = state.tenant.client(client_id).ok_or_else(unauthorized)?;
    // A confidential client authenticates; a public one (no secret sent) is trusted, as a
    // native app's would be.
    if form
        .get("client_secret")
        .is_some_and(|s| *s != client.client_secret)
    {
        return Err(unauthorized());
    }
    let username = required(form, "username")?;
    let password = required(form, "password")?;
    let realm = required(form, "realm")?;
    let attempt = Attempt {
        client_id,
        connection: realm,
        username,
        proof: Proof::Password(password),
        ip,
    };
    let login = authenticate(state, &attempt).map_err(|refusal| match refusal {
        Refusal::UnknownConnection => AuthError::invalid_request(format!("Unknown realm: {realm}")),
        Refusal::WrongCredentials => AuthError::new(
            StatusCode::FORBIDDEN,
            "invalid_grant",
            "Wrong email or password.",
        ),
        Refusal::TooManyAttempts => AuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Your account has been blocked after multiple consecutive login attempts. We've sent \
             you an email with instructions on how to unblock it.",
        ),
        Refusal::Blocked => {
            AuthError::new(StatusCode::UNAUTHORIZED, "unauthorized", "user is blocked")
        }
    })?;
    let scope = form
        .get("scope")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let request = TokenRequest {
        client_id,
        issuer,
        audience: form.get("audience").map(String::as_str),
        scope: &scope,
        nonce: None,
        sid: None,
        gty: Some("password"),
    };
    user_tokens::issue(state, login, &request)
}
