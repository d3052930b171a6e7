//! Self-service for signed-in end users, on their own account only: profile names, picture and
//! user_metadata; password resets and verification emails through Auth0's own flows.

use std::sync::Arc;

use async_graphql::Context;

use super::admin::{current, verification_email, write_failed};
use super::context::{caller, services};
use super::inputs::UpdateMeInput;
use super::mutation::{Audit, Job};
use super::types::User;
use crate::error::{ClientError, ClientResult};
use crate::tenant::TenantClient;

/// The end user's tenant and id.
fn own_account<'a>(
    ctx: &Context<'a>,
    audit: &mut Audit,
) -> ClientResult<(&'a Arc<TenantClient>, &'a str)> {
    let user = caller(ctx).end_user()?;
    let client = services(ctx)
        .store
        .tenant(&user.tenant)
        .ok_or_else(|| ClientError::not_found("your tenant is not served here"))?;
    audit.tenant(&client.id).target(&user.user_id);
    Ok((client, &user.user_id))
}

pub async fn update_me(
    ctx: &Context<'_>,
    input: UpdateMeInput,
    audit: &mut Audit,
) -> ClientResult<User> {
    let (client, id) = own_account(ctx, audit)?;
    let body = input.into_body(services(ctx).limits.metadata_bytes)?;
    audit.fields(&body.fields);
    match client.update_user(id, body.json.into()).await {
        Ok(profile) => {
            let profile = services(ctx).store.wrote(client, profile, None).await;
            Ok(User::new(client.clone(), profile))
        }
        Err(error) => Err(write_failed(ctx, client, Some(id), error).await),
    }
}

pub async fn request_password_reset(ctx: &Context<'_>, audit: &mut Audit) -> ClientResult<bool> {
    let (client, id) = own_account(ctx, audit)?;
    let profile = current(ctx, client, id).await?;
    let identities = profile.identities();
    let Some(identity) = identities.iter().find(|i| i.provider == "auth0") else {
        let provider = identities
            .first()
            .map_or("another provider", |i| i.provider.as_str());
        return Err(ClientError::bad_input(format!(
            "your account signs in with {provider}; its password is managed there, not by Auth0"
        )));
    };
    let Some(email) = profile.email() else {
        return Err(ClientError::bad_input(
            "your account has no email to send a reset link to",
        ));
    };
    match client
        .request_password_reset(email, &identity.connection)
        .await
    {
        Ok(()) => Ok(true),
        Err(error) => Err(write_failed(ctx, client, None, error).await),
    }
}

pub async fn resend_verification_email(ctx: &Context<'_>, audit: &mut Audit) -> ClientResult<Job> {
    let (client, id) = own_account(ctx, audit)?;
    let profile = current(ctx, client, id).await?;
    verification_email(ctx, client, &profile).await
}
