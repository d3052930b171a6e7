//! Person: the accounts behind one email, side by side (those that verified it), and the
//! accounts merely holding it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::user_path;
use crate::portal::Portal;
use crate::portal::page::{blocked, initials, problems, when, yes_no};

const DOCUMENT: &str = "query($e: String!) {
    person(email: $e) { email name accounts {
        id tenant { id name } email name emailVerified blocked createdAt lastLogin loginsCount } }
    usersByEmail(email: $e) { id tenant { id } emailVerified } }";

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Lookup {
    #[serde(default)]
    email: String,
}

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Query(lookup): Query<Lookup>,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    if !operator.may("read:users") {
        return Ok(portal.lacks(operator, "person", "Person", "read:users"));
    }
    let email = lookup.email.trim().to_owned();
    let answer = if email.is_empty() {
        None
    } else {
        Some(
            portal
                .admin_run(&operator, DOCUMENT, json!({"e": email}))
                .await,
        )
    };
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let body = html! {
        form class="inline" method="get" action="/admin/person" role="search" {
            div class="field" {
                label for="email" { "Email" }
                input id="email" name="email" type="email" value=(email) required;
            }
            button type="submit" { "Find the person" }
        }
        @if let Some(answer) = &answer {
            (problems(answer))
            @let person = &answer.data["person"];
            @if person.is_object() {
                h2 { (person["name"].as_str().unwrap_or(&email)) }
                p class="muted" { "Every account that verified " strong { (email) } ", in the tenants you reach." }
                div class="cards" {
                    @for account in person["accounts"].as_array().into_iter().flatten() {
                        @let tenant = text(&account["tenant"], "id");
                        article class="card" {
                            div class="profile-head" {
                                span class="avatar" aria-hidden="true" { (initials(account["name"].as_str(), account["email"].as_str())) }
                                h3 { a href=(user_path(&tenant, &text(account, "id"))) { (account["tenant"]["name"].as_str().unwrap_or(&tenant)) } }
                            }
                            dl class="facts" {
                                dt { "Tenant" } dd { (tenant) }
                                dt { "User id" } dd { code { (text(account, "id")) } }
                                dt { "Name" } dd { (text(account, "name")) }
                                dt { "Verified" } dd { (yes_no(account["emailVerified"].as_bool())) }
                                dt { "Blocked" } dd { (blocked(account["blocked"].as_bool())) }
                                dt { "Created" } dd { (when(account["createdAt"].as_str())) }
                                dt { "Last login" } dd { (when(account["lastLogin"].as_str())) }
                                dt { "Logins" } dd { (account["loginsCount"].as_i64().unwrap_or(0)) }
                            }
                        }
                    }
                }
            } @else if answer.problems.is_empty() {
                p { "No account in your reach has verified this email." }
            }
            @let unverified: Vec<&Value> = answer.data["usersByEmail"].as_array().into_iter().flatten()
                .filter(|u| u["emailVerified"].as_bool() == Some(false)).collect();
            @if !unverified.is_empty() {
                h2 { "Accounts holding this email without verifying it" }
                p class="muted" { "An unverified address proves nothing about who holds it: these are not joined to the person." }
                ul {
                    @for account in unverified {
                        @let tenant = text(&account["tenant"], "id");
                        li { a href=(user_path(&tenant, &text(account, "id"))) { (tenant) ": " (text(account, "id")) } }
                    }
                }
            }
        }
    };
    Ok(portal.admin_page(operator, "person", "Person", StatusCode::OK, &body))
}
