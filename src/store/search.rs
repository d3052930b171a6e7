//! Pages of one tenant's search results, cached briefly (`cache.search_ttl`).
//!
//! A page older than `search_ttl` is still answered while one background search refreshes it
//! (for up to another `search_ttl`): a search costs Auth0 tens of milliseconds, and without
//! this every expiry would make the requests of that moment wait for it.
//!
//! Auth0's search index lags behind writes. A page is therefore overlaid, on every read, with
//! what this gateway wrote lately: a user written within `cache.recent_write_window` is shown as
//! last written (or as `None` when deleted, keeping its position), so a caller never sees its
//! own write undone. A user written lately that the index does not return yet (just created,
//! or changed to match) is missing from every page, so [`Store::unindexed_writes`] finds those:
//! the query is evaluated against each such user as written, and the index asked which of the
//! matching ones it returns already.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use super::any_of::{MAX_QUERY_BYTES, chunk_by_length, encoded_len, user_id_query};
use super::{Store, TenantRef, TenantResult};
use crate::keys::UserKey;
use crate::tenant::{MAX_PER_PAGE, Profile};

/// One page of one tenant's answer to one search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct SearchKey {
    pub(super) tenant: Arc<str>,
    pub(super) query: Option<Arc<str>>,
    pub(super) sort: &'static str,
    pub(super) page: u32,
    pub(super) per_page: u32,
}

/// One page of a tenant's answer to a search, as cached.
#[derive(Debug)]
pub(super) struct SearchPage {
    /// How many users match in the tenant (Auth0's `total`).
    total: u64,
    users: Vec<Profile>,
    fetched: Instant,
}

/// A page with this gateway's recent writes applied; `None` marks a user deleted here.
#[derive(Debug)]
pub(crate) struct FreshPage {
    pub(crate) total: u64,
    pub(crate) users: Vec<Option<Profile>>,
}

impl Store {
    /// Page `page` (zero-based) of `per_page` users matching `query`, in `sort` order.
    pub(crate) async fn search_page(
        &self,
        tenant: &TenantRef,
        query: Option<&str>,
        sort: &'static str,
        page: u32,
        per_page: u32,
    ) -> TenantResult<FreshPage> {
        let key = SearchKey {
            tenant: tenant.id().clone(),
            query: query.map(Arc::from),
            sort,
            page,
            per_page,
        };
        let cached = match self.caches.searches.get(&key).await {
            Some(page) => {
                self.metrics().cache_lookup("searches", true);
                if page.fetched.elapsed() > self.config.search_ttl {
                    self.refresh_in_background(tenant, key).await;
                }
                page
            }
            None => {
                self.metrics().cache_lookup("searches", false);
                let load = fetch_page(tenant.clone(), key.clone());
                self.caches
                    .searches
                    .try_get_with(key, load)
                    .await
                    .map_err(Arc::unwrap_or_clone)?
            }
        };
        Ok(self.overlay_recent_writes(tenant.id(), cached).await)
    }

    /// The users of `tenant` written through this gateway lately (its latest
    /// [`MAX_PER_PAGE`] writes at most) that match `query` as they are now but that the lagging
    /// index does not return for it yet, in no particular order. Costs an upstream search only
    /// when some written user matches.
    pub(crate) async fn unindexed_writes(
        &self,
        tenant: &TenantRef,
        query: Option<&str>,
    ) -> TenantResult<Vec<Profile>> {
        let mut written: Vec<(UserKey, std::time::Instant)> = self
            .caches
            .recent_writes
            .iter()
            .filter(|(key, _)| key.tenant == *tenant.id())
            .map(|(key, at)| (UserKey::clone(&key), at))
            .collect();
        if written.is_empty() {
            return Ok(Vec::new());
        }
        written.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
        written.truncate(MAX_PER_PAGE as usize);
        // The caller's query was parsed before it came here; one that does not compile matches
        // nothing rather than everything.
        let filter = match query.map(search_query::parse) {
            None => None,
            Some(Ok(parsed)) => match search_query::Filter::new(&parsed) {
                Ok(filter) => Some(filter),
                Err(_) => return Ok(Vec::new()),
            },
            Some(Err(_)) => return Ok(Vec::new()),
        };
        let keys: Vec<UserKey> = written.into_iter().map(|(key, _)| key).collect();
        let mut loaded = self.profiles(&keys).await.profiles;
        let mut matching = Vec::new();
        for key in &keys {
            let Some(profile) = loaded.remove(key).transpose()?.flatten() else {
                continue;
            };
            let matches = filter.as_ref().is_none_or(|filter| {
                serde_json::to_value(&profile).is_ok_and(|json| filter.matches(&json))
            });
            if matches {
                matching.push(profile);
            }
        }
        if matching.is_empty() {
            return Ok(matching);
        }
        // Those the index returns for the query already are on its pages.
        let ids: Vec<&str> = matching.iter().map(Profile::user_id).collect();
        let budget = MAX_QUERY_BYTES.saturating_sub(query.map_or(0, encoded_len) + 40);
        let mut indexed: HashSet<String> = HashSet::new();
        for chunk in chunk_by_length(&ids, |id| id, MAX_PER_PAGE as usize, budget) {
            let ids = user_id_query(chunk);
            let check = match query {
                Some(query) => format!("({query}) AND {ids}"),
                None => ids,
            };
            let answer = tenant
                .client()
                .search(Some(&check), None, 0, MAX_PER_PAGE)
                .await?;
            indexed.extend(answer.users.iter().map(|u| u.user_id().to_owned()));
        }
        matching.retain(|profile| !indexed.contains(profile.user_id()));
        Ok(matching)
    }

    /// Starts one background search replacing an expired page (none if one is under way).
    async fn refresh_in_background(&self, tenant: &TenantRef, key: SearchKey) {
        if self.caches.refreshing.contains_key(&key) {
            return;
        }
        self.caches.refreshing.insert(key.clone(), ()).await;
        let (store, tenant) = (self.clone(), tenant.clone());
        tokio::spawn(async move {
            match fetch_page(tenant, key.clone()).await {
                Ok(page) => store.caches.searches.insert(key.clone(), page).await,
                Err(error) => {
                    tracing::debug!(%error, "refreshing a search page failed; the old one expires");
                }
            }
            store.caches.refreshing.invalidate(&key).await;
        });
    }

    async fn overlay_recent_writes(&self, tenant: &Arc<str>, page: Arc<SearchPage>) -> FreshPage {
        let mut users: Vec<Option<Profile>> = page.users.iter().cloned().map(Some).collect();
        let written: Vec<(usize, UserKey)> = page
            .users
            .iter()
            .enumerate()
            .map(|(row, user)| (row, UserKey::new(tenant, user.user_id())))
            .filter(|(_, key)| self.caches.recent_writes.contains_key(key))
            .collect();
        if !written.is_empty() {
            let keys: Vec<UserKey> = written.iter().map(|(_, key)| key.clone()).collect();
            let mut loaded = self.profiles(&keys).await.profiles;
            for (row, key) in written {
                // When the tenant failed just now, the indexed version is the best there is.
                if let Some(Ok(fresh)) = loaded.remove(&key) {
                    users[row] = fresh;
                }
            }
        }
        FreshPage {
            total: page.total,
            users,
        }
    }
}

async fn fetch_page(tenant: TenantRef, key: SearchKey) -> TenantResult<Arc<SearchPage>> {
    let answer = tenant
        .client()
        .search(key.query.as_deref(), Some(key.sort), key.page, key.per_page)
        .await?;
    Ok(Arc::new(SearchPage {
        total: answer.total,
        users: answer.users,
        fetched: Instant::now(),
    }))
}
