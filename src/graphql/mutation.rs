//! The Mutation root: each write's input is validated into an Auth0 body, then handed to the
//! caller's scope, which checks it, sends it through the store and audits it.

use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use serde_json::Value;

use super::context::{report, scope, selected_user_fields};
use super::inputs::{CreateUserInput, UpdateMeInput, UpdateUserInput};
use super::types::{Tenant, User};
use crate::tenant::model;

#[derive(SimpleObject)]
pub(crate) struct Job {
    pub(crate) id: ID,
    /// e.g. `verification_email`.
    #[graphql(name = "type")]
    pub(crate) kind: String,
    /// `pending`, then `completed`.
    pub(crate) status: String,
    pub(crate) created_at: Option<super::scalars::DateTime>,
}

impl From<model::Job> for Job {
    fn from(job: model::Job) -> Self {
        Self {
            id: ID(job.id),
            kind: job.kind,
            status: job.status,
            created_at: job.created_at.map(super::scalars::DateTime),
        }
    }
}

#[derive(SimpleObject)]
pub(crate) struct Ticket {
    /// The link to send to the user.
    pub(crate) url: String,
}

#[derive(SimpleObject)]
pub(crate) struct ErasureResult {
    pub(crate) tenant: Tenant,
    pub(crate) user_id: ID,
    pub(crate) deleted: bool,
    /// Why the account is not deleted (run the erasure again once the tenant is back).
    pub(crate) error: Option<String>,
}

pub(crate) struct Mutation;

/// Every write answering a `User` checks, before it writes, that the caller may read each field
/// its selection asks for: a write never shows more than a read would.
#[Object]
impl Mutation {
    /// Changes the signed-in user's own names, picture and user_metadata (first-level merge);
    /// only the user_metadata keys the operator declared editable
    /// (`self_service.editable_metadata`), when it declared some.
    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<User> {
        let scope = scope(ctx);
        let body = input.into_body(scope.metadata_bytes());
        Ok(User(
            scope.update_me(body, &selected_user_fields(ctx)).await?,
        ))
    }

    /// Records that the signed-in user accepted the terms of use. `version` must be the
    /// current one (configured as `self_service.terms_version`); the gateway writes
    /// `appMetadata.terms_accepted = {version, at}` on the user's behalf, and nothing else.
    async fn accept_terms(&self, ctx: &Context<'_>, version: String) -> Result<User> {
        Ok(User(
            scope(ctx)
                .accept_terms(&version, &selected_user_fields(ctx))
                .await?,
        ))
    }

    /// Sends the signed-in user Auth0's password-reset email. Database accounts only.
    async fn request_password_reset(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(scope(ctx).request_password_reset().await?)
    }

    /// Sends the signed-in user a new verification email (refused when already verified).
    async fn resend_verification_email(&self, ctx: &Context<'_>) -> Result<Job> {
        Ok(scope(ctx).resend_verification_email().await?.into())
    }

    /// Creates a user (`create:users`; appMetadata needs `update:users_app_metadata`). An
    /// organization administrator's new user joins its organization, and only a tenant-wide
    /// administrator may mark its email verified. Never retried: a create whose answer was
    /// lost is UPSTREAM_OUTCOME_UNKNOWN.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        tenant: ID,
        input: CreateUserInput,
    ) -> Result<User> {
        let scope = scope(ctx);
        let body = input.into_body(scope.metadata_bytes());
        Ok(User(
            scope
                .create_user(&tenant, body, &selected_user_fields(ctx))
                .await?,
        ))
    }

    /// Updates a user (`update:users`; appMetadata needs `update:users_app_metadata`). A
    /// changed email is left unverified and Auth0 sends its verification email, unless a
    /// tenant-wide administrator sets `emailVerified: true`.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        tenant: ID,
        id: ID,
        input: UpdateUserInput,
    ) -> Result<User> {
        let scope = scope(ctx);
        let body = input.into_body(scope.metadata_bytes());
        Ok(User(
            scope
                .update_user(&tenant, &id, body, &selected_user_fields(ctx))
                .await?,
        ))
    }

    /// Deletes a user for good (`delete:users`).
    async fn delete_user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<bool> {
        Ok(scope(ctx).delete_user(&tenant, &id).await?)
    }

    /// Blocks a user from signing in (`block:users`). Brute-force blocks are separate.
    async fn block_user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<User> {
        Ok(User(
            scope(ctx)
                .set_blocked(&tenant, &id, true, &selected_user_fields(ctx))
                .await?,
        ))
    }

    /// Lifts an administrator's block (`block:users`); brute-force blocks stay.
    async fn unblock_user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<User> {
        Ok(User(
            scope(ctx)
                .set_blocked(&tenant, &id, false, &selected_user_fields(ctx))
                .await?,
        ))
    }

    /// Lifts the blocks Auth0 placed after failed logins (`block:users`); the admin block stays.
    async fn remove_brute_force_blocks(
        &self,
        ctx: &Context<'_>,
        tenant: ID,
        id: ID,
    ) -> Result<bool> {
        Ok(scope(ctx).remove_brute_force_blocks(&tenant, &id).await?)
    }

    /// Has Auth0 send a verification email (`update:users`; refused when already verified).
    async fn send_verification_email(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<Job> {
        Ok(scope(ctx)
            .send_verification_email(&tenant, &id)
            .await?
            .into())
    }

    /// A password-change link for a database user (`update:users`), valid `ttlSeconds`
    /// (default 5 days), leading to `resultUrl` afterwards.
    async fn create_password_change_ticket(
        &self,
        ctx: &Context<'_>,
        tenant: ID,
        id: ID,
        result_url: Option<String>,
        ttl_seconds: Option<i32>,
    ) -> Result<Ticket> {
        let url = scope(ctx)
            .password_change_ticket(&tenant, &id, result_url.as_deref(), ttl_seconds)
            .await?;
        Ok(Ticket { url })
    }

    /// Every account that verified an email, in every tenant, as one JSON document
    /// (`manage:gdpr` over every tenant; a delegated operator's organization binds it):
    /// profile with both metadata, organizations, roles and recent logs.
    async fn export_person(&self, ctx: &Context<'_>, email: String) -> Result<Json<Value>> {
        let found = scope(ctx).export_person(&email).await?;
        report(ctx, found.failures);
        Ok(Json(found.value))
    }

    /// Deletes every account that verified an email, in every tenant (`manage:gdpr` over every
    /// tenant; a delegated operator's organization binds it); `confirm` must equal `email`.
    /// Safe to run again after a partial failure.
    async fn erase_person(
        &self,
        ctx: &Context<'_>,
        email: String,
        confirm: String,
    ) -> Result<Vec<ErasureResult>> {
        let found = scope(ctx).erase_person(&email, &confirm).await?;
        report(ctx, found.failures);
        Ok(found
            .value
            .into_iter()
            .map(|erasure| ErasureResult {
                tenant: Tenant(erasure.tenant),
                user_id: ID(erasure.user_id),
                deleted: erasure.error.is_none(),
                error: erasure.error,
            })
            .collect())
    }
}
