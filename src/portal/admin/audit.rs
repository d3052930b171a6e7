//! Audit: the latest writes through the gateway (who, what, on whom, when, how it ended) that
//! the operator may see (`read:audit`; the scope decides which), filterable and paged.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{tenant_choices, tenant_options, user_path};
use crate::portal::Portal;
use crate::portal::page::{problems, when};

const DOCUMENT: &str = "query($f: AuditFilter, $after: String) {
    auditEvents(filter: $f, first: 50, after: $after) {
        nodes { id time action actorSubject tenant targetUser fields outcome code }
        pageInfo { hasNextPage endCursor } shared } }";

const ACTIONS: [&str; 14] = [
    "createUser",
    "updateUser",
    "deleteUser",
    "blockUser",
    "unblockUser",
    "removeBruteForceBlocks",
    "sendVerificationEmail",
    "createPasswordChangeTicket",
    "exportPerson",
    "erasePerson",
    "updateMe",
    "requestPasswordReset",
    "resendVerificationEmail",
    "acceptTerms",
];

const OUTCOMES: [(&str, &str); 4] = [
    ("SUCCEEDED", "Succeeded"),
    ("REFUSED", "Refused"),
    ("FAILED", "Failed"),
    ("UNKNOWN", "Unknown"),
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    after: String,
}

fn some(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

fn link(filter: &Filter, after: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("tenant", filter.tenant.as_str()),
        ("action", filter.action.as_str()),
        ("outcome", filter.outcome.as_str()),
        ("actor", filter.actor.as_str()),
        ("target", filter.target.as_str()),
        ("after", after),
    ])
    .unwrap_or_default();
    format!("/admin/audit?{query}")
}

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
    Query(filter): Query<Filter>,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    if !operator.may("read:audit") {
        return Ok(portal.lacks(operator, "audit", "Audit", "read:audit"));
    }
    let tenants = tenant_choices(&portal, &operator).await;
    let outcome = OUTCOMES
        .iter()
        .find(|(v, _)| *v == filter.outcome)
        .map(|(v, _)| *v);
    let variables = json!({
        "f": {
            "tenant": some(&filter.tenant), "action": some(&filter.action), "outcome": outcome,
            "actor": some(&filter.actor), "target": some(&filter.target),
        },
        "after": some(&filter.after),
    });
    let answer = portal.admin_run(&operator, DOCUMENT, variables).await;
    let found = &answer.data["auditEvents"];
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let body = html! {
        form class="inline" method="get" action="/admin/audit" {
            div class="field" {
                label for="tenant" { "Tenant" }
                select id="tenant" name="tenant" { (tenant_options(&tenants, &filter.tenant, Some("All tenants"))) }
            }
            div class="field" {
                label for="action" { "Action" }
                select id="action" name="action" {
                    option value="" selected[filter.action.is_empty()] { "Any action" }
                    @for action in ACTIONS.iter().filter(|a| !a.is_empty()) {
                        option value=(action) selected[*action == filter.action] { (action) }
                    }
                }
            }
            div class="field" {
                label for="outcome" { "Outcome" }
                select id="outcome" name="outcome" {
                    option value="" selected[outcome.is_none()] { "Any outcome" }
                    @for (value, label) in OUTCOMES {
                        option value=(value) selected[Some(value) == outcome] { (label) }
                    }
                }
            }
            div class="field" {
                label for="actor" { "Who (subject)" }
                input id="actor" name="actor" type="text" value=(filter.actor);
            }
            div class="field" {
                label for="target" { "Target (user id or email)" }
                input id="target" name="target" type="text" value=(filter.target);
            }
            button type="submit" { "Filter" }
        }
        (problems(&answer))
        @if found.is_object() {
            @if found["shared"].as_bool() == Some(false) {
                p class="muted" { "These are the events this replica recorded; with Redis configured, every replica's are shown." }
            }
            div class="table-wrap" { table {
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" }
                    th scope="col" { "Target" } th scope="col" { "Fields" } th scope="col" { "Outcome" }
                } }
                tbody { @for event in found["nodes"].as_array().into_iter().flatten() {
                    @let tenant = text(event, "tenant");
                    @let target = text(event, "targetUser");
                    tr {
                        td { (when(event["time"].as_str())) }
                        td { code { (text(event, "actorSubject")) } }
                        td { (text(event, "action")) }
                        td {
                            @if !tenant.is_empty() && !target.is_empty() {
                                a href=(user_path(&tenant, &target)) { (tenant) ": " (target) }
                            } @else if !target.is_empty() { (target) } @else { (tenant) }
                        }
                        td { (event["fields"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")) }
                        td {
                            (text(event, "outcome").to_lowercase())
                            @if let Some(code) = event["code"].as_str() { " (" (code) ")" }
                        }
                    }
                } }
            } }
            @if found["nodes"].as_array().is_none_or(Vec::is_empty) {
                p { "No event matches." }
            }
            div class="pager" {
                @if !filter.after.is_empty() { a href=(link(&filter, "")) { "Latest events" } }
                @if found["pageInfo"]["hasNextPage"].as_bool() == Some(true) {
                    a class="button secondary" href=(link(&filter, found["pageInfo"]["endCursor"].as_str().unwrap_or_default())) { "Older events" }
                }
            }
        }
    };
    Ok(portal.admin_page(operator, "audit", "Audit", StatusCode::OK, &body))
}
