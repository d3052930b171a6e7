//! `GET /authorize` with `response_type=code`. First the client and its `redirect_uri` (against
//! the application's Allowed Callback URLs): when either is wrong Auth0 shows its own error page
//! and never redirects. Then the rest of the request, whose errors go back to the application.
//! Then single sign-on: a browser with a login session on this domain gets a code at once (unless
//! `prompt=login`); otherwise the request becomes a login transaction and the browser goes to the
//! login page with nothing but the transaction id. The domain called through (the canonical or the
//! custom one) is kept with the request: its tokens name that domain as their issuer.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::{browser_cookie, callback_code, callback_error, page, redirect, set_cookie};
use crate::login_state::{Authorization, ChallengeMethod, Pkce};
use crate::state::{AppState, SharedState};

pub async fn authorize(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(client_id) = param("client_id") else {
        return page::error("invalid_request", "Missing required parameter: client_id");
    };
    let Some(client) = state.tenant.client(client_id) else {
        return page::error("invalid_request", &format!("Unknown client: {client_id}"));
    };
    let Some(redirect_uri) = param("redirect_uri") else {
        return page::error(
            "invalid_request",
            "Missing required parameter: redirect_uri",
        );
    };
    if !client.callbacks.iter().any(|c| c == redirect_uri) {
        return page::callback_mismatch(redirect_uri);
    }
    let client_state = param("state");
    let refuse = |error: &str, description: &str| {
        callback_error(redirect_uri, client_state, error, description)
    };
    match param("response_type") {
        Some("code") => {}
        None => {
            return refuse(
                "invalid_request",
                "Missing required parameter: response_type",
            );
        }
        Some(other) => {
            return refuse(
                "unsupported_response_type",
                &format!("Unsupported response type: {other}"),
            );
        }
    }
    if let Some(mode) = param("response_mode").filter(|m| *m != "query") {
        return refuse(
            "invalid_request",
            &format!("Unsupported response_mode: {mode}"),
        );
    }
    let pkce = match (param("code_challenge"), param("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => {
            return refuse(
                "invalid_request",
                "Missing required parameter: code_challenge",
            );
        }
        // RFC 7636 §4.3: without a method the challenge is the verifier itself.
        (Some(challenge), method) => match ChallengeMethod::parse(method.unwrap_or("plain")) {
            Some(method) => Some(Pkce {
                challenge: challenge.to_owned(),
                method,
            }),
            None => return refuse("invalid_request", "Invalid code_challenge_method"),
        },
    };
    if let Some(name) = param("connection") {
        let database = state
            .read()
            .directory
            .connection(name)
            .map(crate::store::Connection::is_database);
        match database {
            Some(true) => {}
            Some(false) => {
                return refuse(
                    "invalid_request",
                    &format!("the connection {name} is not emulated: only database users sign in"),
                );
            }
            None => return refuse("invalid_request", "the connection was not found"),
        }
    }
    let issuer = state.tenant.issuer_for(&headers);
    let authorization = Authorization {
        issuer: issuer.to_owned(),
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: param("scope")
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
        state: client_state.map(str::to_owned),
        nonce: param("nonce").map(str::to_owned),
        audience: param("audience").map(str::to_owned),
        pkce,
        login_hint: param("login_hint").map(str::to_owned),
    };
    let prompts: Vec<&str> = param("prompt").unwrap_or_default().split(' ').collect();
    let now = Instant::now();
    let (browser, new_browser) = state.login.browser(browser_cookie(&headers), now);
    if !prompts.contains(&"login")
        && let Some(session) = state.login.session(&browser, issuer, now)
    {
        match standing(&state, &session.user_id) {
            Standing::Good => {
                let code = state.login.issue(&authorization, &session, now);
                return callback_code(redirect_uri, client_state, &code);
            }
            Standing::Blocked => return refuse("unauthorized", "user is blocked"),
            // Deleted since signing in: the session is worthless.
            Standing::Gone => {
                state.login.end_session(&browser);
            }
        }
    }
    if prompts.contains(&"none") {
        return refuse("login_required", "Login required");
    }
    let transaction = state.login.begin(&browser, authorization, now);
    let mut response = redirect(&format!("/u/login?state={transaction}"));
    if new_browser {
        set_cookie(&mut response, &browser);
    }
    response
}

enum Standing {
    Good,
    Blocked,
    Gone,
}

/// Whether a signed-in user may still be given codes.
fn standing(state: &AppState, user_id: &str) -> Standing {
    match state.read().get(user_id) {
        None => Standing::Gone,
        Some(profile) if profile.get("blocked").and_then(Value::as_bool) == Some(true) => {
            Standing::Blocked
        }
        Some(_) => Standing::Good,
    }
}
