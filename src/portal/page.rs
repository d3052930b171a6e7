//! What every page shares: the security headers, the layout (header, navigation, the signed-in
//! person, flash messages), and small pieces (tenant failure banners, initials, dates).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};

use super::Portal;
use super::gql::Answer;
use super::session::{Flash, Realm, Session};

/// Strict headers on every answer of the portal: the CSP, no framing, no referrer to other
/// sites, no sniffing, and pages never cached (they hold personal data).
pub(crate) async fn security_headers(
    State(portal): State<Arc<Portal>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, portal.csp.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A page of one of the portal's halves.
pub(crate) struct Chrome<'a> {
    pub(crate) realm: Realm,
    pub(crate) session: Option<&'a Session>,
    /// The operator's permissions: which sections the navigation offers.
    pub(crate) permissions: &'a [String],
    /// The section shown (its navigation entry is marked current).
    pub(crate) section: &'a str,
}

/// The admin sections: (key, label, path, permission needed).
const SECTIONS: [(&str, &str, &str, Option<&str>); 7] = [
    (
        "dashboard",
        "Dashboard",
        "/admin/dashboard",
        Some("read:stats"),
    ),
    ("tenants", "Tenants", "/admin/tenants", None),
    ("users", "Users", "/admin/users", Some("read:users")),
    ("person", "Person", "/admin/person", Some("read:users")),
    (
        "create",
        "Create user",
        "/admin/users/new",
        Some("create:users"),
    ),
    (
        "gdpr",
        "Data-subject requests",
        "/admin/gdpr",
        Some("manage:gdpr"),
    ),
    ("audit", "Audit", "/admin/audit", Some("read:audit")),
];

pub(crate) fn has(permissions: &[String], permission: &str) -> bool {
    permissions.iter().any(|p| p == permission)
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// Up to two letters standing for a person (no picture is fetched from anywhere).
pub(crate) fn initials(name: Option<&str>, email: Option<&str>) -> String {
    let source = name
        .filter(|n| !n.trim().is_empty())
        .or(email)
        .unwrap_or("?");
    let letters: String = source
        .split(|c: char| c.is_whitespace() || c == '.' || c == '@' || c == '_' || c == '-')
        .filter_map(|word| word.chars().next())
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

/// An RFC 3339 instant as `2024-05-01 10:20 UTC`.
pub(crate) fn when(value: Option<&str>) -> String {
    match value.and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok()) {
        Some(time) => time
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string(),
        None => "—".to_owned(),
    }
}

fn flash_box(flash: &Flash) -> Markup {
    html! {
        @if flash.ok {
            div class="flash ok" role="status" {
                p { (flash.text) }
                @if let Some(link) = &flash.link {
                    div class="copy" {
                        label for="flash-link" { "Link" }
                        input id="flash-link" type="text" readonly value=(link);
                        button type="button" class="secondary" data-copy="flash-link" { "Copy link" }
                    }
                }
            }
        } @else {
            div class="flash error" role="alert" { p { (flash.text) } }
        }
    }
}

/// The banner naming the tenants that failed, and errors not tied to a tenant.
pub(crate) fn problems(answer: &Answer) -> Markup {
    let failed = answer.failed_tenants();
    let others = answer.other_problems();
    html! {
        @if !failed.is_empty() {
            div class="flash error" role="alert" {
                p { strong { "Some tenants could not be read; what follows lacks their data:" } }
                ul {
                    @for (tenant, message) in &failed {
                        li { strong { (tenant) } ": " (message) }
                    }
                }
            }
        }
        @for problem in others {
            div class="flash error" role="alert" { p { (problem.message) } }
        }
    }
}

/// A whole page.
pub(crate) fn document(chrome: &Chrome<'_>, title: &str, body: &Markup) -> Markup {
    let (brand, home) = match chrome.realm {
        Realm::Admin => ("tenantgraph admin", "/admin/"),
        Realm::Account => ("Your account", "/account/"),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (brand) }
                link rel="icon" href=(super::assets::path("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(super::assets::path("portal.css"));
                script src=(super::assets::path("portal.js")) defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href=(home) { (brand) }
                    @if chrome.realm == Realm::Admin && chrome.session.is_some() {
                        nav aria-label="Sections" {
                            ul {
                                @for (key, label, path, need) in SECTIONS {
                                    @if need.is_none_or(|p| has(chrome.permissions, p)) {
                                        li {
                                            @if key == chrome.section {
                                                a href=(path) aria-current="page" { (label) }
                                            } @else {
                                                a href=(path) { (label) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(session) = chrome.session {
                        div class="who" {
                            span class="avatar" aria-hidden="true" {
                                (initials(session.name.as_deref(), session.email.as_deref()))
                            }
                            span class="who-name" {
                                (session.name.as_deref().or(session.email.as_deref()).unwrap_or("Signed in"))
                            }
                            form method="post" action=(format!("{}/logout", chrome.realm.path())) {
                                (csrf(session))
                                button type="submit" class="secondary" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    @if let Some(flash) = chrome.session.and_then(|s| s.flash.as_ref()) {
                        (flash_box(flash))
                    }
                    (body)
                }
            }
        }
    }
}

pub(crate) fn html_response(status: StatusCode, markup: &Markup) -> Response {
    (status, Html(markup.0.clone())).into_response()
}

/// A page saying what went wrong, with a way on.
pub(crate) fn message_page(
    realm: Realm,
    status: StatusCode,
    title: &str,
    text: &str,
    link: (&str, &str),
) -> Response {
    let chrome = Chrome {
        realm,
        session: None,
        permissions: &[],
        section: "",
    };
    let body = html! {
        div class=(if status.is_success() { "flash ok" } else { "flash error" }) role=(if status.is_success() { "status" } else { "alert" }) {
            p { (text) }
        }
        p { a class="button" href=(link.0) { (link.1) } }
    };
    html_response(status, &document(&chrome, title, &body))
}

/// 303 See Other: the answer to a form, or to a page that needs a sign-in.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// "Yes" in red for a block, a plain "No" otherwise (no block is the normal case).
pub(crate) fn blocked(value: Option<bool>) -> Markup {
    match value {
        Some(true) => html! { span class="no" { "Yes" } },
        Some(false) => html! { "No" },
        None => html! { "—" },
    }
}

/// A checked or crossed mark with words for screen readers.
pub(crate) fn yes_no(value: Option<bool>) -> Markup {
    match value {
        Some(true) => html! { span class="yes" { "Yes" } },
        Some(false) => html! { span class="no" { "No" } },
        None => html! { "—" },
    }
}
