//! The Authentication API: `POST /oauth/token` (see `token`), the key set and OpenID
//! configuration, and `POST /dbconnections/change_password`.

mod token;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::errors::{AuthError, json_response};
use crate::state::SharedState;
use crate::store::{LogEvent, LogKind};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/oauth/token", post(token::token))
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

/// `GET /.well-known/jwks.json`
async fn jwks(State(state): State<SharedState>) -> Response {
    let keys = state.keys().jwks();
    json_response(StatusCode::OK, &keys)
}

/// `GET /.well-known/openid-configuration`, naming the issuer of the domain asked through (the
/// custom domain's when its `Host` is the custom domain) and pointing at this emulator's own
/// address so that a verifier discovering keys from the issuer can reach them.
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
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
            "token_endpoint": format!("{base}/oauth/token"),
            "grant_types_supported": [
                "client_credentials",
                "http://auth0.com/oauth/grant-type/password-realm"
            ],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
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
