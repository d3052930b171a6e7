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

use super::Shared;
use crate::cache::UserKey;

/// What one write touched in one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalidation {
    /// The replica that wrote; it ignores its own message.
    pub origin: String,
    pub tenant: String,
    #[serde(default)]
    pub user: Option<String>,
    /// Lower-cased emails whose accounts changed.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Organizations or roles changed (an organization, when one is known).
    #[serde(default)]
    pub memberships: bool,
    #[serde(default)]
    pub organization: Option<String>,
}

impl Shared {
    fn channel(&self) -> String {
        self.key(&["invalidate"])
    }

    /// Tells the other replicas what a write touched. Awaited before the write answers.
    pub async fn publish(&self, mut invalidation: Invalidation) {
        invalidation.origin = self.replica.to_string();
        let Ok(message) = serde_json::to_string(&invalidation) else {
            return;
        };
        let channel = self.channel();
        self.run("publish", |mut connection| async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(message)
                .query_async::<i64>(&mut connection)
                .await
        })
        .await;
    }

    async fn apply(&self, invalidation: Invalidation) {
        if invalidation.origin == *self.replica {
            return;
        }
        let tenant: Arc<str> = Arc::from(invalidation.tenant);
        if let Some(user) = invalidation.user {
            self.caches.forget_user(&UserKey::new(&tenant, &user)).await;
        }
        for email in invalidation.emails {
            self.caches.forget_email(&tenant, &email).await;
        }
        if invalidation.memberships {
            self.caches
                .forget_memberships(&tenant, invalidation.organization.as_deref())
                .await;
        }
    }
}

/// Subscribes, applies other replicas' invalidations, and re-subscribes after any failure.
pub(super) async fn listen(shared: Weak<Shared>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let channel = strong.channel();
        let subscribed = async {
            let mut pubsub = strong.client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(strong.config.timeout * 4, subscribed).await {
            Ok(Ok(pubsub)) => {
                strong.metrics.redis_connected.set(1);
                // Whatever was written while we were not listening is unknown: start afresh.
                strong.caches.forget_everything();
                tracing::info!("listening for other replicas' invalidations");
                delay = Duration::from_millis(100);
                drop(strong);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let Some(strong) = shared.upgrade() else {
                        return;
                    };
                    match serde_json::from_slice::<Invalidation>(message.get_payload_bytes()) {
                        Ok(invalidation) => strong.apply(invalidation).await,
                        Err(error) => tracing::warn!(%error, "unreadable invalidation; ignored"),
                    }
                }
                let Some(strong) = shared.upgrade() else {
                    return;
                };
                strong.metrics.redis_connected.set(0);
                strong.failed("subscribe", "the subscription ended");
            }
            Ok(Err(error)) => {
                strong.metrics.redis_connected.set(0);
                strong.failed("subscribe", &error.to_string());
            }
            Err(_) => {
                strong.metrics.redis_connected.set(0);
                strong.failed("subscribe", "timed out");
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
