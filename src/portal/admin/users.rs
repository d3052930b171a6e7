//! Users: Auth0's search syntax over every tenant in reach (or one), in one of the four orders,
//! paged by cursor; a banner names the tenants that failed.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{tenant_choices, tenant_options, user_path};
use crate::portal::Portal;
use crate::portal::page::{blocked, problems, when, yes_no};

const DOCUMENT: &str = "query($q: String, $tenants: [ID!], $after: String, $order: UserOrder) {
    searchUsers(query: $q, tenants: $tenants, first: 25, after: $after, orderBy: $order) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id tenant { id name } email name emailVerified blocked lastLogin loginsCount } }
    } }";

/// The orders: (GraphQL value, label).
const ORDERS: [(&str, &str); 4] = [
    ("CREATED_AT_DESC", "Newest first"),
    ("CREATED_AT_ASC", "Oldest first"),
    ("LAST_LOGIN_DESC", "Latest login first"),
    ("EMAIL_ASC", "Email, A to Z"),
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    after: String,
}

fn link(search: &Search, after: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("q", search.q.as_str()),
        ("tenant", search.tenant.as_str()),
        ("order", search.order.as_str()),
        ("after", after),
    ])
    .unwrap_or_default();
    format!("/admin/users?{query}")
}

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Query(search): Query<Search>,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    if !operator.may("read:users") {
        return Ok(portal.lacks(operator, "users", "Users", "read:users"));
    }
    let tenants = tenant_choices(&portal, &operator).await;
    let order = ORDERS
        .iter()
        .find(|(value, _)| *value == search.order)
        .map_or("CREATED_AT_DESC", |(value, _)| value);
    let variables = json!({
        "q": Some(search.q.trim()).filter(|q| !q.is_empty()),
        "tenants": Some(search.tenant.as_str()).filter(|t| !t.is_empty()).map(|t| vec![t]),
        "after": Some(search.after.as_str()).filter(|a| !a.is_empty()),
        "order": order,
    });
    let answer = portal.admin_run(&operator, DOCUMENT, variables).await;
    let found = &answer.data["searchUsers"];
    let edges = found["edges"].as_array().cloned().unwrap_or_default();
    let text = |node: &Value, key: &str| node[key].as_str().unwrap_or_default().to_owned();
    let body = html! {
        form class="inline" method="get" action="/admin/users" role="search" {
            div class="field" {
                label for="q" { "Search users" }
                input id="q" name="q" type="search" value=(search.q)
                    aria-describedby="q-help" placeholder="email:\"jane@example.com\" OR name:jane*";
            }
            div class="field" {
                label for="tenant" { "Tenant" }
                select id="tenant" name="tenant" { (tenant_options(&tenants, &search.tenant, Some("All tenants"))) }
            }
            div class="field" {
                label for="order" { "Order" }
                select id="order" name="order" {
                    @for (value, label) in ORDERS {
                        option value=(value) selected[value == order] { (label) }
                    }
                }
            }
            button type="submit" { "Search" }
        }
        details class="help" id="q-help" {
            summary { "Search syntax" }
            p { "Auth0's user search (Lucene) syntax, run in every tenant you reach; leave it empty to list everyone." }
            ul {
                li { code { "jane" } ": any field contains the word" }
                li { code { "email:\"jane@example.com\"" } ": an exact email" }
                li { code { "name:jan*" } ": a name starting with “jan”" }
                li { code { "email_verified:false AND blocked:true" } ": combine with AND, OR, NOT and parentheses" }
                li { code { "logins_count:[10 TO *]" } ", " code { "created_at:[2024-01-01 TO 2024-06-30]" } ": ranges" }
                li { code { "user_metadata.language:de" } ": a metadata field; " code { "_exists_:app_metadata.plan" } ": has a field" }
            }
        }
        (problems(&answer))
        @if !found.is_null() {
            p { (found["totalCount"].as_i64().unwrap_or(0)) " users match." }
            div class="table-wrap" {
                table {
                    thead { tr {
                        th scope="col" { "Tenant" } th scope="col" { "Email" } th scope="col" { "Name" }
                        th scope="col" { "Verified" } th scope="col" { "Blocked" }
                        th scope="col" { "Last login" } th scope="col" class="num" { "Logins" }
                    } }
                    tbody {
                        @for edge in &edges {
                            @let node = &edge["node"];
                            @let tenant = text(&node["tenant"], "id");
                            tr {
                                td { (tenant) }
                                td { a href=(user_path(&tenant, &text(node, "id"))) {
                                    (node["email"].as_str().unwrap_or(node["id"].as_str().unwrap_or_default()))
                                } }
                                td { (text(node, "name")) }
                                td { (yes_no(node["emailVerified"].as_bool())) }
                                td { (blocked(node["blocked"].as_bool())) }
                                td { (when(node["lastLogin"].as_str())) }
                                td class="num" { (node["loginsCount"].as_i64().unwrap_or(0)) }
                            }
                        }
                    }
                }
            }
            div class="pager" {
                @if !search.after.is_empty() {
                    a href=(link(&search, "")) { "First page" }
                }
                @if found["pageInfo"]["hasNextPage"].as_bool() == Some(true) {
                    a class="button secondary" href=(link(&search, found["pageInfo"]["endCursor"].as_str().unwrap_or_default())) { "Next page" }
                }
            }
        }
    };
    Ok(portal.admin_page(operator, "users", "Users", StatusCode::OK, &body))
}
