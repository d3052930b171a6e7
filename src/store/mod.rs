//! The cached view of every tenant, and the only road to Auth0, reads and writes alike.
//!
//! The store holds the tenant clients and the caches, both private: a read is answered from
//! the cache when it can be and fetched (batched per tenant, one upstream call per key however
//! many requests want it at once) when not; a write goes to the tenant and is reflected in
//! every cache, in Redis and in the other replicas before it answers, in one place. It knows
//! nothing of callers: who may read or write what is the scope's business (`crate::scope`),
//! which is the store's only client.
//!
//! - `cache`: the moka caches (the profiles' in `profile_cache`); `l2` and `invalidation`:
//!   what replicas share through Redis.
//! - `profiles`: users by (tenant, id), batched into `user_id:(…)` searches (`any_of`).
//! - `emails`: accounts by email. `memberships`: organizations, members and roles.
//! - `search`: pages of a tenant's search results. `figures`: the numbers behind `stats`.
//! - `activity`: logs and brute-force blocks. `export`: what data-subject requests read.
//! - `writes`: every write, reflected in the caches.

mod activity;
pub(crate) mod any_of;
mod cache;
mod emails;
mod export;
mod figures;
mod invalidation;
mod l2;
mod memberships;
mod profile_cache;
mod profiles;
mod search;
mod writes;

use std::collections::HashMap;
use std::sync::Arc;

pub(crate) use figures::{Day, OrganizationFigures, TenantFigures};
pub(crate) use memberships::{Groups, Members};
pub(crate) use profiles::StaleProfile;

use crate::config::CacheConfig;
use crate::metrics::Metrics;
use crate::shared::Shared;
use crate::tenant::{Status, TenantClient, UpstreamError};

/// The store: a handle, cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Store(Arc<Parts>);

#[derive(Debug)]
pub(crate) struct Parts {
    /// Every tenant, in configuration order.
    tenants: Vec<TenantRef>,
    by_id: HashMap<Arc<str>, TenantRef>,
    caches: cache::Caches,
    config: CacheConfig,
    /// What replicas share through Redis, when configured.
    shared: Option<Arc<Shared>>,
}

impl std::ops::Deref for Store {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What one tenant answered for a part of a request: the data, or why there is none.
pub(crate) type TenantResult<T> = Result<T, UpstreamError>;

/// A configured tenant as the rest of the gateway sees it: who it is and how it is doing, but
/// no way to call it (that is the store's).
#[derive(Debug, Clone)]
pub(crate) struct TenantRef(Arc<TenantClient>);

impl TenantRef {
    pub(crate) fn id(&self) -> &Arc<str> {
        &self.0.id
    }

    pub(crate) fn name(&self) -> &str {
        &self.0.name
    }

    /// The canonical Auth0 domain.
    pub(crate) fn domain(&self) -> &str {
        &self.0.domain
    }

    pub(crate) fn custom_domain(&self) -> Option<&str> {
        self.0.custom_domain.as_deref()
    }

    pub(crate) fn status(&self) -> Status {
        self.0.status()
    }

    fn client(&self) -> &TenantClient {
        &self.0
    }
}

impl PartialEq for TenantRef {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for TenantRef {}

impl Store {
    pub(crate) fn new(
        tenants: Vec<Arc<TenantClient>>,
        config: CacheConfig,
        metrics: Metrics,
        shared: Option<Arc<Shared>>,
    ) -> Self {
        let tenants: Vec<TenantRef> = tenants.into_iter().map(TenantRef).collect();
        let by_id = tenants
            .iter()
            .map(|t| (t.id().clone(), t.clone()))
            .collect();
        let store = Self(Arc::new(Parts {
            caches: cache::Caches::new(&config, metrics),
            tenants,
            by_id,
            config,
            shared,
        }));
        if store.shared.is_some() {
            tokio::spawn(invalidation::listen(Arc::downgrade(&store.0)));
        }
        store
    }

    /// Every tenant, in configuration order.
    pub(crate) fn tenants(&self) -> &[TenantRef] {
        &self.tenants
    }

    pub(crate) fn tenant(&self, id: &str) -> Option<&TenantRef> {
        self.by_id.get(id)
    }

    fn metrics(&self) -> &Metrics {
        self.caches.metrics()
    }
}
