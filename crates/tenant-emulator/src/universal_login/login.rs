//! The login page, `/u/login?state={transaction}`: shown for an open transaction of this browser;
//! its form posts an email and password, or a persona, back to the same address. Success ends
//! the transaction with a login session and a redirect to the application with a code; a wrong
//! email or password shows the page again with Universal Login's message; an admin-blocked user
//! goes back to the application with `unauthorized`, as at Auth0.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::page::{self, FormError, LoginView};
use super::{browser_cookie, callback_code, callback_error, set_cookie};
use crate::auth_api::authenticate::{Attempt, Proof, Refusal, authenticate};
use crate::auth_api::client_ip;
use crate::config::{DATABASE_CONNECTION, Persona};
use crate::login_state::Authorization;
use crate::state::{AppState, SharedState};

#[derive(Deserialize)]
pub struct Transaction {
    state: Option<String>,
}

/// `GET /u/login`
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Query(query): Query<Transaction>,
) -> Response {
    let Some(transaction) = query.state else {
        return page::lost_session();
    };
    let Some(authorization) = open(&state, &headers, &transaction) else {
        return page::lost_session();
    };
    let email = authorization.login_hint.as_deref();
    render(&state, &transaction, &authorization, email, None)
}

/// `POST /u/login`
pub async fn submit(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<Transaction>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .map(|pairs| pairs.into_iter().collect())
            .unwrap_or_default();
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(transaction) = field("state").or(query.state.as_deref()) else {
        return page::lost_session();
    };
    let Some(browser) = browser_cookie(&headers) else {
        return page::lost_session();
    };
    let Some(authorization) = state.login.pending(transaction, browser, Instant::now()) else {
        return page::lost_session();
    };
    let again = |email: Option<&str>, error: FormError| {
        render(&state, transaction, &authorization, email, Some(error))
    };
    let (username, proof) = match field("persona") {
        Some(label) => {
            let Some(persona) = offered(&state).into_iter().find(|p| p.label == label) else {
                return again(None, FormError::Failure);
            };
            (persona.email, Proof::Persona)
        }
        None => {
            let Some(username) = field("username") else {
                return again(None, FormError::NoEmail);
            };
            let Some(password) = field("password") else {
                return again(Some(username), FormError::NoPassword);
            };
            (username.to_owned(), Proof::Password(password))
        }
    };
    let attempt = Attempt {
        client_id: &authorization.client_id,
        connection: DATABASE_CONNECTION,
        username: &username,
        proof,
        ip: client_ip(peer),
    };
    let user_id = match authenticate(&state, &attempt) {
        Ok(login) => crate::store::user_id(&login.profile)
            .unwrap_or_default()
            .to_owned(),
        Err(Refusal::WrongCredentials | Refusal::UnknownConnection) => {
            return again(Some(&username), FormError::WrongCredentials);
        }
        Err(Refusal::TooManyAttempts) => return again(Some(&username), FormError::UserBlocked),
        Err(Refusal::Blocked) => {
            state.login.abandon(transaction);
            return callback_error(
                &authorization.redirect_uri,
                authorization.state.as_deref(),
                "unauthorized",
                "user is blocked",
            );
        }
    };
    let Some(signed_in) = state
        .login
        .sign_in(transaction, browser, &user_id, Instant::now())
    else {
        return page::lost_session();
    };
    let authorization = &signed_in.authorization;
    let mut response = callback_code(
        &authorization.redirect_uri,
        authorization.state.as_deref(),
        &signed_in.code,
    );
    set_cookie(&mut response, &signed_in.browser);
    response
}

/// The authorization of an open transaction of the requesting browser.
fn open(state: &AppState, headers: &HeaderMap, transaction: &str) -> Option<Authorization> {
    let browser = browser_cookie(headers)?;
    state.login.pending(transaction, browser, Instant::now())
}

/// The personas the page offers: those whose email is a database user.
fn offered(state: &AppState) -> Vec<Persona> {
    let personas = state.login.personas();
    let store = state.read();
    personas
        .into_iter()
        .filter(|p| {
            store
                .by_connection_email(DATABASE_CONNECTION, &p.email)
                .is_some()
        })
        .collect()
}

fn render(
    state: &AppState,
    transaction: &str,
    authorization: &Authorization,
    email: Option<&str>,
    error: Option<FormError>,
) -> Response {
    let personas = offered(state);
    page::login(&LoginView {
        transaction,
        tenant: &state.tenant.name,
        client: &authorization.client_id,
        email,
        error,
        personas: &personas,
        redirect_uri: &authorization.redirect_uri,
    })
}
