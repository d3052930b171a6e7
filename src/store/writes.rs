//! Keeping every cache true after a write through this gateway: the written profile replaces the
//! cached one (and is read by id, not through lagging search, for `recent_write_window`), the
//! email index forgets the emails involved, memberships are re-read. With Redis, the shared
//! cache gets the written profile (or a tombstone) and the other replicas are told, all before
//! the write answers.

use std::sync::Arc;

use super::Store;
use crate::cache::UserKey;
use crate::shared::invalidation::Invalidation;
use crate::tenant::TenantClient;
use crate::tenant::model::Profile;

impl Store {
    /// A profile the tenant answered to a create or update; `old_email` is the email it had
    /// before, when the write changed it.
    pub async fn wrote(
        &self,
        client: &TenantClient,
        profile: Profile,
        old_email: Option<&str>,
    ) -> Arc<Profile> {
        let profile = Arc::new(profile);
        let key = UserKey::new(&client.id, profile.user_id());
        let emails = emails([old_email, profile.email()]);
        for email in &emails {
            self.caches.forget_email(&client.id, email).await;
        }
        self.remember_write(key.clone(), Some(profile.clone()))
            .await;
        if let Some(shared) = &self.shared {
            shared.put_profile(&key, &profile).await;
            shared
                .publish(invalidation(client, Some(&key), emails, None, false))
                .await;
        }
        profile
    }

    /// A user the tenant deleted.
    pub async fn deleted(&self, client: &TenantClient, id: &str, email: Option<&str>) {
        let key = UserKey::new(&client.id, id);
        let emails = emails([email]);
        for email in &emails {
            self.caches.forget_email(&client.id, email).await;
        }
        self.caches.forget_user(&key).await;
        self.caches.put_profile(key.clone(), None).await;
        self.caches.forget_memberships(&client.id, None).await;
        if let Some(shared) = &self.shared {
            shared.put_deleted(&key).await;
            shared
                .publish(invalidation(client, Some(&key), emails, None, true))
                .await;
        }
    }

    /// A write whose outcome is unknown: forget what is cached, so the next read asks the tenant.
    pub async fn unsure(&self, client: &TenantClient, id: Option<&str>, email: Option<&str>) {
        let emails = emails([email]);
        for email in &emails {
            self.caches.forget_email(&client.id, email).await;
        }
        let key = id.map(|id| UserKey::new(&client.id, id));
        if let Some(key) = &key {
            self.caches.forget_user(key).await;
        }
        if let Some(shared) = &self.shared {
            if let Some(key) = &key {
                shared.forget_profile(key).await;
            }
            shared
                .publish(invalidation(client, key.as_ref(), emails, None, false))
                .await;
        }
    }

    /// An organization's members changed.
    pub async fn memberships_changed(&self, client: &TenantClient, organization: &str) {
        self.caches
            .forget_memberships(&client.id, Some(organization))
            .await;
        if let Some(shared) = &self.shared {
            shared
                .publish(invalidation(
                    client,
                    None,
                    Vec::new(),
                    Some(organization),
                    true,
                ))
                .await;
        }
    }
}

/// The distinct lower-cased emails among those given.
fn emails<const N: usize>(emails: [Option<&str>; N]) -> Vec<String> {
    let mut found: Vec<String> = emails
        .into_iter()
        .flatten()
        .map(str::to_lowercase)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn invalidation(
    client: &TenantClient,
    key: Option<&UserKey>,
    emails: Vec<String>,
    organization: Option<&str>,
    memberships: bool,
) -> Invalidation {
    Invalidation {
        origin: String::new(),
        tenant: client.id.to_string(),
        user: key.map(|k| k.id.to_string()),
        emails,
        memberships,
        organization: organization.map(str::to_owned),
    }
}
