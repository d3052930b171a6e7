//! What a resolver can reach: the shared [`Services`], the request's [`RequestContext`] (caller,
//! loaders), the caller's [`ReadScope`], and partial-failure reporting.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;

use super::loaders::StoreLoader;
use crate::audit::Auditor;
use crate::auth::{Caller, Operator, Permission};
use crate::config::LimitsConfig;
use crate::error::{ClientError, ClientResult, ErrorCode};
use crate::metrics::Metrics;
use crate::store::memberships::Members;
pub use crate::store::profiles::StaleProfile;
use crate::store::{Store, TenantResult};
use crate::tenant::{TenantClient, UpstreamError};

/// Shared by every request: schema data.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Store,
    pub metrics: Metrics,
    pub auditor: Arc<Auditor>,
    pub limits: LimitsConfig,
}

/// Per request: who calls, and loaders that batch and deduplicate within this request only.
pub struct RequestContext {
    pub caller: Arc<Caller>,
    /// Made on first use: a request answered from the cache needs none.
    loader: OnceLock<DataLoader<StoreLoader>>,
    store: Store,
    request_id: Option<Arc<str>>,
    /// Profiles served stale because their tenant failed (see `cache.stale_if_error`).
    stale: Arc<Mutex<Vec<StaleProfile>>>,
    /// Tenant failures already reported, so a down tenant yields one error per field, not one
    /// per user.
    reported: Mutex<HashSet<(Arc<str>, ErrorCode, String)>>,
}

impl RequestContext {
    pub fn new(caller: Arc<Caller>, store: &Store, request_id: Option<Arc<str>>) -> Self {
        Self {
            caller,
            loader: OnceLock::new(),
            store: store.clone(),
            request_id,
            stale: Arc::default(),
            reported: Mutex::new(HashSet::new()),
        }
    }

    /// The request's loader, batching what its resolvers ask for within a tick.
    pub fn loader(&self) -> &DataLoader<StoreLoader> {
        self.loader.get_or_init(|| {
            let loader = StoreLoader::new(
                self.store.clone(),
                self.request_id.clone(),
                self.stale.clone(),
            );
            DataLoader::new(loader, tokio::spawn)
        })
    }

    /// The profiles this request was answered with past their TTL.
    pub fn stale(&self) -> Vec<StaleProfile> {
        self.stale.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

pub fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

pub fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<Arc<RequestContext>>()
}

pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    &request(ctx).caller
}

/// Adds a tenant's failure to the response's errors (once per tenant, code and field) and lets
/// the field resolve with what the other tenants gave.
pub fn report(ctx: &Context<'_>, tenant: &Arc<str>, error: &UpstreamError) {
    report_client_error(ctx, error.to_client(tenant), Some(tenant));
}

/// Adds an error to the response without failing the field.
pub fn report_client_error(ctx: &Context<'_>, error: ClientError, tenant: Option<&Arc<str>>) {
    if let Some(tenant) = tenant {
        let field = ctx.field().name().to_owned();
        let first = request(ctx)
            .reported
            .lock()
            .map(|mut seen| seen.insert((tenant.clone(), error.code, field)))
            .unwrap_or(true);
        if !first {
            return;
        }
    }
    let server_error = async_graphql::Error::from(error).into_server_error(ctx.item.pos);
    ctx.add_error(ctx.set_error_path(server_error));
}

/// What an operator with `read:users` may see: some tenants, maybe one organization in them.
#[derive(Clone, Copy)]
pub struct ReadScope<'a> {
    pub operator: &'a Operator,
    pub store: &'a Store,
}

impl<'a> ReadScope<'a> {
    /// The caller's read scope; refused without `read:users`.
    pub fn of(ctx: &Context<'a>) -> ClientResult<Self> {
        let operator = caller(ctx).operator_with(Permission::ReadUsers)?;
        Ok(Self {
            operator,
            store: &services(ctx).store,
        })
    }

    /// Every tenant in reach, in configuration order.
    pub fn tenants(&self) -> Vec<&'a Arc<TenantClient>> {
        self.store
            .tenants
            .all()
            .iter()
            .filter(|t| self.operator.tenants.includes(&t.id))
            .collect()
    }

    /// A tenant in reach; `None` for one out of reach and for one that does not exist alike.
    pub fn tenant(&self, id: &str) -> Option<&'a Arc<TenantClient>> {
        self.store
            .tenant(id)
            .filter(|t| self.operator.tenants.includes(&t.id))
    }

    /// The tenants a caller named, or all in reach. Naming one out of reach is refused exactly
    /// like naming one that does not exist.
    pub fn select(
        &self,
        ids: Option<&[async_graphql::ID]>,
    ) -> ClientResult<Vec<&'a Arc<TenantClient>>> {
        let Some(ids) = ids else {
            return Ok(self.tenants());
        };
        let mut selected = Vec::with_capacity(ids.len());
        for id in ids {
            let tenant = self.tenant(id).ok_or_else(|| {
                ClientError::bad_input(format!("unknown tenant `{}`", id.as_str()))
            })?;
            if !selected
                .iter()
                .any(|t: &&Arc<TenantClient>| t.id == tenant.id)
            {
                selected.push(tenant);
            }
        }
        selected.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(selected)
    }

    /// For a delegated administrator, the members of its organization in `tenant` (none when
    /// the organization is not there); `None` for callers without an organization.
    pub async fn members(&self, tenant: &Arc<TenantClient>) -> TenantResult<Option<Members>> {
        let Some(organization) = &self.operator.organization else {
            return Ok(None);
        };
        Ok(Some(
            self.store
                .organization_members(tenant, organization)
                .await?
                .unwrap_or_default(),
        ))
    }

    /// Whether `user` may be seen. Decided from the organization's member list alone (never
    /// from the profile), so an out-of-reach user costs and looks the same as a missing one.
    pub async fn admits(&self, tenant: &Arc<TenantClient>, user: &str) -> TenantResult<bool> {
        if !self.operator.tenants.includes(&tenant.id) {
            return Ok(false);
        }
        Ok(match self.members(tenant).await? {
            None => true,
            Some(members) => members.contains(user),
        })
    }

    pub fn sees_app_metadata(&self) -> bool {
        self.operator.has(Permission::ReadUsersAppMetadata)
    }
}

/// Converts a failed step of one tenant into a field error naming it.
pub fn tenant_error(tenant: &Arc<str>, error: &UpstreamError) -> async_graphql::Error {
    error.to_client(tenant).into()
}
