//! Writes through the scope: administration by operators (within their tenants and
//! organization) and self-service by end users (their own account only). Each write is checked
//! in one order (permission, input, what its result would show, reach), sent once through the
//! store (which keeps every cache true), and audited whatever its outcome, a refused input
//! included.
//!
//! A target out of reach is NOT_FOUND exactly like a missing one; a tenant out of reach is
//! refused like an unknown one. A delegated administrator's target must belong to its
//! organization at the tenant, asked at the time of the write (never from a cached list).
//!
//! Emails: only a tenant-wide administrator may mark an email verified. An email changed by
//! anyone else (or without saying it is verified) is left unverified and Auth0 sends its
//! verification email, so nobody can attach an address they do not hold to an account and be
//! joined with that address's person. A delegated administrator who picks an address taken in
//! the tenant learns only that it cannot be used, not where it lives.

use serde_json::Value;

use super::fields::UserField;
use super::view::UserView;
use super::{Scope, check_user_id};
use crate::audit::AuditEntry;
use crate::auth::{Caller, Operator, Permission};
use crate::error::{ClientError, ClientResult, ErrorCode};
use crate::store::TenantRef;
use crate::tenant::model::Job;
use crate::tenant::{Profile, UpstreamError};
use crate::validate::Body;

fn no_such_user() -> ClientError {
    ClientError::not_found("no such user")
}

/// Auth0's default lifetime of a password-change ticket (5 days), and the longest accepted.
const MAX_TICKET_TTL: i32 = 30 * 24 * 3600;

impl Scope {
    pub(super) fn audit(&self, action: &'static str) -> AuditEntry {
        AuditEntry::begin(action, &self.caller)
    }

    /// A failed write as the caller may learn of it.
    fn write_failed(&self, tenant: &TenantRef, error: &UpstreamError) -> ClientError {
        match error {
            UpstreamError::NotFound => no_such_user(),
            UpstreamError::Conflict { .. } if self.is_delegated() => ClientError::new(
                ErrorCode::Conflict,
                "that email address cannot be used for this account",
            )
            .for_tenant(tenant.id().to_string()),
            other => other.to_client(tenant.id()),
        }
    }

    fn is_delegated(&self) -> bool {
        self.operator().and_then(Operator::organization).is_some()
    }

    /// The tenant and user of a write, when the operator may write them.
    async fn target(&self, tenant: &str, id: &str) -> ClientResult<TenantRef> {
        check_user_id(id)?;
        let tenant = self.tenant(tenant)?;
        if let Some(organization) = self.operator().and_then(Operator::organization) {
            match self.store.is_member_now(&tenant, organization, id).await {
                Ok(true) => {}
                Ok(false) | Err(UpstreamError::NotFound) => return Err(no_such_user()),
                Err(error) => return Err(error.to_client(tenant.id())),
            }
        }
        Ok(tenant)
    }

    /// The user as the tenant holds it now, for decisions a write depends on.
    async fn current(&self, tenant: &TenantRef, id: &str) -> ClientResult<Profile> {
        match self.store.current_user(tenant, id).await {
            Ok(Some(profile)) => Ok(profile),
            Ok(None) => Err(no_such_user()),
            Err(error) => Err(self.write_failed(tenant, &error)),
        }
    }

    /// The email rules every operator write follows (see the module's documentation).
    fn email_policy(&self, body: &mut Body) -> ClientResult<()> {
        let marks_verified = body.json.get("email_verified") == Some(&Value::Bool(true));
        if marks_verified && self.is_delegated() {
            return Err(ClientError::forbidden(
                "an organization's administrator cannot mark an email as verified; Auth0 sends the user a verification email instead",
            ));
        }
        if body.sets("email") && !marks_verified {
            body.json
                .insert("email_verified".to_owned(), Value::Bool(false));
            body.json
                .insert("verify_email".to_owned(), Value::Bool(true));
        }
        Ok(())
    }

    /// Creates a user (`create:users`; appMetadata needs `update:users_app_metadata`). A
    /// delegated administrator's new user joins its organization.
    pub(crate) async fn create_user(
        &self,
        tenant: &str,
        body: ClientResult<Body>,
        shown: &[UserField],
    ) -> ClientResult<UserView> {
        let mut audit = self.audit("createUser");
        audit.tenant(tenant);
        let result = async {
            let operator = self.operator_with(Permission::CreateUsers)?;
            let mut body = body?;
            audit.fields(&body.fields);
            if body.sets("app_metadata") && !operator.has(Permission::UpdateUsersAppMetadata) {
                return Err(ClientError::forbidden(
                    "setting appMetadata needs update:users_app_metadata",
                ));
            }
            self.check_result_fields(shown)?;
            self.email_policy(&mut body)?;
            let tenant = self.tenant(tenant)?;
            let created = self
                .store
                .create_user(&tenant, Value::Object(body.json))
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            audit.target(created.user_id());
            if let Some(organization) = operator.organization() {
                self.join_organization(&tenant, organization, &created)
                    .await?;
            }
            Ok(self.view(tenant, created))
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Adds a user a delegated administrator created to its organization. If that fails the
    /// user is deleted again rather than left where its creator cannot see it.
    async fn join_organization(
        &self,
        tenant: &TenantRef,
        organization: &str,
        created: &Profile,
    ) -> ClientResult<()> {
        let Err(error) = self
            .store
            .add_organization_member(tenant, organization, created.user_id())
            .await
        else {
            return Ok(());
        };
        tracing::warn!(tenant = %tenant.id(), user = %created.user_id(), %error, "adding a new user to its organization failed; deleting it");
        match self
            .store
            .erase(tenant, created.user_id(), created.email())
            .await
        {
            Ok(()) => Err(error.to_client(tenant.id())),
            Err(_) => Err(ClientError::new(
                ErrorCode::UpstreamOutcomeUnknown,
                format!(
                    "user {} was created in tenant {} but could not be added to the organization, nor deleted again; an administrator must remove it",
                    created.user_id(),
                    tenant.id()
                ),
            )
            .for_tenant(tenant.id().to_string())),
        }
    }

    /// Updates a user (`update:users`; appMetadata needs `update:users_app_metadata`).
    pub(crate) async fn update_user(
        &self,
        tenant: &str,
        id: &str,
        body: ClientResult<Body>,
        shown: &[UserField],
    ) -> ClientResult<UserView> {
        let mut audit = self.audit("updateUser");
        audit.tenant(tenant).target(id);
        let result = async {
            let operator = self.operator_with(Permission::UpdateUsers)?;
            let mut body = body?;
            audit.fields(&body.fields);
            if body.sets("app_metadata") && !operator.has(Permission::UpdateUsersAppMetadata) {
                return Err(ClientError::forbidden(
                    "changing appMetadata needs update:users_app_metadata",
                ));
            }
            self.check_result_fields(shown)?;
            self.email_policy(&mut body)?;
            let tenant = self.target(tenant, id).await?;
            let profile = self
                .store
                .update_user(&tenant, id, Value::Object(body.json))
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            Ok(self.view(tenant, profile))
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Deletes a user for good (`delete:users`).
    pub(crate) async fn delete_user(&self, tenant: &str, id: &str) -> ClientResult<bool> {
        let mut audit = self.audit("deleteUser");
        audit.tenant(tenant).target(id);
        let result = async {
            self.operator_with(Permission::DeleteUsers)?;
            let tenant = self.target(tenant, id).await?;
            self.store
                .delete_user(&tenant, id)
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            Ok(true)
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Blocks or unblocks a user (`block:users`); brute-force blocks are separate.
    pub(crate) async fn set_blocked(
        &self,
        tenant: &str,
        id: &str,
        blocked: bool,
        shown: &[UserField],
    ) -> ClientResult<UserView> {
        let mut audit = self.audit(if blocked { "blockUser" } else { "unblockUser" });
        audit.tenant(tenant).target(id).fields(&["blocked"]);
        let result = async {
            self.operator_with(Permission::BlockUsers)?;
            self.check_result_fields(shown)?;
            let tenant = self.target(tenant, id).await?;
            let profile = self
                .store
                .update_user(&tenant, id, serde_json::json!({"blocked": blocked}))
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            Ok(self.view(tenant, profile))
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Lifts the blocks Auth0 placed after failed logins (`block:users`); the admin block stays.
    pub(crate) async fn remove_brute_force_blocks(
        &self,
        tenant: &str,
        id: &str,
    ) -> ClientResult<bool> {
        let mut audit = self.audit("removeBruteForceBlocks");
        audit.tenant(tenant).target(id);
        let result = async {
            self.operator_with(Permission::BlockUsers)?;
            let tenant = self.target(tenant, id).await?;
            // Auth0 answers 204 for an unknown id too: make sure the user exists.
            self.current(&tenant, id).await?;
            self.store
                .remove_brute_force_blocks(&tenant, id)
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            Ok(true)
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Has Auth0 send a verification email (`update:users`; refused when already verified).
    pub(crate) async fn send_verification_email(
        &self,
        tenant: &str,
        id: &str,
    ) -> ClientResult<Job> {
        let mut audit = self.audit("sendVerificationEmail");
        audit.tenant(tenant).target(id);
        let result = async {
            self.operator_with(Permission::UpdateUsers)?;
            let tenant = self.target(tenant, id).await?;
            let profile = self.current(&tenant, id).await?;
            self.verification_email(&tenant, &profile).await
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    async fn verification_email(&self, tenant: &TenantRef, profile: &Profile) -> ClientResult<Job> {
        if profile.email().is_none() {
            return Err(ClientError::bad_input("the account has no email to verify"));
        }
        if profile.email_verified() {
            return Err(ClientError::bad_input("the email is already verified"));
        }
        self.store
            .send_verification_email(tenant, profile.user_id())
            .await
            .map_err(|e| self.write_failed(tenant, &e))
    }

    /// A password-change link for a database user (`update:users`).
    pub(crate) async fn password_change_ticket(
        &self,
        tenant: &str,
        id: &str,
        result_url: Option<&str>,
        ttl_seconds: Option<i32>,
    ) -> ClientResult<String> {
        let mut audit = self.audit("createPasswordChangeTicket");
        audit.tenant(tenant).target(id);
        let result = async {
            self.operator_with(Permission::UpdateUsers)?;
            if let Some(url) = result_url {
                crate::validate::url("resultUrl", url)?;
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
            let tenant = self.target(tenant, id).await?;
            let profile = self.current(&tenant, id).await?;
            if !profile.has_database_identity() {
                return Err(ClientError::bad_input(
                    "the account signs in through a social or enterprise provider; its password is not Auth0's to change",
                ));
            }
            self.store
                .password_change_ticket(&tenant, id, result_url, ttl)
                .await
                .map_err(|e| self.write_failed(&tenant, &e))
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// The end user's own tenant and id.
    fn own_account(&self, audit: &mut AuditEntry) -> ClientResult<(TenantRef, String)> {
        let Caller::EndUser(user) = &*self.caller else {
            return Err(ClientError::forbidden(
                "this is for signed-in end users only",
            ));
        };
        let tenant = self
            .store
            .tenant(user.tenant())
            .cloned()
            .ok_or_else(|| ClientError::not_found("your tenant is not served here"))?;
        audit.tenant(tenant.id()).target(user.user_id());
        Ok((tenant, user.user_id().to_owned()))
    }

    /// Changes the signed-in user's own names, picture and user_metadata: only the keys of
    /// `self_service.editable_metadata` when the operator declared some.
    pub(crate) async fn update_me(
        &self,
        body: ClientResult<Body>,
        shown: &[UserField],
    ) -> ClientResult<UserView> {
        let mut audit = self.audit("updateMe");
        let result = async {
            let (tenant, id) = self.own_account(&mut audit)?;
            let body = body?;
            audit.fields(&body.fields);
            self.check_editable_metadata(&body)?;
            self.check_result_fields(shown)?;
            let profile = self
                .store
                .update_user(&tenant, &id, Value::Object(body.json))
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            Ok(self.view(tenant, profile))
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Refuses user_metadata keys the operator did not declare editable.
    fn check_editable_metadata(&self, body: &Body) -> ClientResult<()> {
        let editable = &self.self_service.editable_metadata;
        let Some(Value::Object(metadata)) = body.json.get("user_metadata") else {
            return Ok(());
        };
        if editable.is_empty() {
            return Ok(());
        }
        if metadata.is_empty() {
            return Err(ClientError::forbidden(
                "userMetadata: clearing it all is not allowed here; set the keys you may change to null instead",
            ));
        }
        let mut refused: Vec<&str> = metadata
            .keys()
            .map(String::as_str)
            .filter(|key| !editable.iter().any(|field| field.key == *key))
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        refused.sort_unstable();
        let allowed: Vec<&str> = editable.iter().map(|f| f.key.as_str()).collect();
        Err(ClientError::forbidden(format!(
            "userMetadata: you may not change {}; the keys you may change are {}",
            refused.join(", "),
            allowed.join(", ")
        )))
    }

    /// Records that the signed-in user accepted the terms of use: `version` must be the current
    /// one (`self_service.terms_version`). The gateway writes `app_metadata.terms_accepted`
    /// (`{version, at}`) on the user's behalf, and nothing else: the user cannot write
    /// app_metadata themself.
    pub(crate) async fn accept_terms(
        &self,
        version: &str,
        shown: &[UserField],
    ) -> ClientResult<UserView> {
        let mut audit = self.audit("acceptTerms");
        audit.fields(&["termsAccepted"]);
        let result = async {
            let (tenant, id) = self.own_account(&mut audit)?;
            let Some(current) = self.self_service.terms_version.as_deref() else {
                return Err(ClientError::bad_input("there are no terms to accept here"));
            };
            if version != current {
                return Err(ClientError::bad_input(format!(
                    "version: the current terms are version {current}, not {}",
                    version.chars().take(64).collect::<String>().escape_debug()
                )));
            }
            self.check_result_fields(shown)?;
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let patch = serde_json::json!({
                "app_metadata": {"terms_accepted": {"version": current, "at": at}}
            });
            let profile = self
                .store
                .update_user(&tenant, &id, patch)
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            Ok(self.view(tenant, profile))
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Whether `user` accepted the current terms: null without terms, or for a caller who may
    /// not see it (the visibility table's `termsAccepted`).
    pub(crate) fn terms_accepted(&self, user: &UserView) -> Option<bool> {
        let current = self.self_service.terms_version.as_deref()?;
        user.read_or_none(UserField::TermsAccepted, |profile| {
            let metadata: Value = serde_json::from_str(&profile.app_metadata_text()).ok()?;
            Some(
                metadata
                    .pointer("/terms_accepted/version")
                    .and_then(Value::as_str)
                    == Some(current),
            )
        })
    }

    /// Sends the signed-in user Auth0's password-reset email. Database accounts only.
    pub(crate) async fn request_password_reset(&self) -> ClientResult<bool> {
        let mut audit = self.audit("requestPasswordReset");
        let result = async {
            let (tenant, id) = self.own_account(&mut audit)?;
            let profile = self.current(&tenant, &id).await?;
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
            self.store
                .request_password_reset(&tenant, email, &identity.connection)
                .await
                .map_err(|e| self.write_failed(&tenant, &e))?;
            Ok(true)
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    /// Sends the signed-in user a new verification email (refused when already verified).
    pub(crate) async fn resend_verification_email(&self) -> ClientResult<Job> {
        let mut audit = self.audit("resendVerificationEmail");
        let result = async {
            let (tenant, id) = self.own_account(&mut audit)?;
            let profile = self.current(&tenant, &id).await?;
            self.verification_email(&tenant, &profile).await
        }
        .await;
        audit.finish(&self.auditor, result).await
    }
}
