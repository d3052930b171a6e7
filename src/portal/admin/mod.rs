//! The operators' pages. Each asks `viewer` for the operator's permissions first (what the
//! navigation and the buttons offer), then runs its own document as the operator; the scope
//! decides what comes back and refuses what the operator may not do, whatever a page offers.
//!
//! - `tenants`, `users` (search), `person`, `user` (one account and its actions), `create`,
//!   `dashboard`, `gdpr` (data-subject requests), `audit`.

pub(crate) mod audit;
pub(crate) mod create;
pub(crate) mod dashboard;
pub(crate) mod gdpr;
pub(crate) mod person;
pub(crate) mod tenants;
pub(crate) mod user;
pub(crate) mod users;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Portal;
use super::gql::Answer;
use super::page::{Chrome, document, has, html_response, see_other};
use super::session::{Realm, Session};

/// A signed-in operator on one request.
pub(crate) struct Operator {
    pub(crate) session: Session,
    pub(crate) jar: PrivateCookieJar,
    pub(crate) permissions: Vec<String>,
}

impl Operator {
    pub(crate) fn may(&self, permission: &str) -> bool {
        has(&self.permissions, permission)
    }
}

impl Portal {
    /// The signed-in operator and its permissions, or the answer that sends it to sign in.
    pub(crate) async fn operator(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<Operator, Response> {
        let (session, jar) = self.signed_in(headers, Realm::Admin, uri)?;
        let answer = self
            .run(&session, "{ viewer { permissions } }", Value::Null)
            .await;
        if answer.unauthenticated() {
            return Err(self.sign_in_again(jar, uri));
        }
        Ok(Operator {
            permissions: answer.permissions(),
            session,
            jar,
        })
    }

    /// The token was refused (expired, revoked): forget the session and sign in again.
    pub(crate) fn sign_in_again(&self, jar: PrivateCookieJar, uri: &Uri) -> Response {
        let jar = self.cookies.forget(jar, Realm::Admin);
        let back = uri.path_and_query().map_or("/admin/", |p| p.as_str());
        let to = format!(
            "/admin/login?{}",
            serde_urlencoded::to_string([("return_to", back)]).unwrap_or_default()
        );
        (jar, see_other(&to)).into_response()
    }

    /// An admin page: the layout around `body`, the flash shown once, the session renewed.
    pub(crate) fn admin_page(
        &self,
        operator: Operator,
        section: &str,
        title: &str,
        status: StatusCode,
        body: &Markup,
    ) -> Response {
        let chrome = Chrome {
            realm: Realm::Admin,
            session: Some(&operator.session),
            permissions: &operator.permissions,
            section,
        };
        let page = html_response(status, &document(&chrome, title, body));
        self.with_session(operator.jar, operator.session, page)
    }

    /// The page an operator without `permission` gets instead of a section.
    pub(crate) fn lacks(
        &self,
        operator: Operator,
        section: &str,
        title: &str,
        permission: &str,
    ) -> Response {
        let body = html! {
            div class="flash error" role="alert" {
                p { "This page needs the permission " code { (permission) } ", which your account does not hold." }
            }
        };
        self.admin_page(operator, section, title, StatusCode::FORBIDDEN, &body)
    }

    /// Runs a document for an admin page.
    pub(crate) async fn admin_run(
        &self,
        operator: &Operator,
        document: &str,
        variables: Value,
    ) -> Answer {
        self.run(&operator.session, document, variables).await
    }
}

pub(crate) async fn root() -> Response {
    see_other("/admin/")
}

/// The first section the operator may use.
pub(crate) async fn home(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let operator = match portal.operator(&headers, &uri).await {
        Ok(operator) => operator,
        Err(response) => return response,
    };
    let to = if operator.may("read:stats") {
        "/admin/dashboard"
    } else if operator.may("read:users") {
        "/admin/users"
    } else {
        "/admin/tenants"
    };
    portal.with_session(operator.jar, operator.session, see_other(to))
}

/// The tenants an operator may choose among, for filters and forms.
pub(crate) async fn tenant_choices(portal: &Portal, operator: &Operator) -> Vec<(String, String)> {
    let answer = portal
        .admin_run(operator, "{ tenants { id name } }", json!({}))
        .await;
    answer.data["tenants"]
        .as_array()
        .map(|tenants| {
            tenants
                .iter()
                .filter_map(|t| {
                    Some((t["id"].as_str()?.to_owned(), t["name"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `<option>`s of tenants, `selected` marked, with "All tenants" first when `all` is given.
pub(crate) fn tenant_options(
    tenants: &[(String, String)],
    selected: &str,
    all: Option<&str>,
) -> Markup {
    html! {
        @if let Some(label) = all {
            option value="" selected[selected.is_empty()] { (label) }
        }
        @for (id, name) in tenants {
            option value=(id) selected[id == selected] { (name) " (" (id) ")" }
        }
    }
}

/// What a path segment keeps as is: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The admin page of one user.
pub(crate) fn user_path(tenant: &str, id: &str) -> String {
    let encode = |text: &str| percent_encoding::utf8_percent_encode(text, SEGMENT).to_string();
    format!("/admin/user/{}/{}", encode(tenant), encode(id))
}
