//! The request's dataloader: keys asked for by resolvers within a tick are gathered and handed
//! to the [`Store`] together, grouped by tenant, so nested fields over a page of users cost one
//! batch per tenant instead of one call per user.
//!
//! A tenant's failure does not fail the batch: each value carries its own tenant's result.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::Loader;
use futures::future::join_all;

use crate::cache::{EmailKey, UserKey};
use crate::server::request_id;
use crate::store::memberships::Groups;
use crate::store::profiles::StaleProfile;
use crate::store::{Store, TenantResult};
use crate::tenant::model::{Organization, Profile, Role};

pub struct StoreLoader {
    store: Store,
    /// The loads run in tasks of their own: they re-enter the request's id for upstream calls.
    request_id: Option<Arc<str>>,
    stale: Arc<Mutex<Vec<StaleProfile>>>,
}

impl StoreLoader {
    pub fn new(
        store: Store,
        request_id: Option<Arc<str>>,
        stale: Arc<Mutex<Vec<StaleProfile>>>,
    ) -> Self {
        Self {
            store,
            request_id,
            stale,
        }
    }

    async fn in_request<F: Future>(&self, load: F) -> F::Output {
        match &self.request_id {
            Some(id) => request_id::scope(id.clone(), load).await,
            None => load.await,
        }
    }
}

/// The organizations of a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganizationsOf(pub UserKey);

/// The roles of a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RolesOf(pub UserKey);

/// A profile; absent from the answer when the user does not exist.
impl Loader<UserKey> for StoreLoader {
    type Value = TenantResult<Arc<Profile>>;
    type Error = Infallible;

    async fn load(&self, keys: &[UserKey]) -> Result<HashMap<UserKey, Self::Value>, Infallible> {
        let loaded = self.in_request(self.store.profiles(keys)).await;
        if !loaded.stale.is_empty()
            && let Ok(mut stale) = self.stale.lock()
        {
            stale.extend(loaded.stale);
        }
        Ok(loaded
            .profiles
            .into_iter()
            .filter_map(|(key, result)| match result {
                Ok(Some(profile)) => Some((key, Ok(profile))),
                Ok(None) => None,
                Err(error) => Some((key, Err(error))),
            })
            .collect())
    }
}

/// The ids of the accounts holding an email in a tenant.
impl Loader<EmailKey> for StoreLoader {
    type Value = TenantResult<Arc<[Arc<str>]>>;
    type Error = Infallible;

    async fn load(&self, keys: &[EmailKey]) -> Result<HashMap<EmailKey, Self::Value>, Infallible> {
        let groups = by_tenant(keys.iter().map(|(tenant, email)| (tenant, email)));
        let loads = groups.into_iter().filter_map(|(tenant, emails)| {
            let client = self.store.tenant(&tenant)?.clone();
            Some(async move {
                let found = self.store.accounts_by_email(&client, &emails).await;
                found
                    .into_iter()
                    .map(move |(email, ids)| ((client.id.clone(), email), ids))
            })
        });
        Ok(self
            .in_request(join_all(loads))
            .await
            .into_iter()
            .flatten()
            .collect())
    }
}

impl Loader<OrganizationsOf> for StoreLoader {
    type Value = TenantResult<Arc<[Arc<Organization>]>>;
    type Error = Infallible;

    async fn load(
        &self,
        keys: &[OrganizationsOf],
    ) -> Result<HashMap<OrganizationsOf, Self::Value>, Infallible> {
        let groups = by_tenant(keys.iter().map(|k| (&k.0.tenant, &k.0.id)));
        let loads = groups.into_iter().filter_map(|(tenant, users)| {
            let client = self.store.tenant(&tenant)?.clone();
            Some(async move {
                let result = self.store.organizations_of(&client, &users).await;
                spread(&client.id, users, result, OrganizationsOf)
            })
        });
        Ok(self
            .in_request(join_all(loads))
            .await
            .into_iter()
            .flatten()
            .collect())
    }
}

impl Loader<RolesOf> for StoreLoader {
    type Value = TenantResult<Arc<[Arc<Role>]>>;
    type Error = Infallible;

    async fn load(&self, keys: &[RolesOf]) -> Result<HashMap<RolesOf, Self::Value>, Infallible> {
        let groups = by_tenant(keys.iter().map(|k| (&k.0.tenant, &k.0.id)));
        let loads = groups.into_iter().filter_map(|(tenant, users)| {
            let client = self.store.tenant(&tenant)?.clone();
            Some(async move {
                let result = self.store.roles_of(&client, &users).await;
                spread(&client.id, users, result, RolesOf)
            })
        });
        Ok(self
            .in_request(join_all(loads))
            .await
            .into_iter()
            .flatten()
            .collect())
    }
}

/// Profiles: what the shared cache holds at once (no batching delay for a hit), the rest through
/// the request's loader, batched per tenant. Absent keys are missing users.
pub async fn load_profiles(
    ctx: &async_graphql::Context<'_>,
    keys: impl IntoIterator<Item = UserKey>,
) -> HashMap<UserKey, TenantResult<Arc<Profile>>> {
    let caches = &super::context::services(ctx).store.caches;
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    for key in keys {
        // A miss is counted by the loader's own lookup.
        match caches.fresh_profile(&key).await {
            Some(cached) => {
                caches.metrics().cache_lookup("profiles", true);
                if let Some(profile) = cached {
                    found.insert(key, Ok(profile));
                }
            }
            None => missing.push(key),
        }
    }
    if !missing.is_empty() {
        let Ok(loaded) = super::context::request(ctx)
            .loader()
            .load_many(missing)
            .await;
        found.extend(loaded);
    }
    found
}

/// One profile, as [`load_profiles`]; `None` for a missing user.
pub async fn load_profile(
    ctx: &async_graphql::Context<'_>,
    key: UserKey,
) -> Option<TenantResult<Arc<Profile>>> {
    load_profiles(ctx, [key.clone()]).await.remove(&key)
}

/// Keys grouped by tenant: `(tenant, id or email)` pairs in, the ids or emails of each tenant out.
fn by_tenant<'a>(
    keys: impl Iterator<Item = (&'a Arc<str>, &'a Arc<str>)>,
) -> HashMap<Arc<str>, Vec<Arc<str>>> {
    let mut groups: HashMap<Arc<str>, Vec<Arc<str>>> = HashMap::new();
    for (tenant, item) in keys {
        groups.entry(tenant.clone()).or_default().push(item.clone());
    }
    groups
}

/// One tenant's answer for many users, as one entry per user (the error repeated if it failed).
fn spread<K, G>(
    tenant: &Arc<str>,
    users: Vec<Arc<str>>,
    result: TenantResult<HashMap<Arc<str>, Groups<G>>>,
    key: impl Fn(UserKey) -> K,
) -> Vec<(K, TenantResult<Groups<G>>)> {
    users
        .into_iter()
        .map(|user| {
            let value = match &result {
                Ok(found) => Ok(found.get(&user).cloned().unwrap_or_else(|| Arc::from([]))),
                Err(error) => Err(error.clone()),
            };
            (
                key(UserKey {
                    tenant: tenant.clone(),
                    id: user,
                }),
                value,
            )
        })
        .collect()
}
