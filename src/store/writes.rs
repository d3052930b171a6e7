//! Keeping the caches true after a write through this gateway: the written profile replaces the
//! cached one (and is read by id, not through lagging search, for `recent_write_window`), the
//! email index forgets the emails involved, memberships are re-read.

use std::sync::Arc;

use super::Store;
use crate::cache::UserKey;
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
        let key = UserKey::new(&client.id, &profile.user_id);
        if let Some(email) = old_email {
            self.forget_email(&client.id, email).await;
        }
        if let Some(email) = &profile.email {
            self.forget_email(&client.id, email).await;
        }
        self.remember_write(key, Some(profile.clone())).await;
        profile
    }

    /// A user the tenant deleted.
    pub async fn deleted(&self, client: &TenantClient, id: &str, email: Option<&str>) {
        if let Some(email) = email {
            self.forget_email(&client.id, email).await;
        }
        let key = UserKey::new(&client.id, id);
        self.caches.user_organizations.invalidate(&key).await;
        self.caches.user_roles.invalidate(&key).await;
        self.remember_write(key, None).await;
        self.forget_memberships(&client.id, None).await;
    }

    /// A write whose outcome is unknown: forget what is cached, so the next read asks the tenant.
    pub async fn unsure(&self, client: &TenantClient, id: Option<&str>, email: Option<&str>) {
        if let Some(email) = email {
            self.forget_email(&client.id, email).await;
        }
        if let Some(id) = id {
            let key = UserKey::new(&client.id, id);
            self.caches.profiles.invalidate(&key).await;
            self.caches.stale_profiles.invalidate(&key).await;
            self.caches.recent_writes.insert(key, ()).await;
        }
    }
}
