//! Every write, sent to the tenant and reflected in every cache in one place: the written profile
//! replaces the cached one (and is read by id, not through lagging search, for
//! `recent_write_window`), the email index forgets the emails involved, memberships are
//! corrected. With Redis, the shared cache gets the written profile (or a tombstone) and the
//! other replicas are told, all before the write answers. A write whose outcome is unknown
//! makes the caches forget what it may have changed.

use serde_json::Value;

use super::invalidation::{Invalidation, publish};
use super::{Store, TenantRef, TenantResult};
use crate::keys::UserKey;
use crate::tenant::model::Job;
use crate::tenant::{Profile, UpstreamError};

impl Store {
    /// The user as the tenant holds it now (by id, consistent): what a write's decisions
    /// depend on. The cache learns it too.
    pub(crate) async fn current_user(
        &self,
        tenant: &TenantRef,
        id: &str,
    ) -> TenantResult<Option<Profile>> {
        let profile = tenant.client().user(id).await?;
        if let Some(profile) = &profile
            && !self
                .caches
                .recent_writes
                .contains_key(&UserKey::new(tenant.id(), id))
        {
            self.caches
                .put_profile(UserKey::new(tenant.id(), id), Some(profile.clone()))
                .await;
        }
        Ok(profile)
    }

    /// `POST /api/v2/users`, never retried once sent.
    pub(crate) async fn create_user(
        &self,
        tenant: &TenantRef,
        body: Value,
    ) -> TenantResult<Profile> {
        let email = body.get("email").and_then(Value::as_str).map(str::to_owned);
        match tenant.client().create_user(body).await {
            Ok(profile) => Ok(self.wrote(tenant, profile, None).await),
            Err(error) => {
                self.after_failure(tenant, None, &error, [email.as_deref(), None])
                    .await;
                Err(error)
            }
        }
    }

    /// `PATCH /api/v2/users/{id}`. When the body changes the email, the old one is learnt first
    /// so that the email index forgets it too.
    pub(crate) async fn update_user(
        &self,
        tenant: &TenantRef,
        id: &str,
        body: Value,
    ) -> TenantResult<Profile> {
        let new_email = body.get("email").and_then(Value::as_str).map(str::to_owned);
        let old_email = match &new_email {
            Some(_) => self
                .current_user(tenant, id)
                .await?
                .ok_or(UpstreamError::NotFound)?
                .email()
                .map(str::to_owned),
            None => None,
        };
        match tenant.client().update_user(id, body).await {
            Ok(profile) => Ok(self.wrote(tenant, profile, old_email.as_deref()).await),
            Err(error) => {
                self.after_failure(
                    tenant,
                    Some(id),
                    &error,
                    [old_email.as_deref(), new_email.as_deref()],
                )
                .await;
                Err(error)
            }
        }
    }

    /// `DELETE /api/v2/users/{id}`; `NotFound` for a user that is not there (Auth0 answers 204
    /// either way, so the user is read first).
    pub(crate) async fn delete_user(&self, tenant: &TenantRef, id: &str) -> TenantResult<()> {
        let current = self
            .current_user(tenant, id)
            .await?
            .ok_or(UpstreamError::NotFound)?;
        self.erase(tenant, id, current.email()).await
    }

    /// Deletes a user whose email is known, counting "already gone" as done (erasures are run
    /// again after a partial failure).
    pub(crate) async fn erase(
        &self,
        tenant: &TenantRef,
        id: &str,
        email: Option<&str>,
    ) -> TenantResult<()> {
        match tenant.client().delete_user(id).await {
            Ok(()) | Err(UpstreamError::NotFound) => {
                self.deleted(tenant, id, email).await;
                Ok(())
            }
            Err(error) => {
                self.after_failure(tenant, Some(id), &error, [email, None])
                    .await;
                Err(error)
            }
        }
    }

    /// `DELETE /api/v2/user-blocks/{id}`: lifts brute-force blocks (not the admin block).
    pub(crate) async fn remove_brute_force_blocks(
        &self,
        tenant: &TenantRef,
        id: &str,
    ) -> TenantResult<()> {
        tenant.client().delete_user_blocks(id).await
    }

    /// `POST /api/v2/jobs/verification-email`.
    pub(crate) async fn send_verification_email(
        &self,
        tenant: &TenantRef,
        id: &str,
    ) -> TenantResult<Job> {
        tenant.client().send_verification_email(id).await
    }

    /// `POST /api/v2/tickets/password-change`: the link.
    pub(crate) async fn password_change_ticket(
        &self,
        tenant: &TenantRef,
        id: &str,
        result_url: Option<&str>,
        ttl_seconds: Option<u32>,
    ) -> TenantResult<String> {
        tenant
            .client()
            .password_change_ticket(id, result_url, ttl_seconds)
            .await
    }

    /// `POST /dbconnections/change_password` (Authentication API): Auth0 emails a reset link.
    pub(crate) async fn request_password_reset(
        &self,
        tenant: &TenantRef,
        email: &str,
        connection: &str,
    ) -> TenantResult<()> {
        tenant
            .client()
            .request_password_reset(email, connection)
            .await
    }

    /// `POST /api/v2/organizations/{id}/members`, reflected in the member lists at once.
    pub(crate) async fn add_organization_member(
        &self,
        tenant: &TenantRef,
        organization: &str,
        user: &str,
    ) -> TenantResult<()> {
        tenant
            .client()
            .add_organization_member(organization, user)
            .await?;
        self.caches
            .member_changed(tenant.id(), organization, user, true)
            .await;
        self.caches
            .forget_user(&UserKey::new(tenant.id(), user))
            .await;
        if let Some(shared) = &self.shared {
            let mut message = invalidation(tenant, Some(user), Vec::new());
            message.memberships = true;
            message.organization = Some(organization.to_owned());
            message.joined = Some(true);
            publish(shared, message).await;
        }
        Ok(())
    }

    /// A profile the tenant answered to a create or update; `old_email` is the email it had
    /// before, when the write changed it.
    async fn wrote(
        &self,
        tenant: &TenantRef,
        profile: Profile,
        old_email: Option<&str>,
    ) -> Profile {
        let key = UserKey::new(tenant.id(), profile.user_id());
        let emails = emails([old_email, profile.email()]);
        for email in &emails {
            self.caches.forget_email(tenant.id(), email).await;
        }
        self.remember_write(key.clone(), Some(profile.clone()))
            .await;
        if let Some(shared) = &self.shared {
            super::l2::put_profile(shared, &key, &profile).await;
            publish(shared, invalidation(tenant, Some(&key.id), emails)).await;
        }
        profile
    }

    /// A user the tenant deleted.
    async fn deleted(&self, tenant: &TenantRef, id: &str, email: Option<&str>) {
        let key = UserKey::new(tenant.id(), id);
        let emails = emails([email]);
        for email in &emails {
            self.caches.forget_email(tenant.id(), email).await;
        }
        self.caches.forget_user(&key).await;
        self.caches.put_profile(key.clone(), None).await;
        self.caches.forget_memberships(tenant.id(), None).await;
        if let Some(shared) = &self.shared {
            super::l2::put_deleted(shared, &key).await;
            let mut message = invalidation(tenant, Some(id), emails);
            message.memberships = true;
            publish(shared, message).await;
        }
    }

    /// After a failed write: when its outcome is unknown, forget what it may have changed, so
    /// the next read asks the tenant.
    async fn after_failure<const N: usize>(
        &self,
        tenant: &TenantRef,
        id: Option<&str>,
        error: &UpstreamError,
        emails_involved: [Option<&str>; N],
    ) {
        if !matches!(error, UpstreamError::OutcomeUnknown { .. }) {
            return;
        }
        let emails = emails(emails_involved);
        for email in &emails {
            self.caches.forget_email(tenant.id(), email).await;
        }
        let key = id.map(|id| UserKey::new(tenant.id(), id));
        if let Some(key) = &key {
            self.caches.forget_user(key).await;
        }
        if let Some(shared) = &self.shared {
            if let Some(key) = &key {
                super::l2::forget_profile(shared, key).await;
            }
            publish(shared, invalidation(tenant, id, emails)).await;
        }
    }
}

/// The distinct emails among those given, as written (the caches key them lower-cased).
fn emails<const N: usize>(emails: [Option<&str>; N]) -> Vec<String> {
    let mut found: Vec<String> = emails.into_iter().flatten().map(str::to_owned).collect();
    found.sort();
    found.dedup();
    found
}

fn invalidation(tenant: &TenantRef, user: Option<&str>, emails: Vec<String>) -> Invalidation {
    Invalidation {
        tenant: tenant.id().to_string(),
        user: user.map(str::to_owned),
        emails,
        ..Invalidation::default()
    }
}
