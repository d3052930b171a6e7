//! Administration by operators, within their tenants and organization. A target out of reach is
//! NOT_FOUND, exactly like a missing one; a missing permission is FORBIDDEN.

use std::sync::Arc;

use async_graphql::Context;

use super::context::{caller, services};
use super::inputs::{CreateUserInput, UpdateUserInput};
use super::mutation::{Audit, Job, Ticket};
use super::types::User;
use crate::auth::{Operator, Permission};
use crate::error::{ClientError, ClientResult, ErrorCode};
use crate::tenant::model::Profile;
use crate::tenant::{TenantClient, UpstreamError};
use crate::validate;

fn no_such_user() -> ClientError {
    ClientError::not_found("no such user")
}

/// The tenant of a write, if the operator may reach it.
fn tenant_in_reach<'a>(
    ctx: &Context<'a>,
    operator: &Operator,
    tenant: &str,
) -> ClientResult<&'a Arc<TenantClient>> {
    services(ctx)
        .store
        .tenant(tenant)
        .filter(|t| operator.tenants.includes(&t.id))
        .ok_or_else(|| ClientError::not_found(format!("no tenant `{tenant}`")))
}

/// The tenant of a user the operator may write, judged from its organization's member list
/// alone, so an outsider and a missing user are refused the same way.
async fn target_in_reach<'a>(
    ctx: &Context<'a>,
    operator: &Operator,
    tenant: &str,
    id: &str,
) -> ClientResult<&'a Arc<TenantClient>> {
    let client = tenant_in_reach(ctx, operator, tenant).map_err(|_| no_such_user())?;
    if let Some(organization) = &operator.organization {
        let members = services(ctx)
            .store
            .organization_members(client, organization)
            .await
            .map_err(|e| e.to_client(&client.id))?;
        if !members.is_some_and(|m| m.contains(id)) {
            return Err(no_such_user());
        }
    }
    Ok(client)
}

/// Maps a failed write, forgetting cached state when its outcome is unknown.
pub async fn write_failed(
    ctx: &Context<'_>,
    client: &TenantClient,
    id: Option<&str>,
    error: UpstreamError,
) -> ClientError {
    match error {
        UpstreamError::NotFound => no_such_user(),
        UpstreamError::OutcomeUnknown { .. } => {
            services(ctx).store.unsure(client, id, None).await;
            error.to_client(&client.id)
        }
        other => other.to_client(&client.id),
    }
}

/// The user as the tenant holds it now (by id, consistent), for decisions a write depends on.
pub async fn current(ctx: &Context<'_>, client: &TenantClient, id: &str) -> ClientResult<Profile> {
    match client.user(id).await {
        Ok(Some(profile)) => Ok(profile),
        Ok(None) => Err(no_such_user()),
        Err(error) => Err(write_failed(ctx, client, Some(id), error).await),
    }
}

pub async fn create_user(
    ctx: &Context<'_>,
    tenant: &str,
    input: CreateUserInput,
    audit: &mut Audit,
) -> ClientResult<User> {
    let operator = caller(ctx).operator_with(Permission::CreateUsers)?;
    if input.app_metadata.is_some() && !operator.has(Permission::UpdateUsersAppMetadata) {
        return Err(ClientError::forbidden(
            "setting appMetadata needs update:users_app_metadata",
        ));
    }
    let body = input.into_body(services(ctx).limits.metadata_bytes)?;
    audit.fields(&body.fields);
    let client = tenant_in_reach(ctx, operator, tenant)?;
    let store = &services(ctx).store;
    let created = match client.create_user(body.json.into()).await {
        Ok(profile) => profile,
        Err(error) => return Err(write_failed(ctx, client, None, error).await),
    };
    audit.target(created.user_id());
    if let Some(organization) = &operator.organization {
        join_organization(ctx, client, organization, &created).await?;
    }
    let profile = store.wrote(client, created, None).await;
    Ok(User::new(client.clone(), profile))
}

/// Adds a user an organization administrator created to its organization. If that fails the
/// user is deleted again rather than left where its creator cannot see it.
async fn join_organization(
    ctx: &Context<'_>,
    client: &TenantClient,
    organization: &str,
    created: &Profile,
) -> ClientResult<()> {
    let store = &services(ctx).store;
    match client
        .add_organization_member(organization, created.user_id())
        .await
    {
        Ok(()) => {
            store.memberships_changed(client, organization).await;
            Ok(())
        }
        Err(error) => {
            tracing::warn!(tenant = %client.id, user = %created.user_id(), %error, "adding a new user to its organization failed; deleting it");
            let undone = client.delete_user(created.user_id()).await;
            store
                .deleted(client, created.user_id(), created.email())
                .await;
            match undone {
                Ok(()) | Err(UpstreamError::NotFound) => Err(error.to_client(&client.id)),
                Err(_) => Err(ClientError::new(
                    ErrorCode::UpstreamOutcomeUnknown,
                    format!(
                        "user {} was created in tenant {} but could not be added to the organization, nor deleted again; an administrator must remove it",
                        created.user_id(), client.id
                    ),
                )
                .for_tenant(client.id.to_string())),
            }
        }
    }
}

pub async fn update_user(
    ctx: &Context<'_>,
    tenant: &str,
    id: &str,
    input: UpdateUserInput,
    audit: &mut Audit,
) -> ClientResult<User> {
    let operator = caller(ctx).operator_with(Permission::UpdateUsers)?;
    if input.touches_app_metadata() && !operator.has(Permission::UpdateUsersAppMetadata) {
        return Err(ClientError::forbidden(
            "changing appMetadata needs update:users_app_metadata",
        ));
    }
    let changes_email = input.new_email().is_some();
    let body = input.into_body(services(ctx).limits.metadata_bytes)?;
    audit.fields(&body.fields);
    let client = target_in_reach(ctx, operator, tenant, id).await?;
    // The email index must forget the old address too, so learn it first.
    let old_email = if changes_email {
        current(ctx, client, id).await?.email().map(str::to_owned)
    } else {
        None
    };
    match client.update_user(id, body.json.into()).await {
        Ok(profile) => {
            let profile = services(ctx)
                .store
                .wrote(client, profile, old_email.as_deref())
                .await;
            Ok(User::new(client.clone(), profile))
        }
        Err(error) => {
            if let Some(email) = &old_email {
                services(ctx).store.unsure(client, None, Some(email)).await;
            }
            Err(write_failed(ctx, client, Some(id), error).await)
        }
    }
}

pub async fn delete_user(ctx: &Context<'_>, tenant: &str, id: &str) -> ClientResult<bool> {
    let operator = caller(ctx).operator_with(Permission::DeleteUsers)?;
    let client = target_in_reach(ctx, operator, tenant, id).await?;
    let email = current(ctx, client, id).await?.email().map(str::to_owned);
    match client.delete_user(id).await {
        Ok(()) => {
            services(ctx)
                .store
                .deleted(client, id, email.as_deref())
                .await;
            Ok(true)
        }
        Err(error) => {
            services(ctx)
                .store
                .unsure(client, None, email.as_deref())
                .await;
            Err(write_failed(ctx, client, Some(id), error).await)
        }
    }
}

pub async fn set_blocked(
    ctx: &Context<'_>,
    tenant: &str,
    id: &str,
    blocked: bool,
) -> ClientResult<User> {
    let operator = caller(ctx).operator_with(Permission::BlockUsers)?;
    let client = target_in_reach(ctx, operator, tenant, id).await?;
    match client
        .update_user(id, serde_json::json!({"blocked": blocked}))
        .await
    {
        Ok(profile) => {
            let profile = services(ctx).store.wrote(client, profile, None).await;
            Ok(User::new(client.clone(), profile))
        }
        Err(error) => Err(write_failed(ctx, client, Some(id), error).await),
    }
}

pub async fn remove_brute_force_blocks(
    ctx: &Context<'_>,
    tenant: &str,
    id: &str,
) -> ClientResult<bool> {
    let operator = caller(ctx).operator_with(Permission::BlockUsers)?;
    let client = target_in_reach(ctx, operator, tenant, id).await?;
    // Auth0 answers 204 for an unknown id too: make sure the user exists.
    current(ctx, client, id).await?;
    match client.delete_user_blocks(id).await {
        Ok(()) => Ok(true),
        Err(error) => Err(write_failed(ctx, client, Some(id), error).await),
    }
}

pub async fn send_verification_email(
    ctx: &Context<'_>,
    tenant: &str,
    id: &str,
) -> ClientResult<Job> {
    let operator = caller(ctx).operator_with(Permission::UpdateUsers)?;
    let client = target_in_reach(ctx, operator, tenant, id).await?;
    let profile = current(ctx, client, id).await?;
    verification_email(ctx, client, &profile).await
}

/// Sends a verification email to an account that has one to verify.
pub async fn verification_email(
    ctx: &Context<'_>,
    client: &TenantClient,
    profile: &Profile,
) -> ClientResult<Job> {
    if profile.email().is_none() {
        return Err(ClientError::bad_input("the account has no email to verify"));
    }
    if profile.email_verified() {
        return Err(ClientError::bad_input("the email is already verified"));
    }
    match client.send_verification_email(profile.user_id()).await {
        Ok(job) => Ok(job.into()),
        Err(error) => Err(write_failed(ctx, client, None, error).await),
    }
}

/// Auth0's default lifetime of a password-change ticket (5 days), and the longest accepted.
const MAX_TICKET_TTL: i32 = 30 * 24 * 3600;

pub async fn password_change_ticket(
    ctx: &Context<'_>,
    tenant: &str,
    id: &str,
    result_url: Option<String>,
    ttl_seconds: Option<i32>,
) -> ClientResult<Ticket> {
    let operator = caller(ctx).operator_with(Permission::UpdateUsers)?;
    if let Some(url) = &result_url {
        validate::url("resultUrl", url)?;
    }
    let ttl = match ttl_seconds {
        None => None,
        Some(ttl) if (1..=MAX_TICKET_TTL).contains(&ttl) => u32::try_from(ttl).ok(),
        Some(_) => {
            return Err(ClientError::bad_input(format!(
                "ttlSeconds: must be between 1 and {MAX_TICKET_TTL}"
            )));
        }
    };
    let client = target_in_reach(ctx, operator, tenant, id).await?;
    let profile = current(ctx, client, id).await?;
    if !profile.has_database_identity() {
        return Err(ClientError::bad_input(
            "the account signs in through a social or enterprise provider; its password is not Auth0's to change",
        ));
    }
    match client
        .password_change_ticket(id, result_url.as_deref(), ttl)
        .await
    {
        Ok(url) => Ok(Ticket { url }),
        Err(error) => Err(write_failed(ctx, client, None, error).await),
    }
}
