//! The authorization code grant of `POST /oauth/token`: a code from the login page is exchanged,
//! once, by the client it was issued to, through the domain `/authorize` was called on, with the
//! same `redirect_uri` and the PKCE verifier behind its challenge. The tokens name that domain as
//! their issuer. Logs `seacft` or `feacft`.

use std::net::Ipv4Addr;
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::Value;

use super::authenticate::Login;
use super::user_tokens::{self, TokenRequest};
use super::{Form, unauthorized};
use crate::config::TokenEndpointAuthMethod;
use crate::errors::AuthError;
use crate::state::AppState;
use crate::store::{LogEvent, LogKind, Store};

const INVALID_CODE: &str = "Invalid authorization code";
const BAD_VERIFIER: &str = "Failed to verify code verifier";

/// Exchanges a code sent through the domain whose issuer is `issuer`.
pub fn exchange(
    state: &AppState,
    form: &Form,
    ip: Ipv4Addr,
    issuer: &str,
) -> Result<Value, AuthError> {
    let given = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let client_id = given("client_id").ok_or_else(unauthorized)?;
    let client = state.tenant.client(client_id).ok_or_else(unauthorized)?;
    let confidential = client.token_endpoint_auth_method != TokenEndpointAuthMethod::None;
    if confidential && given("client_secret") != Some(client.client_secret.as_str()) {
        return Err(unauthorized());
    }
    let code = given("code")
        .ok_or_else(|| AuthError::invalid_request("Missing required parameter: code"))?;
    // Taken before any other check: a code is spent by its first use, good or bad.
    let Some(grant) = state.login.redeem(code, Instant::now()) else {
        return Err(refuse(state, client_id, None, ip, INVALID_CODE));
    };
    let user = Some(grant.user_id.as_str());
    let authorization = &grant.authorization;
    if authorization.client_id != client_id
        || authorization.issuer != issuer
        || given("redirect_uri") != Some(authorization.redirect_uri.as_str())
    {
        return Err(refuse(state, client_id, user, ip, INVALID_CODE));
    }
    match &authorization.pkce {
        Some(pkce) if !given("code_verifier").is_some_and(|v| pkce.verifies(v)) => {
            return Err(refuse(state, client_id, user, ip, BAD_VERIFIER));
        }
        // A public client proves nothing without PKCE: it is not authenticated at all.
        None if !confidential => {
            record_failure(state, client_id, user, ip, "Unauthorized");
            return Err(unauthorized());
        }
        _ => {}
    }
    let login = {
        let mut store = state.write();
        let login = Login::of(&store, &grant.user_id);
        if login.is_some()
            && let Some(key) = store.interned_id(&grant.user_id)
        {
            let event = event(
                state,
                &mut store,
                LogKind::CodeExchange,
                client_id,
                ip,
                None,
            );
            store.logs.push(&key, event);
        }
        login
    };
    // The user was deleted since signing in.
    let login = login.ok_or_else(|| refuse(state, client_id, None, ip, INVALID_CODE))?;
    let request = TokenRequest {
        client_id,
        issuer,
        audience: authorization.audience.as_deref(),
        scope: &authorization.scope,
        nonce: authorization.nonce.as_deref(),
        sid: Some(&grant.sid),
        gty: None,
    };
    user_tokens::issue(state, login, &request)
}

/// Logs `feacft` and answers 403 `invalid_grant`.
fn refuse(
    state: &AppState,
    client_id: &str,
    user_id: Option<&str>,
    ip: Ipv4Addr,
    description: &'static str,
) -> AuthError {
    record_failure(state, client_id, user_id, ip, description);
    AuthError::new(StatusCode::FORBIDDEN, "invalid_grant", description)
}

/// Logs `feacft`, on the user's log when the code named one.
fn record_failure(
    state: &AppState,
    client_id: &str,
    user_id: Option<&str>,
    ip: Ipv4Addr,
    description: &str,
) {
    let mut store = state.write();
    let event = event(
        state,
        &mut store,
        LogKind::FailedCodeExchange,
        client_id,
        ip,
        Some(description),
    );
    match user_id.and_then(|id| store.interned_id(id)) {
        Some(key) => store.logs.push(&key, event),
        None => store.logs.push_unattributed(event),
    }
}

fn event(
    state: &AppState,
    store: &mut Store,
    kind: LogKind,
    client_id: &str,
    ip: Ipv4Addr,
    description: Option<&str>,
) -> LogEvent {
    let mut event = LogEvent::new(state.clock.now(), kind);
    event.ip = ip;
    event.app = store.directory.app_index(client_id);
    event.description = description.map(Into::into);
    event
}
