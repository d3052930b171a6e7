//! The caller's scope: the only road from a resolver to data.
//!
//! A [`Scope`] is made for one request from its verified [`Caller`]; its fields are private.
//! It is the one place that decides which tenants a caller reaches, which users of them (a
//! delegated administrator: only members of its organization), which fields of those users
//! (`fields`, one table), and what a caller may change; every read and every write goes through
//! it to the store, and every write is audited by it. Resolvers get [`UserView`]s from it and
//! never a profile, a store or a tenant client.
//!
//! - `fields`: the visibility table. `view`: what the scope hands out.
//! - `reads`: users, pages of users, people by email, nested fields. `search`: `searchUsers`.
//! - `writes`: administration and self-service. `gdpr`: data-subject requests.
//! - `figures`: dashboard figures. `loader`: the request's dataloader over the store.
//! - `query`: a caller's search text made safe and checked against what it may see.

mod audit;
mod fields;
mod figures;
mod gdpr;
mod loader;
mod query;
mod reads;
mod search;
mod view;
mod writes;

use std::hash::RandomState;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::dataloader::DataLoader;

pub(crate) use audit::{AuditFilter, AuditPage};
pub(crate) use fields::{Sight, UserField};
pub(crate) use figures::{Figures, OrganizationFiguresView, TenantFiguresView};
pub use query::{canonical_query, restrict_to_members};
pub(crate) use reads::MAX_REFS;
pub(crate) use search::{SearchArgs, SearchPage, UserOrder};
pub(crate) use view::{BlockView, PersonView, UserView};

/// `user_id:("…" OR …)`: the filter a delegated administrator's searches are AND-ed with.
pub use crate::store::any_of::user_id_query as member_filter;

use crate::audit::Auditor;
use crate::auth::{Caller, Operator, Permission, TenantScope};
use crate::config::{LimitsConfig, SelfServiceConfig};
use crate::error::{ClientError, ClientResult};
use crate::request::RequestTag;
use crate::store::{Members, StaleProfile, Store, TenantRef, TenantResult};
use loader::Batcher;

/// What every scope is made from: built once, shared by every request.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    store: Store,
    auditor: Arc<Auditor>,
    limits: Arc<LimitsConfig>,
    self_service: Arc<SelfServiceConfig>,
    /// Keys callers' budgets by a hash of who they are, the same for every request.
    hasher: RandomState,
}

impl Access {
    pub(crate) fn new(
        store: Store,
        auditor: Arc<Auditor>,
        limits: LimitsConfig,
        self_service: SelfServiceConfig,
    ) -> Self {
        Self {
            store,
            auditor,
            limits: Arc::new(limits),
            self_service: Arc::new(self_service),
            hasher: RandomState::new(),
        }
    }

    /// The key of `caller`'s budgets (its share of each tenant's, its persisted queries).
    pub(crate) fn budget_key(&self, caller: &Caller) -> u64 {
        caller.budget_key(&self.hasher)
    }

    /// The scope of one request (`request_id`) of `caller`.
    pub(crate) fn scope(&self, caller: Arc<Caller>, request_id: Arc<str>) -> Scope {
        let budget_key = self.budget_key(&caller);
        Scope {
            sight: Sight::of(&caller),
            caller,
            store: self.store.clone(),
            auditor: self.auditor.clone(),
            limits: self.limits.clone(),
            self_service: self.self_service.clone(),
            tag: RequestTag {
                id: request_id,
                caller: Some(budget_key),
            },
            budget_key,
            loader: OnceLock::new(),
            stale: Arc::default(),
        }
    }

    /// Every configured tenant, for health reports (no data).
    pub(crate) fn tenants(&self) -> &[TenantRef] {
        self.store.tenants()
    }

    pub(crate) fn auditor(&self) -> &Auditor {
        &self.auditor
    }
}

/// One caller's reach, for one request.
pub(crate) struct Scope {
    caller: Arc<Caller>,
    sight: Sight,
    store: Store,
    auditor: Arc<Auditor>,
    limits: Arc<LimitsConfig>,
    self_service: Arc<SelfServiceConfig>,
    tag: RequestTag,
    budget_key: u64,
    /// Made on first use: a request answered from the cache needs none.
    loader: OnceLock<DataLoader<Batcher>>,
    /// Profiles served past their TTL because their tenant failed (`cache.stale_if_error`).
    stale: Arc<Mutex<Vec<StaleProfile>>>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("sight", &self.sight)
            .finish_non_exhaustive()
    }
}

/// A value and the tenants that could not contribute to it, each failure naming its tenant.
#[derive(Debug)]
pub(crate) struct Partial<T> {
    pub(crate) value: T,
    pub(crate) failures: Vec<ClientError>,
}

impl<T> Partial<T> {
    fn new(value: T) -> Self {
        Self {
            value,
            failures: Vec::new(),
        }
    }

    fn failed(&mut self, tenant: &TenantRef, error: &crate::tenant::UpstreamError) {
        self.failures.push(error.to_client(tenant.id()));
    }
}

/// The error of a field whose tenant failed, naming the tenant.
fn tenant_failure(tenant: &TenantRef, error: &crate::tenant::UpstreamError) -> ClientError {
    error.to_client(tenant.id())
}

/// Naming a tenant the caller does not reach is refused exactly like naming one that does
/// not exist, in every field.
fn unknown_tenant(id: &str) -> ClientError {
    ClientError::bad_input(format!("unknown tenant `{id}`"))
}

/// A user id fit to travel in a URL path: not empty, not `.` or `..`, no control characters,
/// at most 512 bytes. Anything else is refused before any upstream call.
pub(crate) fn check_user_id(id: &str) -> ClientResult<()> {
    let fit = !id.is_empty()
        && id.len() <= 512
        && id != "."
        && id != ".."
        && !id.chars().any(char::is_control);
    if fit {
        Ok(())
    } else {
        Err(ClientError::bad_input(format!(
            "`{}` is not a user id",
            id.chars().take(64).collect::<String>().escape_debug()
        )))
    }
}

/// Who the caller is, as it may learn it of itself (what a page needs to offer only what the
/// caller may do; the scope refuses the rest anyway).
#[derive(Debug, Clone)]
pub(crate) struct ViewerView {
    pub(crate) operator: bool,
    pub(crate) subject: String,
    pub(crate) permissions: Vec<&'static str>,
    pub(crate) organization: Option<String>,
    pub(crate) all_tenants: bool,
}

impl Scope {
    /// The caller, described to itself.
    pub(crate) fn viewer(&self) -> ViewerView {
        let (_, subject) = self.caller.identity();
        let operator = self.operator();
        ViewerView {
            operator: operator.is_some(),
            subject: subject.to_owned(),
            permissions: operator
                .map(|o| o.permissions().iter().map(|p| p.as_str()).collect())
                .unwrap_or_default(),
            organization: operator.and_then(|o| o.organization().map(str::to_owned)),
            all_tenants: self.reaches_every_tenant(),
        }
    }

    pub(crate) fn sight(&self) -> Sight {
        self.sight
    }

    /// The key of the caller's budgets.
    pub(crate) fn budget_key(&self) -> u64 {
        self.budget_key
    }

    /// What upstream calls made for this request carry.
    pub(crate) fn tag(&self) -> &RequestTag {
        &self.tag
    }

    /// The largest metadata object a write may carry.
    pub(crate) fn metadata_bytes(&self) -> usize {
        self.limits.metadata_bytes
    }

    /// The profiles this request was answered with past their TTL.
    pub(crate) fn stale(&self) -> Vec<StaleProfile> {
        self.stale.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn loader(&self) -> &DataLoader<Batcher> {
        self.loader.get_or_init(|| {
            let batcher = Batcher::new(self.store.clone(), self.tag.clone(), self.stale.clone());
            // No batching delay: async-graphql's default of 1 ms is a millisecond added to every
            // load (most of a cache miss's latency), run on a timer thread of its own.
            // The keys a request's resolvers ask for in one pass are all queued before its task
            // yields, and the batch starts after one more turn of the scheduler, so a page of
            // users still costs one batch per tenant.
            DataLoader::new(batcher, |load| {
                crate::telemetry::spawn(Box::pin(async move {
                    tokio::task::yield_now().await;
                    load.await;
                }));
            })
            .delay(std::time::Duration::ZERO)
        })
    }

    fn operator(&self) -> Option<&Operator> {
        match &*self.caller {
            Caller::Operator(operator) => Some(operator),
            Caller::EndUser(_) => None,
        }
    }

    /// The operator, if it holds `permission`; FORBIDDEN saying what is missing otherwise.
    fn operator_with(&self, permission: Permission) -> ClientResult<&Operator> {
        match &*self.caller {
            Caller::EndUser(_) => Err(ClientError::forbidden(format!(
                "this needs an operator token with {}",
                permission.as_str()
            ))),
            Caller::Operator(operator) if operator.has(permission) => Ok(operator),
            Caller::Operator(_) => Err(ClientError::forbidden(format!(
                "this needs the permission {}",
                permission.as_str()
            ))),
        }
    }

    /// Every tenant in reach, in configuration order: an operator's tenants, an end user's own.
    pub(crate) fn tenants(&self) -> Vec<TenantRef> {
        self.store
            .tenants()
            .iter()
            .filter(|t| self.reaches(t))
            .cloned()
            .collect()
    }

    fn reaches(&self, tenant: &TenantRef) -> bool {
        match &*self.caller {
            Caller::Operator(operator) => operator.tenants().includes(tenant.id()),
            Caller::EndUser(user) => user.tenant() == tenant.id(),
        }
    }

    /// A tenant in reach, by id.
    fn tenant(&self, id: &str) -> ClientResult<TenantRef> {
        self.store
            .tenant(id)
            .filter(|t| self.reaches(t))
            .cloned()
            .ok_or_else(|| unknown_tenant(id))
    }

    /// The tenants a caller named (each once, ordered by id), or all in reach.
    pub(crate) fn select(&self, ids: Option<&[String]>) -> ClientResult<Vec<TenantRef>> {
        let Some(ids) = ids else {
            return Ok(self.tenants());
        };
        let mut selected: Vec<TenantRef> = Vec::with_capacity(ids.len());
        for id in ids {
            let tenant = self.tenant(id)?;
            if !selected.contains(&tenant) {
                selected.push(tenant);
            }
        }
        selected.sort_by(|a, b| a.id().cmp(b.id()));
        Ok(selected)
    }

    /// Whether every tenant is in reach (data-subject requests need all of them).
    fn reaches_every_tenant(&self) -> bool {
        self.operator()
            .is_some_and(|o| *o.tenants() == TenantScope::All)
    }

    /// For a delegated administrator, the members of its organization in `tenant` (none when
    /// the organization is not there); `None` for callers without an organization.
    async fn members(&self, tenant: &TenantRef) -> TenantResult<Option<Members>> {
        let Some(organization) = self.operator().and_then(Operator::organization) else {
            return Ok(None);
        };
        Ok(Some(
            self.store
                .organization_members(tenant, organization)
                .await?
                .unwrap_or_default(),
        ))
    }

    /// Whether `user` of `tenant` (in reach) may be read. Decided from the organization's member
    /// list alone (never from the profile), so an out-of-reach user costs and looks the same as
    /// a missing one.
    async fn admits(&self, tenant: &TenantRef, user: &str) -> TenantResult<bool> {
        Ok(match self.members(tenant).await? {
            None => true,
            Some(members) => members.contains(user),
        })
    }

    /// The view of a profile this scope reached.
    fn view(&self, tenant: TenantRef, profile: crate::tenant::Profile) -> UserView {
        UserView::new(tenant, profile, self.sight)
    }

    /// Refuses a result (of a mutation) that would show fields the caller may not read.
    pub(crate) fn check_result_fields(&self, fields: &[UserField]) -> ClientResult<()> {
        for field in fields {
            // Nullable fields the caller may not see answer null; they are no way around.
            if matches!(
                field,
                UserField::AppMetadata | UserField::LastIp | UserField::TermsAccepted
            ) {
                continue;
            }
            if !self.sight.sees(*field) {
                return Err(ClientError::forbidden(format!(
                    "the result asks for fields the caller may not read: {}; select only `id` and `tenant`, or ask for the permission",
                    self.sight.refusal(*field)
                )));
            }
        }
        Ok(())
    }
}
