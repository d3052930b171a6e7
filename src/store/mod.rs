//! Reads through the shared cache: what resolvers ask for, fetched from tenants only when the
//! cache does not have it, batched per tenant, with one upstream call per key however many
//! requests want it at once.
//!
//! - [`profiles`]: users by (tenant, id), batched into `user_id:(…)` searches ([`any_of`]).
//! - [`emails`]: accounts by email.
//! - [`memberships`]: organizations and roles of users, through per-tenant indexes.
//! - [`search`]: pages of a tenant's search results.
//! - [`figures`]: the numbers behind `stats`.
//! - [`writes`]: keeping the caches true after a write.

pub mod any_of;
pub mod emails;
pub mod figures;
pub mod memberships;
pub mod profiles;
pub mod search;
pub mod writes;

use std::sync::Arc;

use crate::cache::Caches;
use crate::config::CacheConfig;
use crate::shared::Shared;
use crate::tenant::{TenantClient, Tenants, UpstreamError};

/// The cached view of every tenant, shared by all requests. A handle: cloning it (once per
/// request, for the request's loader) costs one reference count.
#[derive(Debug, Clone)]
pub struct Store(Arc<StoreParts>);

impl std::ops::Deref for Store {
    type Target = StoreParts;

    fn deref(&self) -> &StoreParts {
        &self.0
    }
}

#[derive(Debug)]
pub struct StoreParts {
    pub tenants: Arc<Tenants>,
    pub caches: Caches,
    pub config: Arc<CacheConfig>,
    /// What replicas share through Redis, when configured.
    pub shared: Option<Arc<Shared>>,
}

/// What one tenant answered for a part of a request: the data, or why there is none.
pub type TenantResult<T> = Result<T, UpstreamError>;

impl Store {
    pub fn new(
        tenants: Arc<Tenants>,
        caches: Caches,
        config: CacheConfig,
        shared: Option<Arc<Shared>>,
    ) -> Self {
        Self(Arc::new(StoreParts {
            tenants,
            caches,
            config: Arc::new(config),
            shared,
        }))
    }

    pub fn tenant(&self, id: &str) -> Option<&Arc<TenantClient>> {
        self.tenants.get(id)
    }
}
