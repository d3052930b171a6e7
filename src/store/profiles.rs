//! Profiles by (tenant, id): cache first, then one upstream call per tenant per batch.
//!
//! The batching rule, given Auth0's eventually consistent search:
//! - keys missing from the cache are grouped by tenant; a group of one key, and every key
//!   written through this gateway within `cache.recent_write_window`, is read by id
//!   (`GET /users/{id}`, consistent);
//! - the others are read with `GET /users?q=user_id:("…" OR "…")`, up to 100 ids per call and
//!   fewer when the query string would pass [`MAX_QUERY_BYTES`]; an id absent from that answer
//!   is taken as missing for `cache.negative_ttl`;
//! - each key is loaded through moka's `try_get_with`, so concurrent requests for one key,
//!   from any number of callers, wait for a single upstream call;
//! - when the tenant fails (unavailable, timing out, rate limited), a profile that expired less
//!   than `cache.stale_if_error` ago is served instead, and reported as stale.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared as SharedFuture, join_all};

use super::any_of::{FIELD_OVERHEAD, MAX_QUERY_BYTES, chunk_by_length, user_id_query};
use super::cache::{CachedProfile, ProfileEntry};
use super::{Store, TenantRef, TenantResult};
use crate::keys::UserKey;
use crate::shared::Shared;
use crate::tenant::{MAX_PER_PAGE, Profile, UpstreamError};

/// A profile served past its TTL because its tenant failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaleProfile {
    pub(crate) key: UserKey,
    /// How long ago its TTL ran out.
    pub(crate) past_ttl: Duration,
}

/// The answer for a set of keys: per key a profile, an absence or the tenant's error; and which
/// profiles are stale.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) profiles: HashMap<UserKey, TenantResult<CachedProfile>>,
    pub(crate) stale: Vec<StaleProfile>,
}

type Batch =
    SharedFuture<BoxFuture<'static, Result<Arc<HashMap<Arc<str>, Profile>>, UpstreamError>>>;

impl Store {
    /// A profile the cache holds within its TTL (or knows to be missing), counted as a hit;
    /// `None` when it must be loaded (the load counts the miss).
    pub(crate) async fn cached_profile(&self, key: &UserKey) -> Option<CachedProfile> {
        let found = self.caches.fresh_profile(key).await?;
        self.metrics().cache_lookup("profiles", true);
        Some(found)
    }

    /// Loads profiles, answering for every key: found, missing (`None`), or the tenant's error.
    pub(crate) async fn profiles(&self, keys: &[UserKey]) -> Loaded {
        let mut loaded = Loaded {
            profiles: HashMap::with_capacity(keys.len()),
            stale: Vec::new(),
        };
        let mut misses: HashMap<Arc<str>, Vec<UserKey>> = HashMap::new();
        for key in keys {
            if loaded.profiles.contains_key(key) {
                continue;
            }
            match self.caches.profile(key).await {
                Some(cached) => {
                    loaded.profiles.insert(key.clone(), Ok(cached));
                }
                None => misses
                    .entry(key.tenant.clone())
                    .or_default()
                    .push(key.clone()),
            }
        }
        if let Some(shared) = &self.shared {
            self.answer_from_shared_cache(shared, &mut misses, &mut loaded)
                .await;
        }
        let loads = misses
            .into_iter()
            .filter(|(_, group)| !group.is_empty())
            .map(|(tenant, mut group)| {
                group.sort();
                group.dedup();
                self.load_group(tenant, group)
            });
        for group in join_all(loads).await {
            for (key, result, past_ttl) in group {
                if let Some(past_ttl) = past_ttl {
                    loaded.stale.push(StaleProfile {
                        key: key.clone(),
                        past_ttl,
                    });
                }
                loaded.profiles.insert(key, result);
            }
        }
        loaded
    }

    /// Answers what it can of `misses` from Redis (and keeps it in the local cache).
    async fn answer_from_shared_cache(
        &self,
        shared: &Shared,
        misses: &mut HashMap<Arc<str>, Vec<UserKey>>,
        loaded: &mut Loaded,
    ) {
        let wanted: Vec<UserKey> = misses.values().flatten().cloned().collect();
        if wanted.is_empty() {
            return;
        }
        let found = super::l2::profiles(shared, &wanted).await;
        self.metrics()
            .cache_lookups("shared_profiles", found.len(), wanted.len() - found.len());
        if found.is_empty() {
            return;
        }
        for group in misses.values_mut() {
            group.retain(|key| !found.contains_key(key));
        }
        for (key, profile) in found {
            self.caches.put_profile(key.clone(), profile.clone()).await;
            loaded.profiles.insert(key, Ok(profile));
        }
    }

    async fn load_group(
        &self,
        tenant: Arc<str>,
        group: Vec<UserKey>,
    ) -> Vec<(UserKey, TenantResult<CachedProfile>, Option<Duration>)> {
        let Some(tenant) = self.tenant(&tenant).cloned() else {
            return group.into_iter().map(|key| (key, Ok(None), None)).collect();
        };
        let mut by_id = Vec::new();
        let mut batched = Vec::new();
        for key in group {
            if self.caches.recent_writes.contains_key(&key) {
                by_id.push(key);
            } else {
                batched.push(key);
            }
        }
        if batched.len() == 1 {
            by_id.append(&mut batched);
        }
        // Every key is paired with the batch that will fetch it; the batch runs only if moka
        // asks for at least one of its keys (another request may already be loading them).
        let mut loads = Vec::with_capacity(by_id.len() + batched.len());
        let budget = MAX_QUERY_BYTES - FIELD_OVERHEAD;
        for chunk in chunk_by_length(&batched, |key| &key.id, MAX_PER_PAGE as usize, budget) {
            let batch = batch_future(tenant.clone(), chunk.iter().map(|k| k.id.clone()).collect());
            self.metrics().loader_batch_size.observe(chunk.len() as f64);
            for key in chunk.iter().cloned() {
                let batch = batch.clone();
                let id = key.id.clone();
                let init = async move {
                    let found = batch.await?;
                    Ok::<_, UpstreamError>(found.get(&id).cloned())
                };
                loads.push(self.load_key(key, init.boxed()));
            }
        }
        for key in by_id {
            let tenant = tenant.clone();
            let id = key.id.clone();
            let init = async move { tenant.client().user(&id).await };
            loads.push(self.load_key(key, init.boxed()));
        }
        join_all(loads).await
    }

    /// Loads one key through the cache (sharing the load with concurrent callers); when the
    /// tenant fails, falls back to the entry that expired, within `stale_if_error`.
    fn load_key(
        &self,
        key: UserKey,
        init: BoxFuture<'static, Result<CachedProfile, UpstreamError>>,
    ) -> BoxFuture<'_, (UserKey, TenantResult<CachedProfile>, Option<Duration>)> {
        let shared = self.shared.clone();
        let copy_key = key.clone();
        let loaded_here = Arc::new(AtomicBool::new(false));
        let loaded_flag = loaded_here.clone();
        let init = async move {
            let found = init.await?;
            loaded_flag.store(true, Ordering::Relaxed);
            if let (Some(profile), Some(shared)) = (&found, shared) {
                // Off the request's path; Redis keeps the newer of two profiles anyway.
                let profile = profile.clone();
                tokio::spawn(
                    async move { super::l2::put_profile(&shared, &copy_key, &profile).await },
                );
            }
            Ok(ProfileEntry {
                profile: found,
                fetched: Instant::now(),
            })
        };
        async move {
            let started = Instant::now();
            // An entry past its TTL is kept only to answer if the tenant fails: take it out, or
            // the cache would hand it back instead of loading.
            let expired = self
                .caches
                .profiles
                .get(&key)
                .await
                .filter(|e| !self.caches.is_fresh(e));
            if expired.is_some() {
                self.caches.profiles.invalidate(&key).await;
            }
            match self
                .caches
                .profiles
                .try_get_with(&key, init)
                .await
                .map_err(Arc::unwrap_or_clone)
            {
                Ok(entry) => {
                    // A write landed while this read was on its way: what it read may predate
                    // the write, so it is not kept (the caller began before the write answered;
                    // later readers must not see it).
                    let written = self.caches.recent_writes.get(&key).await;
                    if loaded_here.load(Ordering::Relaxed)
                        && written.is_some_and(|at| at >= started)
                    {
                        self.caches.profiles.invalidate(&key).await;
                    }
                    (key, Ok(entry.profile), None)
                }
                Err(error) => match self.stale_fallback(&key, expired, &error).await {
                    Some((profile, past_ttl)) => (key, Ok(Some(profile)), Some(past_ttl)),
                    None => (key, Err(error), None),
                },
            }
        }
        .boxed()
    }

    /// The expired entry, when `error` says the tenant is failing (not when it answered that
    /// something is wrong) and the entry is within `stale_if_error`; it goes back into the cache
    /// so that others asking meanwhile get it too.
    async fn stale_fallback(
        &self,
        key: &UserKey,
        expired: Option<ProfileEntry>,
        error: &UpstreamError,
    ) -> Option<(Profile, Duration)> {
        let failing = error.is_outage();
        let entry = match expired {
            Some(entry) => entry,
            // Another request took the expired entry out and put it back after its own failure.
            None => self
                .caches
                .profiles
                .get(key)
                .await
                .filter(|e| !self.caches.is_fresh(e))?,
        };
        let profile = entry.profile.clone()?;
        let past_ttl = entry
            .fetched
            .elapsed()
            .saturating_sub(self.config.profile_ttl);
        if !failing || self.config.stale_if_error.is_zero() || past_ttl > self.config.stale_if_error
        {
            return None;
        }
        self.caches.profiles.insert(key, entry).await;
        Some((profile, past_ttl))
    }

    /// Records a profile this gateway has just written (or deleted, `None`): the cache holds
    /// the tenant's answer and the key is read by id for the next `recent_write_window`.
    pub(super) async fn remember_write(&self, key: UserKey, profile: CachedProfile) {
        self.caches
            .recent_writes
            .insert(key.clone(), Instant::now())
            .await;
        self.caches.put_profile(key, profile).await;
    }
}

fn batch_future(tenant: TenantRef, ids: Vec<Arc<str>>) -> Batch {
    async move {
        let query = user_id_query(&ids);
        let page = tenant
            .client()
            .search(Some(&query), None, 0, MAX_PER_PAGE)
            .await?;
        let found: HashMap<Arc<str>, Profile> = page
            .users
            .into_iter()
            .map(|profile| (Arc::from(profile.user_id()), profile))
            .collect();
        Ok(Arc::new(found))
    }
    .boxed()
    .shared()
}
