//! Tenants: each tenant in the operator's reach, its health (and why it is not up) and domain.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::html;
use serde_json::json;

use crate::portal::Portal;
use crate::portal::page::problems;

const DOCUMENT: &str = "{ tenants { id name domain customDomain status statusReason } }";

pub(crate) async fn page(
    State(portal): State<Arc<Portal>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Response> {
    let operator = portal.operator(&headers, &uri).await?;
    let answer = portal.admin_run(&operator, DOCUMENT, json!({})).await;
    let tenants = answer.data["tenants"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let body = html! {
        (problems(&answer))
        p class="muted" { "The tenants your account reaches, as this gateway last saw them." }
        div class="table-wrap" {
            table {
                thead { tr {
                    th scope="col" { "Tenant" } th scope="col" { "Id" } th scope="col" { "Status" }
                    th scope="col" { "Reason" } th scope="col" { "Domain" } th scope="col" { "Custom domain" }
                } }
                tbody {
                    @for tenant in &tenants {
                        @let status = tenant["status"].as_str().unwrap_or("UNKNOWN");
                        tr {
                            td { (tenant["name"].as_str().unwrap_or_default()) }
                            td { code { (tenant["id"].as_str().unwrap_or_default()) } }
                            td { span class=(format!("status {}", status.to_lowercase())) { (status) } }
                            td { (tenant["statusReason"].as_str().unwrap_or("—")) }
                            td { (tenant["domain"].as_str().unwrap_or_default()) }
                            td { (tenant["customDomain"].as_str().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
        @if tenants.is_empty() {
            p { "Your account reaches no tenant." }
        }
    };
    Ok(portal.admin_page(operator, "tenants", "Tenants", StatusCode::OK, &body))
}
