//! The request's dataloader: keys asked for by resolvers within a tick are gathered and handed
//! to the store together, grouped by tenant, so nested fields over a page of users cost one
//! batch per tenant instead of one call per user. It belongs to one request (one caller), so
//! nothing loaded for one caller reaches another through it.
//!
//! A tenant's failure does not fail the batch: each value carries its own tenant's result.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::Loader;
use futures::future::join_all;

use crate::keys::{EmailKey, UserKey};
use crate::request::{self, RequestTag};
use crate::store::{Groups, StaleProfile, Store, TenantResult};
use crate::tenant::Profile;
use crate::tenant::model::{Organization, Role};

pub(crate) struct Batcher {
    store: Store,
    /// The loads run in tasks of their own: they enter the request's tag again, so upstream
    /// calls carry its id and are charged to its caller.
    tag: RequestTag,
    stale: Arc<Mutex<Vec<StaleProfile>>>,
}

impl Batcher {
    pub(super) fn new(store: Store, tag: RequestTag, stale: Arc<Mutex<Vec<StaleProfile>>>) -> Self {
        Self { store, tag, stale }
    }
}

/// The organizations of a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct OrganizationsOf(pub(crate) UserKey);

/// The roles of a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RolesOf(pub(crate) UserKey);

/// A profile; absent from the answer when the user does not exist.
impl Loader<UserKey> for Batcher {
    type Value = TenantResult<Profile>;
    type Error = Infallible;

    async fn load(&self, keys: &[UserKey]) -> Result<HashMap<UserKey, Self::Value>, Infallible> {
        let loaded = request::scope(self.tag.clone(), self.store.profiles(keys)).await;
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
impl Loader<EmailKey> for Batcher {
    type Value = TenantResult<Arc<[Arc<str>]>>;
    type Error = Infallible;

    async fn load(&self, keys: &[EmailKey]) -> Result<HashMap<EmailKey, Self::Value>, Infallible> {
        let groups = by_tenant(keys.iter().map(|(tenant, email)| (tenant, email)));
        let loads = groups.into_iter().filter_map(|(tenant, emails)| {
            let tenant = self.store.tenant(&tenant)?.clone();
            Some(async move {
                let found = self.store.accounts_by_email(&tenant, &emails).await;
                found
                    .into_iter()
                    .map(move |(email, ids)| ((tenant.id().clone(), email), ids))
            })
        });
        Ok(request::scope(self.tag.clone(), join_all(loads))
            .await
            .into_iter()
            .flatten()
            .collect())
    }
}

impl Loader<OrganizationsOf> for Batcher {
    type Value = TenantResult<Groups<Organization>>;
    type Error = Infallible;

    async fn load(
        &self,
        keys: &[OrganizationsOf],
    ) -> Result<HashMap<OrganizationsOf, Self::Value>, Infallible> {
        let groups = by_tenant(keys.iter().map(|k| (&k.0.tenant, &k.0.id)));
        let loads = groups.into_iter().filter_map(|(tenant, users)| {
            let tenant = self.store.tenant(&tenant)?.clone();
            Some(async move {
                let result = self.store.organizations_of(&tenant, &users).await;
                spread(tenant.id(), users, result, OrganizationsOf)
            })
        });
        Ok(request::scope(self.tag.clone(), join_all(loads))
            .await
            .into_iter()
            .flatten()
            .collect())
    }
}

impl Loader<RolesOf> for Batcher {
    type Value = TenantResult<Groups<Role>>;
    type Error = Infallible;

    async fn load(&self, keys: &[RolesOf]) -> Result<HashMap<RolesOf, Self::Value>, Infallible> {
        let groups = by_tenant(keys.iter().map(|k| (&k.0.tenant, &k.0.id)));
        let loads = groups.into_iter().filter_map(|(tenant, users)| {
            let tenant = self.store.tenant(&tenant)?.clone();
            Some(async move {
                let result = self.store.roles_of(&tenant, &users).await;
                spread(tenant.id(), users, result, RolesOf)
            })
        });
        Ok(request::scope(self.tag.clone(), join_all(loads))
            .await
            .into_iter()
            .flatten()
            .collect())
    }
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
