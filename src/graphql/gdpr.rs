//! Data-subject requests across every tenant (`manage:gdpr`, tenants `*`): export everything
//! held about an email, or erase every account holding it. Both read the tenants directly
//! (users-by-email is consistent; nothing comes from the cache), so a re-run after a partial
//! failure sees exactly what is left.

use std::sync::Arc;

use async_graphql::{Context, ID};
use futures::future::join_all;
use serde_json::{Value, json};

use super::context::{caller, report, services};
use super::mutation::{Audit, ErasureResult};
use super::person::normalize_email;
use super::types::Tenant;
use crate::auth::{Operator, Permission, TenantScope};
use crate::error::{ClientError, ClientResult};
use crate::tenant::client::encode_segment;
use crate::tenant::http::Call;
use crate::tenant::{TenantClient, UpstreamError};

/// Log events included per account in an export.
const EXPORTED_LOGS: u32 = 100;

fn gdpr_operator<'a>(ctx: &Context<'a>) -> ClientResult<&'a Operator> {
    let operator = caller(ctx).operator_with(Permission::ManageGdpr)?;
    if operator.tenants != TenantScope::All {
        return Err(ClientError::forbidden(
            "data-subject requests need manage:gdpr over every tenant (\"*\")",
        ));
    }
    Ok(operator)
}

fn sorted_tenants(ctx: &Context<'_>) -> Vec<Arc<TenantClient>> {
    let mut tenants = services(ctx).store.tenants.all().to_vec();
    tenants.sort_by(|a, b| a.id.cmp(&b.id));
    tenants
}

async fn accounts(client: &TenantClient, email: &str) -> Result<Vec<Value>, UpstreamError> {
    let call = Call::get(
        "GET /api/v2/users-by-email",
        "/api/v2/users-by-email".into(),
    )
    .query("email", email);
    client.transport().json(&call).await
}

async fn get_json(
    client: &TenantClient,
    endpoint: &'static str,
    path: String,
    query: &[(&'static str, String)],
) -> Result<Value, UpstreamError> {
    let mut call = Call::get(endpoint, path);
    for (key, value) in query {
        call = call.query(key, value.clone());
    }
    client.transport().json(&call).await
}

/// One account: its whole profile, organizations, roles and newest logs.
async fn export_account(client: &TenantClient, mut profile: Value) -> Result<Value, UpstreamError> {
    // Auth0 leaves out metadata never set; the export states it as empty rather than unknown.
    if let Some(fields) = profile.as_object_mut() {
        for key in ["user_metadata", "app_metadata"] {
            fields.entry(key).or_insert_with(|| json!({}));
        }
    }
    let id = profile
        .get("user_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let base = format!("/api/v2/users/{}", encode_segment(&id));
    let page = [("per_page", "100".to_owned())];
    let logs = [
        ("per_page", EXPORTED_LOGS.to_string()),
        ("sort", "date:-1".to_owned()),
    ];
    let (organizations, roles, logs) = futures::try_join!(
        get_json(
            client,
            "GET /api/v2/users/{id}/organizations",
            format!("{base}/organizations"),
            &page
        ),
        get_json(
            client,
            "GET /api/v2/users/{id}/roles",
            format!("{base}/roles"),
            &page
        ),
        get_json(
            client,
            "GET /api/v2/users/{id}/logs",
            format!("{base}/logs"),
            &logs
        ),
    )?;
    Ok(json!({
        "tenant": client.id.as_ref(),
        "user_id": id,
        "profile": profile,
        "organizations": organizations,
        "roles": roles,
        "logs": logs,
    }))
}

async fn export_tenant(client: &TenantClient, email: &str) -> Result<Vec<Value>, UpstreamError> {
    let profiles = accounts(client, email).await?;
    let exports = join_all(profiles.into_iter().map(|p| export_account(client, p))).await;
    exports.into_iter().collect()
}

pub async fn export_person(ctx: &Context<'_>, email: &str) -> ClientResult<Value> {
    gdpr_operator(ctx)?;
    let email = normalize_email(email)?;
    let tenants = sorted_tenants(ctx);
    let exports = join_all(tenants.iter().map(|t| export_tenant(t, &email))).await;
    let mut accounts = Vec::new();
    let mut unavailable = Vec::new();
    for (tenant, export) in tenants.iter().zip(exports) {
        match export {
            Ok(found) => accounts.extend(found),
            Err(error) => {
                report(ctx, &tenant.id, &error);
                unavailable.push(tenant.id.to_string());
            }
        }
    }
    Ok(json!({
        "email": email.as_ref(),
        "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        // False when a tenant could not be read: the export then lacks its accounts.
        "complete": unavailable.is_empty(),
        "unavailable_tenants": unavailable,
        "accounts": accounts,
    }))
}

pub async fn erase_person(
    ctx: &Context<'_>,
    email: &str,
    confirm: &str,
) -> ClientResult<Vec<ErasureResult>> {
    gdpr_operator(ctx)?;
    if confirm.trim() != email.trim() {
        return Err(ClientError::bad_input(
            "confirm: must repeat the email exactly",
        ));
    }
    let email = normalize_email(email)?;
    let tenants = sorted_tenants(ctx);
    let erasures = join_all(tenants.iter().map(|t| erase_in_tenant(ctx, t, &email))).await;
    Ok(erasures.into_iter().flatten().collect())
}

async fn erase_in_tenant(
    ctx: &Context<'_>,
    client: &Arc<TenantClient>,
    email: &Arc<str>,
) -> Vec<ErasureResult> {
    let profiles = match accounts(client, email).await {
        Ok(profiles) => profiles,
        Err(error) => {
            report(ctx, &client.id, &error);
            return Vec::new();
        }
    };
    let mut results = Vec::with_capacity(profiles.len());
    for profile in profiles {
        let Some(id) = profile.get("user_id").and_then(Value::as_str) else {
            continue;
        };
        let mut audit = Audit::new(ctx, "erasePerson");
        audit.tenant(&client.id).target(id);
        let store = &services(ctx).store;
        let outcome = match client.delete_user(id).await {
            // Gone already (an earlier, partly failed run): the goal is met.
            Ok(()) | Err(UpstreamError::NotFound) => {
                store.deleted(client, id, Some(email)).await;
                Ok(())
            }
            Err(error) => {
                if matches!(error, UpstreamError::OutcomeUnknown { .. }) {
                    store.unsure(client, Some(id), Some(email)).await;
                }
                Err(error.to_client(&client.id))
            }
        };
        let error = outcome.as_ref().err().map(|e| e.message.clone());
        let _ = audit.finish(ctx, outcome);
        results.push(ErasureResult {
            tenant: Tenant(client.clone()),
            user_id: ID(id.to_owned()),
            deleted: error.is_none(),
            error,
        });
    }
    results
}
