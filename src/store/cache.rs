//! The store's moka caches: profiles (with short negative entries), the email index,
//! organization members, membership indexes, search pages and figures. Private to the store:
//! nothing else reads or fills them, so no write can forget to keep them true.
//!
//! The caches hold what tenants answered, never a caller's view of it: visibility (app
//! metadata, tenant and organization scope) is applied by the scope, so no entry can carry
//! one caller's permissions to another. Every write through the gateway updates or evicts what
//! it touched; changes made elsewhere are seen after at most the entry's TTL.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;

use super::figures::TenantFigures;
use super::memberships::{GroupIndex, Groups, Members, overlay};
use super::profile_cache::{ProfileCache, ProfileExpiry};
use super::search::{SearchKey, SearchPage};
use crate::config::CacheConfig;
use crate::keys::{EmailKey, OrganizationKey, UserKey};
use crate::metrics::Metrics;
use crate::tenant::Profile;
use crate::tenant::UpstreamError;
use crate::tenant::model::{Organization, Role};

/// A profile, or the knowledge that it does not exist.
pub(crate) type CachedProfile = Option<Profile>;

/// What the profile cache holds for a user: what its tenant said, and when.
#[derive(Debug, Clone)]
pub(super) struct ProfileEntry {
    pub(super) profile: CachedProfile,
    pub(super) fetched: Instant,
}

/// Users who joined (`true`) or left an organization lately.
pub(super) type MemberChanges = Arc<[(Arc<str>, bool)]>;

/// Bound of the small per-tenant caches (indexes, figures, search pages).
const SMALL: u64 = 10_000;

fn bounded<K, V>(capacity: u64, ttl: std::time::Duration) -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(capacity)
        .time_to_live(ttl)
        .build()
}

#[derive(Clone)]
pub(super) struct Caches {
    /// Profiles (and absences), kept past their TTL only to answer while a tenant fails.
    pub(super) profiles: ProfileCache,
    /// The user ids holding an email in a tenant.
    pub(super) emails: Cache<EmailKey, Arc<[Arc<str>]>>,
    /// Emails written through this gateway lately, with the spellings written: read with
    /// users-by-email (consistent; Auth0 matches it case-sensitively), not search.
    pub(super) recent_email_writes: Cache<EmailKey, Arc<[Arc<str>]>>,
    /// Member ids of an organization, for admission; `None` when the organization does not
    /// exist. Kept `admission_ttl` (short: a member removed elsewhere loses access soon).
    pub(super) organization_members: Cache<OrganizationKey, Option<Members>>,
    /// Memberships this gateway changed lately: (user, added), laid over lists read since,
    /// which Auth0 serves eventually consistent.
    pub(super) recent_members: Cache<OrganizationKey, MemberChanges>,
    /// Member ids of an organization for the organization index (`membership_ttl`).
    pub(super) index_members: Cache<OrganizationKey, Option<Members>>,
    pub(super) organization_index: Cache<Arc<str>, Arc<GroupIndex<Organization>>>,
    pub(super) role_index: Cache<Arc<str>, Arc<GroupIndex<Role>>>,
    /// Per-user memberships, for tenants too large to index.
    pub(super) user_organizations: Cache<UserKey, Groups<Organization>>,
    pub(super) user_roles: Cache<UserKey, Groups<Role>>,
    /// Kept twice `search_ttl`: past the first, answered while being refreshed.
    pub(super) searches: Cache<SearchKey, Arc<SearchPage>>,
    /// Search pages being refreshed in the background.
    pub(super) refreshing: Cache<SearchKey, ()>,
    /// (tenant, days, active days) → figures.
    pub(super) figures: Cache<(Arc<str>, u32, u32), Arc<TenantFigures>>,
    /// Users written through this (or another) replica lately, with when: read by id, never
    /// through lagging search, and loads begun before the write are not kept.
    pub(super) recent_writes: Cache<UserKey, std::time::Instant>,
    profile_ttl: Duration,
    metrics: Metrics,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("profiles", &self.profiles.entry_count())
            .finish_non_exhaustive()
    }
}

impl Caches {
    pub(super) fn new(config: &CacheConfig, metrics: Metrics) -> Self {
        // With caching off every cache holds nothing, but loads of one key are still shared
        // by concurrent callers. What the gateway wrote lately is kept either way: it is what
        // makes reads after writes right, not an optimisation.
        let many = if config.enabled {
            config.max_profiles
        } else {
            0
        };
        let few = if config.enabled { SMALL } else { 0 };
        Self {
            profiles: ProfileCache::new(
                many,
                ProfileExpiry {
                    ttl: config.profile_ttl,
                    negative_ttl: config.negative_ttl,
                    stale_if_error: config.stale_if_error,
                },
            ),
            emails: bounded(many, config.email_ttl),
            recent_email_writes: bounded(config.max_profiles, config.recent_write_window),
            organization_members: bounded(few, config.admission_ttl),
            recent_members: bounded(SMALL, config.recent_write_window),
            index_members: bounded(few, config.membership_ttl),
            organization_index: bounded(few, config.membership_ttl),
            role_index: bounded(few, config.membership_ttl),
            user_organizations: bounded(many, config.membership_ttl),
            user_roles: bounded(many, config.membership_ttl),
            searches: bounded(few, config.search_ttl * 2),
            refreshing: bounded(
                few,
                config.search_ttl.max(std::time::Duration::from_secs(1)) * 2,
            ),
            figures: bounded(few, config.stats_ttl),
            recent_writes: bounded(config.max_profiles, config.recent_write_window),
            profile_ttl: config.profile_ttl,
            metrics,
        }
    }

    /// A cached profile (or cached absence) within its TTL, counting the hit or miss.
    pub(super) async fn profile(&self, key: &UserKey) -> Option<CachedProfile> {
        let found = self.fresh_profile(key).await;
        self.metrics.cache_lookup("profiles", found.is_some());
        found
    }

    /// As [`Self::profile`], without counting: for a caller whose misses are counted later.
    pub(super) async fn fresh_profile(&self, key: &UserKey) -> Option<CachedProfile> {
        self.profiles
            .get(key)
            .await
            .filter(|entry| self.is_fresh(entry))
            .map(|entry| entry.profile)
    }

    /// Whether an entry may be served as is (absences expire on their own, sooner).
    pub(super) fn is_fresh(&self, entry: &ProfileEntry) -> bool {
        entry.profile.is_none() || entry.fetched.elapsed() <= self.profile_ttl
    }

    /// Remembers what a tenant said about a user, now.
    pub(super) async fn put_profile(&self, key: UserKey, profile: CachedProfile) {
        self.profiles
            .insert(
                &key,
                ProfileEntry {
                    profile,
                    fetched: Instant::now(),
                },
            )
            .await;
    }

    pub(super) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Evicts everything known of a user that a write changed, and marks it written now.
    pub(super) async fn forget_user(&self, key: &UserKey) {
        self.profiles.invalidate(key).await;
        self.user_organizations.invalidate(key).await;
        self.user_roles.invalidate(key).await;
        self.recent_writes
            .insert(key.clone(), std::time::Instant::now())
            .await;
    }

    /// Evicts what is known of an email in a tenant after a write touched it, remembering the
    /// spelling written (lookups by it must find the account, and Auth0's users-by-email is
    /// case-sensitive).
    pub(super) async fn forget_email(&self, tenant: &Arc<str>, email: &str) {
        let key: EmailKey = (tenant.clone(), Arc::from(email.to_lowercase()));
        self.emails.invalidate(&key).await;
        let mut spellings: Vec<Arc<str>> = self
            .recent_email_writes
            .get(&key)
            .await
            .map(|known| known.to_vec())
            .unwrap_or_default();
        if !spellings.iter().any(|s| **s == *email) {
            spellings.push(Arc::from(email));
        }
        self.recent_email_writes.insert(key, spellings.into()).await;
    }

    /// Evicts a tenant's memberships after a write changed them.
    pub(super) async fn forget_memberships(&self, tenant: &Arc<str>, organization: Option<&str>) {
        self.organization_index.invalidate(tenant).await;
        self.role_index.invalidate(tenant).await;
        if let Some(organization) = organization {
            let key = (tenant.clone(), Arc::from(organization));
            self.organization_members.invalidate(&key).await;
            self.index_members.invalidate(&key).await;
        }
    }

    /// `user` joined (or left) an organization through some replica: the member list used for
    /// admission says so at once, and lists read in the next `recent_write_window` (which Auth0
    /// serves eventually consistent) are corrected the same way.
    pub(super) async fn member_changed(
        &self,
        tenant: &Arc<str>,
        organization: &str,
        user: &str,
        joined: bool,
    ) {
        let key: OrganizationKey = (tenant.clone(), Arc::from(organization));
        let user: Arc<str> = Arc::from(user);
        let mut recent: Vec<(Arc<str>, bool)> = self
            .recent_members
            .get(&key)
            .await
            .map(|r| r.to_vec())
            .unwrap_or_default();
        recent.retain(|(who, _)| *who != user);
        recent.push((user, joined));
        let recent: Arc<[(Arc<str>, bool)]> = recent.into();
        self.recent_members
            .insert(key.clone(), recent.clone())
            .await;
        for cache in [&self.organization_members, &self.index_members] {
            if let Some(Some(members)) = cache.get(&key).await {
                cache
                    .insert(key.clone(), Some(overlay(&members, &recent)))
                    .await;
            }
        }
        self.organization_index.invalidate(tenant).await;
    }

    /// The memberships changed lately in an organization.
    pub(super) async fn recent_members(
        &self,
        key: &OrganizationKey,
    ) -> Option<Arc<[(Arc<str>, bool)]>> {
        self.recent_members.get(key).await
    }

    /// Evicts every cached answer (writes may have been missed); what this replica wrote
    /// lately stays marked.
    pub(super) fn forget_everything(&self) {
        self.profiles.invalidate_all();
        self.emails.invalidate_all();
        self.organization_members.invalidate_all();
        self.index_members.invalidate_all();
        self.organization_index.invalidate_all();
        self.role_index.invalidate_all();
        self.user_organizations.invalidate_all();
        self.user_roles.invalidate_all();
        self.searches.invalidate_all();
        self.figures.invalidate_all();
    }

    /// `key` from `cache` (counting the hit or miss as `name`), else from `load`. Concurrent
    /// misses of one key wait for a single `load`; failures are not cached.
    pub(super) async fn through<K, V>(
        &self,
        cache: &Cache<K, V>,
        name: &'static str,
        key: K,
        load: impl Future<Output = Result<V, UpstreamError>>,
    ) -> Result<V, UpstreamError>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        if let Some(found) = cache.get(&key).await {
            self.metrics.cache_lookup(name, true);
            return Ok(found);
        }
        self.metrics.cache_lookup(name, false);
        cache
            .try_get_with(key, load)
            .await
            .map_err(Arc::unwrap_or_clone)
    }
}
