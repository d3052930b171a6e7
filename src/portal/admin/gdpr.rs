//! Data-subject requests (`manage:gdpr`): export everything held about the person behind an
//! email (downloaded as JSON), or erase every account of that person after the email is typed
//! again; the results per tenant.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Operator;
use crate::portal::Portal;
use crate::portal::gql::Answer;
use crate::portal::page::{csrf, problems, yes_no};
use crate::portal::session::Realm;

fn page_body(operator: &Operator, email: &str, outcome: &Markup) -> Markup {
    let session = &operator.session;
    html! {
        p class="muted" { "A request covers every tenant: the accounts that verified the email." }
        (outcome)
        div class="grid-2" {
            section aria-labelledby="export-title" {
                h2 id="export-title" { "Export a person" }
                form class="stack" method="post" action="/admin/gdpr/export" {
                    (csrf(session))
                    div class="field" {
                        label for="export-email" { "Email" }
                        input id="export-email" name="email" type="email" required value=(email);
                    }
                    div { button type="submit" { "Export" } }
                }
            }
            section class="danger-zone" aria-labelledby="erase-title" {
                h2 id="erase-title" { "Erase a person" }
                form class="stack" method="post" action="/admin/gdpr/erase" {
                    (csrf(session))
                    div class="field" {
                        label for="erase-email" { "Email" }
                        input id="erase-email" name="email" type="email" required;
                    }
                    div class="field" {
                        label for="erase-confirm" { "Type the email again to confirm" }
                        input id="erase-confirm" name="confirm" type="text" required autocomplete="off";
                    }
                    div { button type="submit" class="danger" { "Erase" } }
                }
            }
        }
    }
}

fn show(
    portal: &Portal,
    operator: Operator,
    status: StatusCode,
    email: &str,
    outcome: &Markup,
) -> Response {
    if !operator.may("manage:gdpr") {
        return portal.lacks(operator, "gdpr", "Data-subject requests", "manage:gdpr");
    }
    let body = page_body(&operator, email, outcome);
    portal.admin_page(operator, "gdpr", "Data-subject requests", status, &body)
}

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    Ok(show(&portal, operator, StatusCode::OK, "", &html! {}))
}

fn refused(answer: &Answer) -> Markup {
    html! { (problems(answer)) }
}

pub(crate) async fn export(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Response> {
    let (session, jar) = portal.posted(&headers, Realm::Admin, &form)?;
    let email = form
        .get("email")
        .map(|e| e.trim().to_owned())
        .unwrap_or_default();
    let answer = portal
        .run(
            &session,
            "mutation($e: String!) { exportPerson(email: $e) }",
            json!({"e": email}),
        )
        .await;
    let export = &answer.data["exportPerson"];
    if export.is_null() {
        let operator = portal.operator(&headers, &uri).await?;
        return Ok(show(
            &portal,
            operator,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            &refused(&answer),
        ));
    }
    let body = serde_json::to_vec_pretty(export).unwrap_or_default();
    let safe: String = email
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"export-{safe}.json\"");
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(portal.with_session(jar, session, response))
}

pub(crate) async fn erase(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Response> {
    // The session is renewed by the page shown below (`operator` reads the same cookie).
    let (_session, _jar) = portal.posted(&headers, Realm::Admin, &form)?;
    let operator = portal.operator(&headers, &uri).await?;
    let email = form
        .get("email")
        .map(|e| e.trim().to_owned())
        .unwrap_or_default();
    let confirm = form
        .get("confirm")
        .map(|e| e.trim().to_owned())
        .unwrap_or_default();
    if !confirm.eq_ignore_ascii_case(&email) || email.is_empty() {
        let outcome = html! {
            div class="flash error" role="alert" { p { "Nothing was erased: type the same email twice to confirm." } }
        };
        return Ok(show(
            &portal,
            operator,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            &outcome,
        ));
    }
    let answer = portal
        .admin_run(
            &operator,
            "mutation($e: String!) { erasePerson(email: $e, confirm: $e) { tenant { id name } userId deleted error } }",
            json!({"e": email}),
        )
        .await;
    let results: Vec<Value> = answer.data["erasePerson"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let outcome = html! {
        (problems(&answer))
        @if !answer.data["erasePerson"].is_null() {
            section aria-labelledby="results-title" {
                h2 id="results-title" { "Erasure of " (email) }
                @if results.is_empty() {
                    p { "No account in reach had verified this email: nothing was erased." }
                } @else {
                    div class="table-wrap" { table {
                        thead { tr { th scope="col" { "Tenant" } th scope="col" { "User id" } th scope="col" { "Deleted" } th scope="col" { "Error" } } }
                        tbody { @for r in &results { tr {
                            td { (r["tenant"]["name"].as_str().unwrap_or_default()) }
                            td { code { (r["userId"].as_str().unwrap_or_default()) } }
                            td { (yes_no(r["deleted"].as_bool())) }
                            td { (r["error"].as_str().unwrap_or("—")) }
                        } } }
                    } }
                    p class="muted" { "An erasure that failed can be run again once its tenant is back." }
                }
            }
        }
    };
    let status = if answer.data["erasePerson"].is_null() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(show(&portal, operator, status, "", &outcome))
}
