//! The Authentication API: `POST /oauth/token` (see `token`), `GET /userinfo`, the key set and
//! OpenID configuration, and `POST /dbconnections/change_password`. The browser side of sign-in
//! (`/authorize`, the login page, logout) is `universal_login`, which shares `authenticate`.

pub(crate) mod authenticate;
pub(crate) mod bearer;
mod code_grant;
mod token;
mod user_tokens;
mod userinfo;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::errors::{AuthError, json_response};
use crate::state::{AppState, SharedState};
use crate::store::{LogEvent, LogKind};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/oauth/token", post(token::token))
        .route("/userinfo", get(userinfo::userinfo))
        .route("/.well-known/jwks.json", get(jwks))
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/dbconnections/change_password", post(change_password))
}

/// The parameters of an Authentication API request, from a JSON or a form body.
pub type Form = HashMap<String, String>;

/// Reads a JSON or `application/x-www-form-urlencoded` body into string parameters.
pub fn read_form(headers: &HeaderMap, body: &Bytes) -> Result<Form, AuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(|pairs| pairs.into_iter().collect())
            .map_err(|_| AuthError::invalid_request("Invalid form body"));
    }
    let json: serde_json::Map<String, Value> = serde_json::from_slice(body)
        .map_err(|_| AuthError::invalid_request("Invalid JSON body"))?;
    Ok(json
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            Value::Number(n) => Some((k, n.to_string())),
            Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect())
}

/// The client's IPv4 address, as logs and brute-force blocks record it.
pub(crate) fn client_ip(peer: SocketAddr) -> Ipv4Addr {
    match peer.ip() {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST),
    }
}

/// 401 `access_denied` "Unauthorized": the token endpoint's answer to bad client credentials.
fn unauthorized() -> AuthError {
    AuthError::access_denied(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// Signs with the tenant's current key (RS256).
fn sign(state: &AppState, claims: &Value) -> Result<String, AuthError> {
    let key = Arc::clone(state.keys().current());
    key.sign(claims, None).map_err(|error| {
        tracing::error!(%error, "signing a token");
        AuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Could not sign the token",
        )
    })
}

/// Lifetime of access tokens, in seconds.
fn ttl_seconds(state: &AppState) -> i64 {
    i64::try_from(state.tenant.token_ttl.as_secs()).unwrap_or(86_400)
}

/// `GET /.well-known/jwks.json`
async fn jwks(State(state): State<SharedState>) -> Response {
    let keys = state.keys().jwks();
    json_response(StatusCode::OK, &keys)
}

/// `GET /.well-known/openid-configuration`: Auth0's discovery document, trimmed to what the
/// emulator serves (no device, MFA, registration, revocation or back-channel endpoints; only
/// `response_type=code` with the `query` response mode; RS256 only). It names the issuer of the
/// domain asked through (the custom domain's when the `Host` is the custom domain) and puts every
/// endpoint at the emulator's own address, so that clients discovering from the issuer can reach
/// them.
async fn openid_configuration(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let base = format!("http://{host}");
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": state.tenant.issuer_for(&headers),
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/oauth/token"),
            "userinfo_endpoint": format!("{base}/userinfo"),
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
            "scopes_supported": [
                "openid", "profile", "offline_access", "name", "given_name", "family_name",
                "nickname", "email", "email_verified", "picture", "created_at", "identities",
                "phone", "address"
            ],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": [
                "aud", "auth_time", "created_at", "email", "email_verified", "exp",
                "family_name", "given_name", "iat", "identities", "iss", "name", "nickname",
                "phone_number", "picture", "sub"
            ],
            "request_uri_parameter_supported": false,
            "request_parameter_supported": false,
            "id_token_signing_alg_values_supported": ["RS256"],
            "end_session_endpoint": format!("{base}/oidc/logout"),
        }),
    )
}

const RESET_SENT: &str = "We've just sent you an email to reset your password.";

/// `POST /dbconnections/change_password`: the same answer whether or not the email is known, so
/// the endpoint cannot be used to find accounts; a known user gets an `scpr` log event. Limited
/// per (email, IP) as Auth0 limits it, known email or not (a difference would reveal accounts).
async fn change_password(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AuthError> {
    let form = read_form(&headers, &body)?;
    let connection = form
        .get("connection")
        .ok_or_else(|| AuthError::invalid_request("Missing required parameter: connection"))?;
    let email = form
        .get("email")
        .ok_or_else(|| AuthError::invalid_request("Missing required parameter: email"))?;
    if !state
        .change_password_limiter
        .allow((email.to_lowercase(), peer.ip()))
    {
        return Err(AuthError::too_many_requests());
    }
    let now = state.clock.now();
    let mut store = state.write();
    let Some(conn) = store.directory.connection(connection).cloned() else {
        return Err(AuthError::invalid_request("connection not found"));
    };
    if !conn.is_database() {
        return Err(AuthError::invalid_request(
            "connection is not a database connection",
        ));
    }
    let holder = store.by_connection_email(&conn.name, email).cloned();
    if let Some(user) = holder {
        let id = crate::store::user_id(&user).unwrap_or_default();
        if let Some(id) = store.interned_id(id) {
            let mut event = LogEvent::new(now, LogKind::PasswordChangeRequest);
            event.app = form
                .get("client_id")
                .map_or(0, |c| store.directory.app_index(c));
            event.connection = store.directory.connection_index(&conn.name);
            event.user_name = Some(Arc::from(email.to_lowercase()));
            store.logs.push(&id, event);
        }
    }
    drop(store);
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        RESET_SENT,
    )
        .into_response())
}
