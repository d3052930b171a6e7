//! The Mutation root: every write is checked (caller, permission, input, scope, in that order),
//! sent once, reflected in the caches, and audited whatever its outcome.

use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use serde_json::Value;

use super::context::{caller, services};
use super::inputs::{CreateUserInput, UpdateMeInput, UpdateUserInput};
use super::types::User;
use super::{admin, gdpr, selfservice};
use crate::audit::{AuditEvent, Outcome};
use crate::error::ClientResult;
use crate::tenant::model;

#[derive(SimpleObject)]
pub struct Job {
    pub id: ID,
    /// e.g. `verification_email`.
    #[graphql(name = "type")]
    pub kind: String,
    /// `pending`, then `completed`.
    pub status: String,
    pub created_at: Option<super::scalars::DateTime>,
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
pub struct Ticket {
    /// The link to send to the user.
    pub url: String,
}

#[derive(SimpleObject)]
pub struct ErasureResult {
    pub tenant: super::types::Tenant,
    pub user_id: ID,
    pub deleted: bool,
    /// Why the account is not deleted (run the erasure again once the tenant is back).
    pub error: Option<String>,
}

/// One write's audit event, filled in as the write learns what it touches.
pub struct Audit {
    event: AuditEvent,
}

impl Audit {
    pub fn new(ctx: &Context<'_>, action: &'static str) -> Self {
        let (issuer, subject) = caller(ctx).identity().map_or((None, None), |(i, s)| {
            (Some(i.to_owned()), Some(s.to_owned()))
        });
        Self {
            event: AuditEvent {
                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                action,
                actor_issuer: issuer,
                actor_subject: subject,
                tenant: None,
                target_user: None,
                fields: Vec::new(),
                outcome: Outcome::Succeeded,
            },
        }
    }

    pub fn tenant(&mut self, tenant: &str) -> &mut Self {
        self.event.tenant = Some(tenant.to_owned());
        self
    }

    pub fn target(&mut self, user: &str) -> &mut Self {
        self.event.target_user = Some(user.to_owned());
        self
    }

    pub fn fields(&mut self, fields: &[&'static str]) -> &mut Self {
        self.event.fields = fields.to_vec();
        self
    }

    /// Records the outcome (before the mutation answers) and hands the result on.
    pub fn finish<T>(mut self, ctx: &Context<'_>, result: ClientResult<T>) -> Result<T> {
        self.event.outcome = Outcome::of(&result.as_ref().map(|_| ()));
        services(ctx).auditor.record(&self.event);
        result.map_err(Into::into)
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Changes the signed-in user's own names, picture and user_metadata (first-level merge).
    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<User> {
        let mut audit = Audit::new(ctx, "updateMe");
        let result = selfservice::update_me(ctx, input, &mut audit).await;
        audit.finish(ctx, result)
    }

    /// Sends the signed-in user Auth0's password-reset email. Database accounts only.
    async fn request_password_reset(&self, ctx: &Context<'_>) -> Result<bool> {
        let mut audit = Audit::new(ctx, "requestPasswordReset");
        let result = selfservice::request_password_reset(ctx, &mut audit).await;
        audit.finish(ctx, result)
    }

    /// Sends the signed-in user a new verification email (refused when already verified).
    async fn resend_verification_email(&self, ctx: &Context<'_>) -> Result<Job> {
        let mut audit = Audit::new(ctx, "resendVerificationEmail");
        let result = selfservice::resend_verification_email(ctx, &mut audit).await;
        audit.finish(ctx, result)
    }

    /// Creates a user (`create:users`; appMetadata needs `update:users_app_metadata`). An
    /// organization administrator's new user joins its organization. Never retried: a create
    /// whose answer was lost is UPSTREAM_OUTCOME_UNKNOWN.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        tenant: ID,
        input: CreateUserInput,
    ) -> Result<User> {
        let mut audit = Audit::new(ctx, "createUser");
        audit.tenant(&tenant);
        let result = admin::create_user(ctx, &tenant, input, &mut audit).await;
        audit.finish(ctx, result)
    }

    /// Updates a user (`update:users`; appMetadata needs `update:users_app_metadata`).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        tenant: ID,
        id: ID,
        input: UpdateUserInput,
    ) -> Result<User> {
        let mut audit = Audit::new(ctx, "updateUser");
        audit.tenant(&tenant).target(&id);
        let result = admin::update_user(ctx, &tenant, &id, input, &mut audit).await;
        audit.finish(ctx, result)
    }

    /// Deletes a user for good (`delete:users`).
    async fn delete_user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<bool> {
        let mut audit = Audit::new(ctx, "deleteUser");
        audit.tenant(&tenant).target(&id);
        let result = admin::delete_user(ctx, &tenant, &id).await;
        audit.finish(ctx, result)
    }

    /// Blocks a user from signing in (`block:users`). Brute-force blocks are separate.
    async fn block_user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<User> {
        let mut audit = Audit::new(ctx, "blockUser");
        audit.tenant(&tenant).target(&id).fields(&["blocked"]);
        let result = admin::set_blocked(ctx, &tenant, &id, true).await;
        audit.finish(ctx, result)
    }

    /// Lifts an administrator's block (`block:users`); brute-force blocks stay.
    async fn unblock_user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<User> {
        let mut audit = Audit::new(ctx, "unblockUser");
        audit.tenant(&tenant).target(&id).fields(&["blocked"]);
        let result = admin::set_blocked(ctx, &tenant, &id, false).await;
        audit.finish(ctx, result)
    }

    /// Lifts the blocks Auth0 placed after failed logins (`block:users`); the admin block stays.
    async fn remove_brute_force_blocks(
        &self,
        ctx: &Context<'_>,
        tenant: ID,
        id: ID,
    ) -> Result<bool> {
        let mut audit = Audit::new(ctx, "removeBruteForceBlocks");
        audit.tenant(&tenant).target(&id);
        let result = admin::remove_brute_force_blocks(ctx, &tenant, &id).await;
        audit.finish(ctx, result)
    }

    /// Has Auth0 send a verification email (`update:users`; refused when already verified).
    async fn send_verification_email(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<Job> {
        let mut audit = Audit::new(ctx, "sendVerificationEmail");
        audit.tenant(&tenant).target(&id);
        let result = admin::send_verification_email(ctx, &tenant, &id).await;
        audit.finish(ctx, result)
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
        let mut audit = Audit::new(ctx, "createPasswordChangeTicket");
        audit.tenant(&tenant).target(&id);
        let result =
            admin::password_change_ticket(ctx, &tenant, &id, result_url, ttl_seconds).await;
        audit.finish(ctx, result)
    }

    /// Every account of an email in every tenant, as one JSON document (`manage:gdpr`, all
    /// tenants): profile with both metadata, organizations, roles and recent logs.
    async fn export_person(&self, ctx: &Context<'_>, email: String) -> Result<Json<Value>> {
        let mut audit = Audit::new(ctx, "exportPerson");
        audit.target(&email);
        let result = gdpr::export_person(ctx, &email).await.map(Json);
        audit.finish(ctx, result)
    }

    /// Deletes every account of an email in every tenant (`manage:gdpr`, all tenants);
    /// `confirm` must equal `email`. Safe to run again after a partial failure.
    async fn erase_person(
        &self,
        ctx: &Context<'_>,
        email: String,
        confirm: String,
    ) -> Result<Vec<ErasureResult>> {
        let mut audit = Audit::new(ctx, "erasePerson");
        audit.target(&email);
        let result = gdpr::erase_person(ctx, &email, &confirm).await;
        audit.finish(ctx, result)
    }
}
