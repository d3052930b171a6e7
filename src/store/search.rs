//! Pages of one tenant's search results, cached briefly (`cache.search_ttl`).
//!
//! Auth0's search index lags behind writes. A page is therefore overlaid, on every read, with
//! what this gateway wrote lately: a user written within `cache.recent_write_window` is shown as
//! last written (or as `None` when deleted, keeping its position), so a caller never sees its
//! own write undone.

use std::sync::Arc;

use super::{Store, TenantResult};
use crate::cache::{SearchKey, UserKey};
use crate::tenant::TenantClient;
use crate::tenant::model::Profile;

/// One page of a tenant's answer to a search, as cached.
#[derive(Debug)]
pub struct SearchPage {
    /// How many users match in the tenant (Auth0's `total`).
    pub total: u64,
    pub users: Vec<Arc<Profile>>,
}

/// A page with this gateway's recent writes applied; `None` marks a user deleted here.
#[derive(Debug)]
pub struct FreshPage {
    pub total: u64,
    pub users: Vec<Option<Arc<Profile>>>,
}

impl Store {
    /// Page `page` (zero-based) of `per_page` users matching `query`, in `sort` order.
    pub async fn search_page(
        &self,
        client: &Arc<TenantClient>,
        query: Option<&str>,
        sort: &'static str,
        page: u32,
        per_page: u32,
    ) -> TenantResult<FreshPage> {
        let key = SearchKey {
            tenant: client.id.clone(),
            query: query.map(Arc::from),
            sort,
            page,
            per_page,
        };
        let load = async {
            let answer = client.search(query, Some(sort), page, per_page).await?;
            let users = answer.users.into_iter().map(Arc::new).collect();
            Ok(Arc::new(SearchPage {
                total: answer.total,
                users,
            }))
        };
        let cached = self
            .caches
            .through(&self.caches.searches, "searches", key, load)
            .await?;
        Ok(self.overlay_recent_writes(&client.id, cached).await)
    }

    async fn overlay_recent_writes(&self, tenant: &Arc<str>, page: Arc<SearchPage>) -> FreshPage {
        let mut users = Vec::with_capacity(page.users.len());
        for user in &page.users {
            let key = UserKey::new(tenant, user.user_id());
            if !self.caches.recent_writes.contains_key(&key) {
                users.push(Some(user.clone()));
                continue;
            }
            match self.profile(&key).await {
                Ok(fresh) => users.push(fresh),
                // The tenant failed just now: the indexed version is the best there is.
                Err(_) => users.push(Some(user.clone())),
            }
        }
        FreshPage {
            total: page.total,
            users,
        }
    }
}
