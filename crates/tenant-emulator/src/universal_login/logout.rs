//! Logout: Auth0's `GET /v2/logout` (`client_id`, `returnTo`) and the OIDC RP-initiated
//! `GET /oidc/logout` (`id_token_hint`, `client_id`, `post_logout_redirect_uri`, `state`). Both
//! end the browser's login session (logging `slo`) and redirect only to one of the client's
//! Allowed Logout URLs: to the first of them when none is asked for, nowhere when there is no
//! client. The emulator has no tenant-level list, so a redirect without a client is refused.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{browser_cookie, clear_cookie, page, redirect, with_query};
use crate::auth_api::bearer::{Times, verify};
use crate::auth_api::client_ip;
use crate::config::ClientConfig;
use crate::state::{AppState, SharedState};
use crate::store::{LogEvent, LogKind};

type Params = Query<HashMap<String, String>>;

/// `GET /v2/logout`
pub async fn v2_logout(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    match destination(&state, param("client_id"), param("returnTo"), "returnTo") {
        Ok((client, target)) => end(&state, &headers, client, peer, target),
        Err(description) => page::error("invalid_request", &description),
    }
}

/// `GET /oidc/logout`
pub async fn oidc_logout(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let hinted = match param("id_token_hint") {
        None => None,
        Some(hint) => {
            let issuer = state.tenant.issuer_for(&headers);
            let Some(claims) = verify(&state, hint, issuer, Times::Ignored) else {
                return page::error("invalid_request", "Invalid id_token_hint");
            };
            audience(&claims)
        }
    };
    let client_id = param("client_id").or(hinted.as_deref());
    let requested = param("post_logout_redirect_uri");
    match destination(&state, client_id, requested, "post_logout_redirect_uri") {
        Ok((client, target)) => {
            let target = match (target, param("state")) {
                (Some(url), Some(s)) => Some(with_query(&url, &[("state", s)])),
                (target, _) => target,
            };
            end(&state, &headers, client, peer, target)
        }
        Err(description) => page::error("invalid_request", &description),
    }
}

/// The first `aud` of an ID token: the client it was issued to.
fn audience(claims: &Value) -> Option<String> {
    match claims.get("aud")? {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(auds) => auds.first()?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The client named by the request and where to send the browser after logout, in Auth0's
/// order; or why the request is refused.
fn destination<'a>(
    state: &'a AppState,
    client_id: Option<&str>,
    requested: Option<&str>,
    parameter: &str,
) -> Result<(Option<&'a ClientConfig>, Option<String>), String> {
    let client = match client_id {
        None => None,
        Some(id) => Some(
            state
                .tenant
                .client(id)
                .ok_or_else(|| format!("Unknown client: {id}"))?,
        ),
    };
    let target = match (client, requested) {
        (_, None) => client.and_then(|c| c.allowed_logout_urls.first().cloned()),
        (Some(client), Some(url)) if client.allowed_logout_urls.iter().any(|u| u == url) => {
            Some(url.to_owned())
        }
        (_, Some(url)) => {
            return Err(format!(
                r#"The "{parameter}" querystring parameter "{url}" is not defined as a valid URL in "Allowed Logout URLs"."#
            ));
        }
    };
    Ok((client, target))
}

/// Ends the login session and answers: a redirect, or Auth0's bare "OK".
fn end(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<&ClientConfig>,
    peer: SocketAddr,
    target: Option<String>,
) -> Response {
    let ended = browser_cookie(headers).and_then(|browser| state.login.end_session(browser));
    if let Some(session) = ended {
        let mut store = state.write();
        let mut event = LogEvent::new(state.clock.now(), LogKind::Logout);
        event.ip = client_ip(peer);
        event.app = client.map_or(0, |c| store.directory.app_index(&c.client_id));
        if let Some(key) = store.interned_id(&session.user_id) {
            store.logs.push(&key, event);
        }
    }
    let mut response = match target {
        Some(url) => redirect(&url),
        None => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            "OK",
        )
            .into_response(),
    };
    clear_cookie(&mut response);
    response
}
