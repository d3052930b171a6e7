//! The profile cache: moka keyed by a user's key with its id held inline, so that an entry
//! makes one allocation for its key rather than two.
//!
//! Moka keeps every key in an `Arc` of its own; a [`UserKey`] there would point on to a second
//! allocation for its id. Auth0 ids are short (`auth0|` and 24 hex digits, a social
//! provider's name and a number), so they are copied into the key itself; a longer one is
//! kept as it is. Either way two keys are equal exactly when their users are.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;

use super::cache::ProfileEntry;
use crate::keys::UserKey;
use crate::tenant::UpstreamError;

/// The longest id held inline: with the tenant, the key fills 56 bytes.
const INLINE: usize = 38;

#[derive(Clone, PartialEq, Eq, Hash)]
struct ProfileKey {
    tenant: Arc<str>,
    id: Id,
}

/// An id; which form it takes follows from its length alone, so equal ids are equal keys.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Id {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

impl ProfileKey {
    fn of(key: &UserKey) -> Self {
        let id = match key.id.len() {
            len @ 0..=INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..len].copy_from_slice(key.id.as_bytes());
                Id::Inline {
                    len: len as u8,
                    bytes,
                }
            }
            _ => Id::Shared(key.id.clone()),
        };
        Self {
            tenant: key.tenant.clone(),
            id,
        }
    }
}

/// Profiles (and absences) by user, each with its own lifetime.
#[derive(Clone)]
pub(super) struct ProfileCache(Cache<ProfileKey, ProfileEntry>);

impl ProfileCache {
    pub(super) fn new(capacity: u64, expiry: ProfileExpiry) -> Self {
        Self(
            Cache::builder()
                .max_capacity(capacity)
                .expire_after(expiry)
                .build(),
        )
    }

    pub(super) async fn get(&self, key: &UserKey) -> Option<ProfileEntry> {
        self.0.get(&ProfileKey::of(key)).await
    }

    pub(super) async fn insert(&self, key: &UserKey, entry: ProfileEntry) {
        self.0.insert(ProfileKey::of(key), entry).await;
    }

    pub(super) async fn invalidate(&self, key: &UserKey) {
        self.0.invalidate(&ProfileKey::of(key)).await;
    }

    pub(super) fn invalidate_all(&self) {
        self.0.invalidate_all();
    }

    pub(super) fn entry_count(&self) -> u64 {
        self.0.entry_count()
    }

    /// The entry, or `init`'s, shared by every concurrent caller for the key; failures are
    /// not kept.
    pub(super) async fn try_get_with(
        &self,
        key: &UserKey,
        init: impl Future<Output = Result<ProfileEntry, UpstreamError>>,
    ) -> Result<ProfileEntry, Arc<UpstreamError>> {
        self.0.try_get_with(ProfileKey::of(key), init).await
    }
}

/// An entry lives as long as it may be used: a profile `ttl`, plus `stale_if_error` during
/// which it is served only while its tenant fails; an absence only `negative_ttl`.
pub(super) struct ProfileExpiry {
    pub(super) ttl: Duration,
    pub(super) negative_ttl: Duration,
    pub(super) stale_if_error: Duration,
}

impl ProfileExpiry {
    fn remaining(&self, value: &ProfileEntry, now: Instant) -> Option<Duration> {
        let lifetime = if value.profile.is_some() {
            self.ttl + self.stale_if_error
        } else {
            self.negative_ttl
        };
        Some(lifetime.saturating_sub(now.saturating_duration_since(value.fetched)))
    }
}

impl Expiry<ProfileKey, ProfileEntry> for ProfileExpiry {
    fn expire_after_create(
        &self,
        _: &ProfileKey,
        value: &ProfileEntry,
        now: Instant,
    ) -> Option<Duration> {
        self.remaining(value, now)
    }

    fn expire_after_update(
        &self,
        _: &ProfileKey,
        value: &ProfileEntry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(value, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tenant: &str, id: &str) -> UserKey {
        UserKey::new(&Arc::from(tenant), id)
    }

    #[test]
    fn a_key_is_one_allocation_of_56_bytes_for_ids_auth0_makes() {
        assert_eq!(std::mem::size_of::<ProfileKey>(), 56);
        for id in [
            "auth0|6585f7e30b182bc806b4119e",
            "google-oauth2|116950350641431175611",
            "",
            &"x".repeat(INLINE),
        ] {
            assert!(
                matches!(ProfileKey::of(&key("t", id)).id, Id::Inline { .. }),
                "{id}"
            );
        }
        let long = "samlp|acme-sso|jane.doe@example.com.long";
        assert!(matches!(ProfileKey::of(&key("t", long)).id, Id::Shared(_)));
    }

    #[test]
    fn keys_are_equal_exactly_when_their_users_are() {
        // Inline ids are padded with zero bytes: a trailing NUL must not make two ids one.
        let ids = [
            "auth0|1".to_owned(),
            "auth0|1\0".to_owned(),
            "auth0|10".to_owned(),
            String::new(),
            "\0".to_owned(),
            "a".repeat(INLINE - 1),
            "a".repeat(INLINE),
            "a".repeat(INLINE + 1),
        ];
        for tenant in ["t1", "t2"] {
            for id in &ids {
                for other_tenant in ["t1", "t2"] {
                    for other in &ids {
                        let same = tenant == other_tenant && id == other;
                        let (a, b) = (key(tenant, id), key(other_tenant, other));
                        assert_eq!(
                            ProfileKey::of(&a) == ProfileKey::of(&b),
                            same,
                            "{a:?} {b:?}"
                        );
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn entries_are_found_by_the_user_they_were_put_under() {
        let cache = ProfileCache::new(
            100,
            ProfileExpiry {
                ttl: Duration::from_secs(60),
                negative_ttl: Duration::from_secs(1),
                stale_if_error: Duration::ZERO,
            },
        );
        let absent = || ProfileEntry {
            profile: None,
            fetched: Instant::now(),
        };
        let long = "a".repeat(INLINE + 5);
        for id in ["auth0|1", long.as_str()] {
            cache.insert(&key("t1", id), absent()).await;
            assert!(cache.get(&key("t1", id)).await.is_some(), "{id}");
            assert!(
                cache.get(&key("t2", id)).await.is_none(),
                "another tenant: {id}"
            );
            cache.invalidate(&key("t1", id)).await;
            assert!(cache.get(&key("t1", id)).await.is_none(), "{id}");
        }
    }
}
