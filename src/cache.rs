//! The shared moka caches behind one small API: profiles (with short negative entries), the
//! email index, organization members, membership indexes, search pages and figures.
//!
//! The caches hold what tenants answered, never a caller's view of it: visibility (app
//! metadata, tenant and organization scope) is applied when resolving, so no entry can carry
//! one caller's permissions to another. Every write through the gateway updates or evicts what
//! it touched; changes made elsewhere are seen after at most the entry's TTL.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;

use crate::config::CacheConfig;
use crate::metrics::Metrics;
use crate::store::figures::TenantFigures;
use crate::store::memberships::{GroupIndex, Groups, Members};
use crate::store::search::SearchPage;
use crate::tenant::UpstreamError;
use crate::tenant::model::{Organization, Profile, Role};

/// A user's key everywhere: its tenant and its Auth0 id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey {
    pub tenant: Arc<str>,
    pub id: Arc<str>,
}

impl UserKey {
    pub fn new(tenant: &Arc<str>, id: &str) -> Self {
        Self {
            tenant: tenant.clone(),
            id: Arc::from(id),
        }
    }
}

/// A profile, or the knowledge that it does not exist.
pub type CachedProfile = Option<Arc<Profile>>;

/// What the profile cache holds for a user: what its tenant said, and when.
#[derive(Debug, Clone)]
pub struct ProfileEntry {
    pub profile: CachedProfile,
    pub fetched: Instant,
}

/// An entry lives as long as it may be used: a profile `profile_ttl`, plus `stale_if_error`
/// during which it is served only while its tenant fails; an absence only `negative_ttl`.
struct ProfileExpiry {
    ttl: Duration,
    negative_ttl: Duration,
    stale_if_error: Duration,
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

impl Expiry<UserKey, ProfileEntry> for ProfileExpiry {
    fn expire_after_create(
        &self,
        _: &UserKey,
        value: &ProfileEntry,
        now: Instant,
    ) -> Option<Duration> {
        self.remaining(value, now)
    }

    fn expire_after_update(
        &self,
        _: &UserKey,
        value: &ProfileEntry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(value, now)
    }
}

/// (tenant, lower-cased email).
pub type EmailKey = (Arc<str>, Arc<str>);
/// (tenant, organization id).
pub type OrganizationKey = (Arc<str>, Arc<str>);

/// One page of one tenant's answer to one search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    pub tenant: Arc<str>,
    pub query: Option<Arc<str>>,
    pub sort: &'static str,
    pub page: u32,
    pub per_page: u32,
}

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
pub struct Caches {
    /// Profiles (and absences), kept past their TTL only to answer while a tenant fails.
    pub profiles: Cache<UserKey, ProfileEntry>,
    /// The user ids holding an email in a tenant.
    pub emails: Cache<EmailKey, Arc<[Arc<str>]>>,
    /// Emails written through this gateway lately: read with users-by-email, not search.
    pub recent_email_writes: Cache<EmailKey, ()>,
    /// Member ids of an organization; `None` when the organization does not exist.
    pub organization_members: Cache<OrganizationKey, Option<Members>>,
    pub organization_index: Cache<Arc<str>, Arc<GroupIndex<Organization>>>,
    pub role_index: Cache<Arc<str>, Arc<GroupIndex<Role>>>,
    /// Per-user memberships, for tenants too large to index.
    pub user_organizations: Cache<UserKey, Groups<Organization>>,
    pub user_roles: Cache<UserKey, Groups<Role>>,
    /// Kept twice `search_ttl`: past the first, answered while being refreshed.
    pub searches: Cache<SearchKey, Arc<SearchPage>>,
    /// Search pages being refreshed in the background.
    pub refreshing: Cache<SearchKey, ()>,
    /// (tenant, days) → figures.
    pub figures: Cache<(Arc<str>, u32), Arc<TenantFigures>>,
    /// Users written through this (or another) replica lately, with when: read by id, never
    /// through lagging search, and loads begun before the write are not kept.
    pub recent_writes: Cache<UserKey, std::time::Instant>,
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
    pub fn new(config: &CacheConfig, metrics: Metrics) -> Self {
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
            profiles: Cache::builder()
                .max_capacity(many)
                .expire_after(ProfileExpiry {
                    ttl: config.profile_ttl,
                    negative_ttl: config.negative_ttl,
                    stale_if_error: config.stale_if_error,
                })
                .build(),
            emails: bounded(many, config.email_ttl),
            recent_email_writes: bounded(config.max_profiles, config.recent_write_window),
            organization_members: bounded(few, config.membership_ttl),
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
    pub async fn profile(&self, key: &UserKey) -> Option<CachedProfile> {
        let found = self.fresh_profile(key).await;
        self.metrics.cache_lookup("profiles", found.is_some());
        found
    }

    /// As [`Self::profile`], without counting: for a caller whose misses are counted later.
    pub async fn fresh_profile(&self, key: &UserKey) -> Option<CachedProfile> {
        self.profiles
            .get(key)
            .await
            .filter(|entry| self.is_fresh(entry))
            .map(|entry| entry.profile)
    }

    /// Whether an entry may be served as is (absences expire on their own, sooner).
    pub fn is_fresh(&self, entry: &ProfileEntry) -> bool {
        entry.profile.is_none() || entry.fetched.elapsed() <= self.profile_ttl
    }

    /// Remembers what a tenant said about a user, now.
    pub async fn put_profile(&self, key: UserKey, profile: CachedProfile) {
        self.profiles
            .insert(
                key,
                ProfileEntry {
                    profile,
                    fetched: Instant::now(),
                },
            )
            .await;
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Evicts everything known of a user that a write changed, and marks it written now.
    pub async fn forget_user(&self, key: &UserKey) {
        self.profiles.invalidate(key).await;
        self.user_organizations.invalidate(key).await;
        self.user_roles.invalidate(key).await;
        self.recent_writes
            .insert(key.clone(), std::time::Instant::now())
            .await;
    }

    /// Evicts what is known of an email in a tenant after a write touched it.
    pub async fn forget_email(&self, tenant: &Arc<str>, email: &str) {
        let key: EmailKey = (tenant.clone(), Arc::from(email.to_lowercase()));
        self.emails.invalidate(&key).await;
        self.recent_email_writes.insert(key, ()).await;
    }

    /// Evicts a tenant's memberships after a write changed them.
    pub async fn forget_memberships(&self, tenant: &Arc<str>, organization: Option<&str>) {
        self.organization_index.invalidate(tenant).await;
        self.role_index.invalidate(tenant).await;
        if let Some(organization) = organization {
            self.organization_members
                .invalidate(&(tenant.clone(), Arc::from(organization)))
                .await;
        }
    }

    /// Evicts every cached answer (writes may have been missed); what this replica wrote
    /// lately stays marked.
    pub fn forget_everything(&self) {
        self.profiles.invalidate_all();
        self.emails.invalidate_all();
        self.organization_members.invalidate_all();
        self.organization_index.invalidate_all();
        self.role_index.invalidate_all();
        self.user_organizations.invalidate_all();
        self.user_roles.invalidate_all();
        self.searches.invalidate_all();
        self.figures.invalidate_all();
    }

    /// `key` from `cache` (counting the hit or miss as `name`), else from `load`. Concurrent
    /// misses of one key wait for a single `load`; failures are not cached.
    pub async fn through<K, V>(
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
