//! The self-service page: an end user signs in through their own tenant (chosen first, by id or
//! name, when there are several), sees their profile, changes their names and the
//! user_metadata fields the operator declared editable, asks for a password reset or a new
//! verification email, and accepts the current terms, all through the same schema as
//! themselves (`me`, `updateMe`, `requestPasswordReset`, `resendVerificationEmail`,
//! `acceptTerms`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::{Map, Value, json};

use super::Portal;
use super::page::{Chrome, csrf, document, html_response, initials, problems, see_other, when};
use super::session::{Flash, Realm};

const ME: &str =
    "{ me { id tenant { id name } email emailVerified name givenName familyName nickname
    identities { provider } lastLogin loginsCount userMetadata termsAccepted } }";

/// The names a user may change: (form name, GraphQL name, label).
const NAMES: [(&str, &str, &str); 4] = [
    ("name", "name", "Name"),
    ("given_name", "givenName", "Given name"),
    ("family_name", "familyName", "Family name"),
    ("nickname", "nickname", "Nickname"),
];

pub(crate) async fn root() -> Response {
    see_other("/account/")
}

fn chooser(portal: &Portal) -> Response {
    let chrome = Chrome {
        realm: Realm::Account,
        session: None,
        permissions: &[],
        section: "",
    };
    let body = html! {
        p { "Sign in with the account you use with us." }
        ul class="chooser" {
            @for tenant in &portal.tenants {
                li { a class="button" href=(format!("/account/login?{}", serde_urlencoded::to_string([("tenant", tenant.id.as_str())]).unwrap_or_default())) {
                    "Sign in with " (tenant.name)
                } }
            }
        }
        form class="inline" method="get" action="/account/login" {
            div class="field" {
                label for="tenant" { "Or type your organization (its name or id)" }
                input id="tenant" name="tenant" type="text" required list="tenant-names";
                datalist id="tenant-names" {
                    @for tenant in &portal.tenants { option value=(tenant.name) {} }
                }
            }
            button type="submit" class="secondary" { "Continue" }
        }
    };
    html_response(StatusCode::OK, &document(&chrome, "Sign in", &body))
}

pub(crate) async fn home(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Ok((session, jar)) = portal.signed_in(&headers, Realm::Account, &uri) else {
        // One tenant: straight to its sign-in; several: the chooser.
        return match portal.tenants.as_slice() {
            [only] => see_other(&format!(
                "/account/login?{}",
                serde_urlencoded::to_string([("tenant", only.id.as_str())]).unwrap_or_default()
            )),
            _ => chooser(&portal),
        };
    };
    let answer = portal.run(&session, ME, Value::Null).await;
    if answer.unauthenticated() {
        let jar = portal.cookies.forget(jar, Realm::Account);
        return (jar, see_other("/account/")).into_response();
    }
    let me = &answer.data["me"];
    let metadata = me["userMetadata"].as_object().cloned().unwrap_or_default();
    let database = me["identities"]
        .as_array()
        .is_some_and(|ids| ids.iter().any(|i| i["provider"] == json!("auth0")));
    let terms = portal.self_service.terms_version.as_deref();
    let text = |key: &str| me[key].as_str().unwrap_or_default().to_owned();
    let body = html! {
        (problems(&answer))
        @if me.is_object() {
            div class="profile-head" {
                span class="avatar large" aria-hidden="true" { (initials(me["name"].as_str(), me["email"].as_str())) }
                div {
                    p { strong { (text("name")) } }
                    p class="muted" { (text("email")) " · " (me["tenant"]["name"].as_str().unwrap_or_default()) }
                }
            }
            @if let (Some(version), Some(false)) = (terms, me["termsAccepted"].as_bool()) {
                section class="flash ok" aria-labelledby="terms-title" {
                    h2 id="terms-title" { "Terms of use" }
                    p { "Please read and accept our terms of use (version " (version) ")." }
                    form method="post" action="/account/accept-terms" {
                        (csrf(&session))
                        button type="submit" { "Accept terms" }
                    }
                }
            } @else if let (Some(version), Some(true)) = (terms, me["termsAccepted"].as_bool()) {
                p class="muted" { "You have accepted the current terms of use (version " (version) ")." }
            }
            div class="grid-2" {
                section aria-labelledby="profile-title" {
                    h2 id="profile-title" { "Your profile" }
                    form class="stack" method="post" action="/account/profile" {
                        (csrf(&session))
                        @for (field, key, label) in NAMES {
                            div class="field" {
                                label for=(field) { (label) }
                                input id=(field) name=(field) type="text" value=(text(key));
                                input type="hidden" name=(format!("was_{field}")) value=(text(key));
                            }
                        }
                        @for field in &portal.self_service.editable_metadata {
                            @let current = metadata.get(&field.key).and_then(Value::as_str).unwrap_or_default();
                            @let id = format!("meta-{}", field.key);
                            div class="field" {
                                label for=(id) { (field.label) }
                                @if field.choices.is_empty() {
                                    input id=(id) name=(format!("meta_{}", field.key)) type="text" value=(current);
                                } @else {
                                    select id=(id) name=(format!("meta_{}", field.key)) {
                                        @if !field.choices.iter().any(|c| c == current) {
                                            option value=(current) selected { (if current.is_empty() { "—" } else { current }) }
                                        }
                                        @for choice in &field.choices {
                                            option value=(choice) selected[choice == current] { (if choice.is_empty() { "—" } else { choice.as_str() }) }
                                        }
                                    }
                                }
                                input type="hidden" name=(format!("was_meta_{}", field.key)) value=(current);
                            }
                        }
                        div { button type="submit" { "Save" } }
                    }
                }
                section aria-labelledby="security-title" {
                    h2 id="security-title" { "Sign-in and security" }
                    dl class="facts" {
                        dt { "Email" } dd { (text("email")) }
                        dt { "Verified" } dd { @if me["emailVerified"].as_bool() == Some(true) { span class="yes" { "Yes" } } @else { span class="no" { "Not yet" } } }
                        dt { "Last sign-in" } dd { (when(me["lastLogin"].as_str())) }
                        dt { "Sign-ins" } dd { (me["loginsCount"].as_i64().unwrap_or(0)) }
                    }
                    div class="actions" {
                        @if database {
                            form method="post" action="/account/reset-password" {
                                (csrf(&session))
                                button type="submit" class="secondary" { "Reset password" }
                            }
                        }
                        @if me["emailVerified"].as_bool() == Some(false) {
                            form method="post" action="/account/resend-verification" {
                                (csrf(&session))
                                button type="submit" class="secondary" { "Resend verification email" }
                            }
                        }
                    }
                }
            }
        }
    };
    let chrome = Chrome {
        realm: Realm::Account,
        session: Some(&session),
        permissions: &[],
        section: "",
    };
    let page = html_response(StatusCode::OK, &document(&chrome, "Your account", &body));
    portal.with_session(jar, session, page)
}

pub(crate) async fn act(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    Path(action): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Response> {
    let (session, jar) = portal.posted(&headers, Realm::Account, &form)?;
    let flash = match action.as_str() {
        "profile" => {
            let mut input = Map::new();
            let changed = |name: &str| {
                let now = form
                    .get(name)
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default();
                let was = form
                    .get(&format!("was_{name}"))
                    .cloned()
                    .unwrap_or_default();
                (now != was).then_some(now)
            };
            for (field, key, _) in NAMES {
                if let Some(now) = changed(field) {
                    input.insert(
                        key.to_owned(),
                        if now.is_empty() {
                            Value::Null
                        } else {
                            Value::from(now)
                        },
                    );
                }
            }
            let mut metadata = Map::new();
            for field in &portal.self_service.editable_metadata {
                if let Some(now) = changed(&format!("meta_{}", field.key)) {
                    metadata.insert(
                        field.key.clone(),
                        if now.is_empty() {
                            Value::Null
                        } else {
                            Value::from(now)
                        },
                    );
                }
            }
            if !metadata.is_empty() {
                input.insert("userMetadata".to_owned(), Value::Object(metadata));
            }
            if input.is_empty() {
                Flash::ok("Nothing changed.")
            } else {
                let answer = portal
                    .run(
                        &session,
                        "mutation($input: UpdateMeInput!) { updateMe(input: $input) { id } }",
                        json!({"input": input}),
                    )
                    .await;
                answer
                    .refusal()
                    .map_or_else(|| Flash::ok("Your profile is saved."), Flash::error)
            }
        }
        "reset-password" => {
            let answer = portal
                .run(&session, "mutation { requestPasswordReset }", Value::Null)
                .await;
            answer.refusal().map_or_else(
                || Flash::ok("We have sent you an email with a link to choose a new password."),
                Flash::error,
            )
        }
        "resend-verification" => {
            let answer = portal
                .run(
                    &session,
                    "mutation { resendVerificationEmail { id } }",
                    Value::Null,
                )
                .await;
            answer.refusal().map_or_else(
                || Flash::ok("We have sent you a new verification email."),
                Flash::error,
            )
        }
        "accept-terms" => match portal.self_service.terms_version.clone() {
            Some(version) => {
                let answer = portal
                    .run(
                        &session,
                        "mutation($v: String!) { acceptTerms(version: $v) { id } }",
                        json!({"v": version}),
                    )
                    .await;
                answer.refusal().map_or_else(
                    || Flash::ok("Thank you: you have accepted the terms of use."),
                    Flash::error,
                )
            }
            None => Flash::error("There are no terms to accept."),
        },
        _ => Flash::error("There is no such action."),
    };
    Ok(portal.after_post(jar, session, flash, "/account/"))
}
