//! Dashboard: per tenant and summed, users, blocked, unverified and active in 30 days, and the
//! daily sign-ups and logins of the last 30 days as charts drawn on the server.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{tenant_choices, tenant_options};
use crate::portal::Portal;
use crate::portal::chart::{self, Day};
use crate::portal::page::problems;

const DOCUMENT: &str = "query($tenants: [ID!]) { stats(tenants: $tenants, days: 30) {
    users blockedUsers unverifiedUsers activeUsers partial failedTenants
    daily { date logins signups }
    tenants { tenant { id name } users blockedUsers unverifiedUsers activeUsers daily { date logins signups } } } }";

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    tenant: String,
}

fn days(value: &Value) -> Vec<Day> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| Day {
            date: d["date"].as_str().unwrap_or_default().to_owned(),
            logins: d["logins"].as_i64().unwrap_or(0),
            signups: d["signups"].as_i64().unwrap_or(0),
        })
        .collect()
}

fn figure(label: &str, value: &Value) -> Markup {
    html! {
        div class="figure" {
            div class="muted" { (label) }
            div class="value" { (value.as_i64().unwrap_or(0)) }
        }
    }
}

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Query(filter): Query<Filter>,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    if !operator.may("read:stats") {
        return Ok(portal.lacks(operator, "dashboard", "Dashboard", "read:stats"));
    }
    let tenants = tenant_choices(&portal, &operator).await;
    let selected = Some(filter.tenant.as_str()).filter(|t| !t.is_empty());
    let answer = portal
        .admin_run(
            &operator,
            DOCUMENT,
            json!({"tenants": selected.map(|t| vec![t])}),
        )
        .await;
    let stats = &answer.data["stats"];
    let failed: Vec<&str> = stats["failedTenants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let body = html! {
        form class="inline" method="get" action="/admin/dashboard" {
            div class="field" {
                label for="tenant" { "Tenant" }
                select id="tenant" name="tenant" { (tenant_options(&tenants, &filter.tenant, Some("All tenants"))) }
            }
            button type="submit" { "Show" }
        }
        @if !failed.is_empty() {
            div class="flash error" role="alert" {
                p { strong { "These figures lack tenants that could not be read: " } (failed.join(", ")) "." }
            }
        }
        (problems(&answer))
        @if stats.is_object() {
            section aria-labelledby="sums-title" {
                h2 id="sums-title" { @if let Some(t) = selected { "Tenant " (t) } @else { "All tenants" } }
                div class="figures" {
                    (figure("Users", &stats["users"]))
                    (figure("Blocked", &stats["blockedUsers"]))
                    (figure("Unverified", &stats["unverifiedUsers"]))
                    (figure("Active in 30 days", &stats["activeUsers"]))
                }
            }
            div class="dashboard" {
                section aria-labelledby="daily-title" {
                    h2 id="daily-title" { "Logins and sign-ups, last 30 days" }
                    (chart::daily("daily", "Daily logins and sign-ups, all shown tenants", &days(&stats["daily"])))
                }
                section aria-labelledby="per-tenant-title" {
                    h2 id="per-tenant-title" { "Per tenant" }
                    div class="table-wrap" { table {
                        thead { tr {
                            th scope="col" { "Tenant" } th scope="col" class="num" { "Users" } th scope="col" class="num" { "Blocked" }
                            th scope="col" class="num" { "Unverified" } th scope="col" class="num" { "Active, 30 days" }
                        } }
                        tbody { @for tenant in stats["tenants"].as_array().into_iter().flatten() { tr {
                            th scope="row" { (tenant["tenant"]["name"].as_str().unwrap_or_default()) }
                            td class="num" { (tenant["users"].as_i64().unwrap_or(0)) }
                            td class="num" { (tenant["blockedUsers"].as_i64().unwrap_or(0)) }
                            td class="num" { (tenant["unverifiedUsers"].as_i64().unwrap_or(0)) }
                            td class="num" { (tenant["activeUsers"].as_i64().unwrap_or(0)) }
                        } } }
                        tfoot { tr {
                            td { "All" }
                            td class="num" { (stats["users"].as_i64().unwrap_or(0)) }
                            td class="num" { (stats["blockedUsers"].as_i64().unwrap_or(0)) }
                            td class="num" { (stats["unverifiedUsers"].as_i64().unwrap_or(0)) }
                            td class="num" { (stats["activeUsers"].as_i64().unwrap_or(0)) }
                        } }
                    } }
                }
            }
        }
    };
    Ok(portal.admin_page(operator, "dashboard", "Dashboard", StatusCode::OK, &body))
}
