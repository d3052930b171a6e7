//! Signing in and out, for both halves of the portal, and what every other handler asks first:
//! a live session (GET), or a live session and its CSRF token (POST).
//!
//! Sign-in: `/…/login` makes a transaction (random `state`, `nonce` and PKCE verifier) kept in
//! an encrypted cookie bound to this browser, and sends the browser to the issuer;
//! `/…/callback` checks `state` against that cookie, exchanges the code with the verifier,
//! verifies the ID token (and its `nonce`), checks that the access token verifies as the kind of
//! caller this half serves, and starts the session. Sign-out (a POST with the CSRF token) ends
//! the session here and at the issuer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use serde::Deserialize;

use super::Portal;
use super::oidc::Provider;
use super::page::{message_page, see_other};
use super::session::{NoSession, Realm, Session, Transaction, now_ms, random_token, same_secret};
use crate::auth::Caller;

/// A path of `realm` to come back to, or the realm's home: never another site.
fn local_path(realm: Realm, wanted: Option<&str>) -> String {
    let home = format!("{}/", realm.path());
    match wanted {
        Some(path)
            if path.starts_with(&home)
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => home,
    }
}

impl Portal {
    /// The session of `realm`, or the answer that sends the person to sign in.
    pub(crate) fn signed_in(
        &self,
        headers: &HeaderMap,
        realm: Realm,
        uri: &Uri,
    ) -> Result<(Session, PrivateCookieJar), Response> {
        let jar = self.cookies.jar(headers);
        match self.live(&jar, realm) {
            Ok(session) => Ok((session, jar)),
            Err(_) => {
                let back = uri.path_and_query().map_or("", |p| p.as_str());
                let login = match realm {
                    Realm::Admin => format!(
                        "/admin/login?{}",
                        serde_urlencoded::to_string([("return_to", back)]).unwrap_or_default()
                    ),
                    // The tenant chooser comes first.
                    Realm::Account => "/account/".to_owned(),
                };
                Err(see_other(&login))
            }
        }
    }

    fn live(&self, jar: &PrivateCookieJar, realm: Realm) -> Result<Session, NoSession> {
        let session = self.cookies.session(jar, realm)?;
        if self.signed_out.contains_key(&session.id) {
            return Err(NoSession::Absent);
        }
        Ok(session)
    }

    /// The session of a form's POST: live, and the form's CSRF token is the session's (and
    /// the request came from this site, when the browser says where from).
    pub(crate) fn posted(
        &self,
        headers: &HeaderMap,
        realm: Realm,
        form: &HashMap<String, String>,
    ) -> Result<(Session, PrivateCookieJar), Response> {
        let jar = self.cookies.jar(headers);
        let session = match self.live(&jar, realm) {
            Ok(session) => session,
            Err(why) => {
                let text = match why {
                    NoSession::Expired => {
                        "Your session has ended, so nothing was changed. Sign in again and repeat what you were doing."
                    }
                    NoSession::Absent => "You are not signed in, so nothing was changed.",
                };
                return Err(message_page(
                    realm,
                    StatusCode::UNAUTHORIZED,
                    "Signed out",
                    text,
                    (&format!("{}/", realm.path()), "Sign in"),
                ));
            }
        };
        let origin_ok = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_none_or(|origin| origin == self.origin);
        let token_ok = form
            .get("csrf")
            .is_some_and(|given| same_secret(given, &session.csrf));
        if !(origin_ok && token_ok) {
            return Err(message_page(
                realm,
                StatusCode::FORBIDDEN,
                "Not sent from this page",
                "This form did not come from a page of this site, or it is older than your current sign-in, so nothing was changed. Reload the page and try again.",
                (&format!("{}/", realm.path()), "Back"),
            ));
        }
        Ok((session, jar))
    }

    /// The answer to a successful form: back to `to`, with `flash` on that page.
    pub(crate) fn after_post(
        &self,
        jar: PrivateCookieJar,
        mut session: Session,
        flash: super::session::Flash,
        to: &str,
    ) -> Response {
        session.flash = Some(flash);
        (self.cookies.store(jar, &session), see_other(to)).into_response()
    }

    /// `response`, with the session stored again without its flash (shown once) and marked
    /// as used now.
    pub(crate) fn with_session(
        &self,
        jar: PrivateCookieJar,
        mut session: Session,
        response: Response,
    ) -> Response {
        session.flash = None;
        (self.cookies.store(jar, &session), response).into_response()
    }

    async fn start(
        &self,
        headers: &HeaderMap,
        realm: Realm,
        provider: &Provider,
        return_to: String,
        tenant: Option<String>,
    ) -> Response {
        let transaction = Transaction {
            state: random_token(),
            nonce: random_token(),
            verifier: random_token(),
            return_to,
            tenant,
            created: now_ms(),
        };
        let url = match provider
            .authorization_url(
                &transaction.state,
                &transaction.nonce,
                &transaction.verifier,
            )
            .await
        {
            Ok(url) => url,
            Err(error) => {
                return message_page(
                    realm,
                    StatusCode::BAD_GATEWAY,
                    "Sign-in unavailable",
                    &error.0,
                    (&format!("{}/", realm.path()), "Try again"),
                );
            }
        };
        let jar = self.cookies.jar(headers);
        let jar = self.cookies.start_transaction(jar, realm, &transaction);
        (jar, see_other(&url)).into_response()
    }

    async fn finish(&self, headers: &HeaderMap, realm: Realm, query: &CallbackQuery) -> Response {
        let again = format!("{}/", realm.path());
        let refuse = |status: StatusCode, text: &str| {
            message_page(
                realm,
                status,
                "Sign-in failed",
                text,
                (&again, "Sign in again"),
            )
        };
        let jar = self.cookies.jar(headers);
        let Some(transaction) = self.cookies.transaction(&jar, realm) else {
            return refuse(
                StatusCode::BAD_REQUEST,
                "This sign-in was not started in this browser, or it took too long. Start again.",
            );
        };
        let jar = self.cookies.end_transaction(jar, realm);
        let state_ok = query
            .state
            .as_deref()
            .is_some_and(|s| same_secret(s, &transaction.state));
        if !state_ok {
            return (
                jar,
                refuse(
                    StatusCode::BAD_REQUEST,
                    "The answer of the sign-in service does not belong to the sign-in this browser started (state). Start again.",
                ),
            )
                .into_response();
        }
        if let Some(error) = &query.error {
            let text = format!(
                "The sign-in service refused: {}",
                query.error_description.as_deref().unwrap_or(error)
            );
            return (jar, refuse(StatusCode::FORBIDDEN, &text)).into_response();
        }
        let Some(code) = query.code.as_deref() else {
            return (
                jar,
                refuse(StatusCode::BAD_REQUEST, "The sign-in service sent no code."),
            )
                .into_response();
        };
        let provider = match realm {
            Realm::Admin => Some(&self.operators),
            Realm::Account => transaction
                .tenant
                .as_deref()
                .and_then(|t| self.account_tenant(t))
                .map(|t| &t.provider),
        };
        let Some(provider) = provider else {
            return (jar, refuse(StatusCode::BAD_REQUEST, "Unknown tenant.")).into_response();
        };
        let signed_in = match provider
            .exchange(code, &transaction.verifier, &transaction.nonce)
            .await
        {
            Ok(signed_in) => signed_in,
            Err(error) => return (jar, refuse(StatusCode::BAD_GATEWAY, &error.0)).into_response(),
        };
        // The access token must verify as this half's kind of caller, the person of the ID
        // token.
        let caller = self
            .gateway
            .verifier()
            .verify(&signed_in.access_token)
            .await;
        let fits = match (&caller, realm) {
            (Ok(caller), Realm::Admin) => matches!(&**caller, Caller::Operator(_)),
            (Ok(caller), Realm::Account) => match &**caller {
                Caller::EndUser(user) => transaction.tenant.as_deref() == Some(&**user.tenant()),
                Caller::Operator(_) => false,
            },
            (Err(_), _) => false,
        };
        let same_person = caller
            .as_ref()
            .is_ok_and(|c| c.identity().1 == signed_in.subject);
        if !(fits && same_person) {
            tracing::warn!(
                ?realm,
                "a sign-in's access token is not one this portal serves"
            );
            return (
                jar,
                refuse(
                    StatusCode::FORBIDDEN,
                    match realm {
                        Realm::Admin => "This account is not an operator of tenantgraph.",
                        Realm::Account => "This account cannot use this page.",
                    },
                ),
            )
                .into_response();
        }
        let now = now_ms();
        let session = Session {
            id: random_token(),
            realm,
            tenant: transaction.tenant.clone(),
            token: signed_in.access_token,
            token_expires: signed_in.expires,
            created: now,
            seen: now,
            csrf: random_token(),
            name: signed_in.name,
            email: signed_in.email,
            flash: None,
        };
        let jar = self.cookies.store(jar, &session);
        (jar, see_other(&transaction.return_to)).into_response()
    }

    async fn sign_out(
        &self,
        headers: &HeaderMap,
        realm: Realm,
        form: &HashMap<String, String>,
    ) -> Response {
        let (session, jar) = match self.posted(headers, realm, form) {
            Ok(found) => found,
            Err(refused) => return refused,
        };
        self.signed_out.insert(session.id.clone(), ()).await;
        let jar = self.cookies.forget(jar, realm);
        let landing = format!("{}{}/signed-out", self.base, realm.path());
        let provider = match realm {
            Realm::Admin => Some(&self.operators),
            Realm::Account => session
                .tenant
                .as_deref()
                .and_then(|t| self.account_tenant(t))
                .map(|t| &t.provider),
        };
        let to = match provider {
            Some(provider) => provider.logout_url(&landing).await.unwrap_or(landing),
            None => landing,
        };
        (jar, see_other(&to)).into_response()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    return_to: Option<String>,
    tenant: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub(crate) async fn admin_login(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let back = local_path(Realm::Admin, query.return_to.as_deref());
    portal
        .start(&headers, Realm::Admin, &portal.operators, back, None)
        .await
}

pub(crate) async fn admin_callback(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    portal.finish(&headers, Realm::Admin, &query).await
}

pub(crate) async fn admin_logout(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    portal.sign_out(&headers, Realm::Admin, &form).await
}

pub(crate) async fn admin_signed_out() -> Response {
    message_page(
        Realm::Admin,
        StatusCode::OK,
        "Signed out",
        "You are signed out of the admin portal.",
        ("/admin/", "Sign in again"),
    )
}

pub(crate) async fn account_login(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let wanted = query.tenant.as_deref().unwrap_or_default().trim();
    // By id or by name, ignoring case.
    let tenant = portal.tenants.iter().find(|t| {
        t.id.eq_ignore_ascii_case(wanted) || t.name.to_lowercase() == wanted.to_lowercase()
    });
    let Some(tenant) = tenant else {
        return message_page(
            Realm::Account,
            StatusCode::NOT_FOUND,
            "Unknown organization",
            &format!("No sign-in is known as “{wanted}”. Check the name and try again."),
            ("/account/", "Back"),
        );
    };
    let back = local_path(Realm::Account, query.return_to.as_deref());
    portal
        .start(
            &headers,
            Realm::Account,
            &tenant.provider,
            back,
            Some(tenant.id.clone()),
        )
        .await
}

pub(crate) async fn account_callback(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    portal.finish(&headers, Realm::Account, &query).await
}

pub(crate) async fn account_logout(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    portal.sign_out(&headers, Realm::Account, &form).await
}

pub(crate) async fn account_signed_out() -> Response {
    message_page(
        Realm::Account,
        StatusCode::OK,
        "Signed out",
        "You are signed out.",
        ("/account/", "Sign in again"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_the_realm_are_returned_to() {
        assert_eq!(
            local_path(Realm::Admin, Some("/admin/users?q=a")),
            "/admin/users?q=a"
        );
        for bad in [
            "https://evil.example/admin/",
            "//evil.example",
            "/account/",
            "/admin",
        ] {
            assert_eq!(local_path(Realm::Admin, Some(bad)), "/admin/", "{bad}");
        }
        assert_eq!(local_path(Realm::Account, None), "/account/");
    }
}
