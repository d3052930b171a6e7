//! Invalidation broadcast: after a write, the replica that made it publishes what it touched
//! (user, emails, memberships) on `{prefix}invalidate`; every other replica evicts those entries
//! and reads the user by id (not through Auth0's lagging search) for the recent-write window.
//!
//! The bound: a replica stops serving the profile it held before a write as soon as it has
//! received the message, which Redis delivers while the writer is still answering (the writer
//! publishes before it answers); measured delays are in the README. While the subscription is
//! down the bound falls back to the local TTL, and on reconnecting a replica empties its caches.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::Parts;
use crate::keys::UserKey;
use crate::shared::Shared;

/// What one write touched in one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Invalidation {
    /// The replica that wrote; it ignores its own message.
    pub(super) origin: String,
    pub(super) tenant: String,
    #[serde(default)]
    pub(super) user: Option<String>,
    /// Lower-cased emails whose accounts changed.
    #[serde(default)]
    pub(super) emails: Vec<String>,
    /// Organizations or roles changed (an organization, when one is known).
    #[serde(default)]
    pub(super) memberships: bool,
    #[serde(default)]
    pub(super) organization: Option<String>,
    /// `user` joined (true) or left (false) `organization`: laid over lagging member lists.
    #[serde(default)]
    pub(super) joined: Option<bool>,
}

fn channel(shared: &Shared) -> String {
    shared.key(&["invalidate"])
}

/// Tells the other replicas what a write touched. Awaited before the write answers.
pub(super) async fn publish(shared: &Shared, mut invalidation: Invalidation) {
    invalidation.origin = shared.replica().to_owned();
    let Ok(message) = serde_json::to_string(&invalidation) else {
        return;
    };
    let channel = channel(shared);
    shared
        .run("publish", |mut connection| async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(message)
                .query_async::<i64>(&mut connection)
                .await
        })
        .await;
}

impl Parts {
    async fn apply(&self, invalidation: Invalidation) {
        let tenant: Arc<str> = Arc::from(invalidation.tenant);
        if let Some(user) = &invalidation.user {
            self.caches.forget_user(&UserKey::new(&tenant, user)).await;
        }
        for email in invalidation.emails {
            self.caches.forget_email(&tenant, &email).await;
        }
        if invalidation.memberships {
            self.caches
                .forget_memberships(&tenant, invalidation.organization.as_deref())
                .await;
        }
        if let (Some(organization), Some(user), Some(joined)) = (
            invalidation.organization.as_deref(),
            invalidation.user.as_deref(),
            invalidation.joined,
        ) {
            self.caches
                .member_changed(&tenant, organization, user, joined)
                .await;
        }
    }
}

/// Subscribes, applies other replicas' invalidations, and re-subscribes after any failure.
pub(super) async fn listen(store: Weak<Parts>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let Some(strong) = store.upgrade() else {
            return;
        };
        let Some(shared) = strong.shared.clone() else {
            return;
        };
        let channel = channel(&shared);
        if let Ok(pubsub) = shared.subscribe(&channel).await {
            // Whatever was written while we were not listening is unknown: start afresh.
            strong.caches.forget_everything();
            tracing::info!("listening for other replicas' invalidations");
            delay = Duration::from_millis(100);
            drop(strong);
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                let Some(strong) = store.upgrade() else {
                    return;
                };
                match serde_json::from_slice::<Invalidation>(message.get_payload_bytes()) {
                    Ok(invalidation) if invalidation.origin != shared.replica() => {
                        strong.apply(invalidation).await;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "unreadable invalidation; ignored"),
                }
            }
            shared.lost("subscribe", "the subscription ended");
        } else {
            drop(strong);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
