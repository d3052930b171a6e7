//! The contract's object types. `User` resolves its nested fields through the request's loader,
//! so a page of users costs one batch per tenant for each nested field.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use futures::future::join_all;

use super::context::{ReadScope, caller, report, report_client_error, request};
use super::loaders::{OrganizationsOf, RolesOf};
use super::scalars::{DateTime, JsonText};
use crate::auth::{Caller, Permission};
use crate::cache::UserKey;
use crate::error::ClientError;
use crate::tenant::model::{self, Profile};
use crate::tenant::{Health, TenantClient};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TenantStatus {
    Up,
    /// Rate limited, failing now and then, or on trial after being down.
    Degraded,
    Down,
}

impl From<Health> for TenantStatus {
    fn from(health: Health) -> Self {
        match health {
            Health::Up => Self::Up,
            Health::Degraded => Self::Degraded,
            Health::Down => Self::Down,
        }
    }
}

/// An Auth0 tenant.
#[derive(Clone)]
pub struct Tenant(pub Arc<TenantClient>);

#[Object]
impl Tenant {
    /// The tenant's slug in tenantgraph's configuration, e.g. `acme-eu`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The tenant's Auth0 domain.
    async fn domain(&self) -> &str {
        &self.0.domain
    }
    /// Health as last seen by this gateway: DOWN while its circuit is open, DEGRADED when
    /// rate limited or failing, UP otherwise.
    async fn status(&self) -> TenantStatus {
        self.0.health().into()
    }
}

/// A user account in one tenant; (tenant, id) is its key.
#[derive(Clone)]
pub struct User {
    pub tenant: Arc<TenantClient>,
    pub profile: Arc<Profile>,
}

impl User {
    pub fn new(tenant: Arc<TenantClient>, profile: Arc<Profile>) -> Self {
        Self { tenant, profile }
    }

    fn key(&self) -> UserKey {
        UserKey::new(&self.tenant.id, self.profile.user_id())
    }
}

fn datetime(value: Option<&str>) -> Option<DateTime> {
    value.map(|v| DateTime(v.to_owned()))
}

#[Object]
impl User {
    /// The Auth0 user id, e.g. `auth0|64f1c2…`.
    async fn id(&self) -> ID {
        ID(self.profile.user_id().to_string())
    }
    async fn tenant(&self) -> Tenant {
        Tenant(self.tenant.clone())
    }
    async fn email(&self) -> Option<&str> {
        self.profile.email()
    }
    async fn email_verified(&self) -> bool {
        self.profile.email_verified()
    }
    async fn username(&self) -> Option<&str> {
        self.profile.username()
    }
    async fn phone_number(&self) -> Option<&str> {
        self.profile.phone_number()
    }
    async fn name(&self) -> Option<&str> {
        self.profile.name()
    }
    async fn nickname(&self) -> Option<&str> {
        self.profile.nickname()
    }
    async fn given_name(&self) -> Option<&str> {
        self.profile.given_name()
    }
    async fn family_name(&self) -> Option<&str> {
        self.profile.family_name()
    }
    async fn picture(&self) -> Option<&str> {
        self.profile.picture()
    }
    async fn identities(&self) -> Vec<Identity> {
        self.profile
            .identities()
            .iter()
            .map(Identity::from)
            .collect()
    }
    async fn created_at(&self) -> Option<DateTime> {
        datetime(self.profile.created_at())
    }
    async fn updated_at(&self) -> Option<DateTime> {
        datetime(self.profile.updated_at())
    }
    async fn last_login(&self) -> Option<DateTime> {
        datetime(self.profile.last_login())
    }
    async fn last_ip(&self) -> Option<&str> {
        self.profile.last_ip()
    }
    async fn logins_count(&self) -> i32 {
        i32::try_from(self.profile.logins_count()).unwrap_or(i32::MAX)
    }
    /// Blocked by an administrator (brute-force blocks are `bruteForceBlocks`).
    async fn blocked(&self) -> bool {
        self.profile.blocked()
    }
    /// The user's own metadata; `{}` when empty.
    async fn user_metadata(&self) -> JsonText<'_> {
        JsonText(self.profile.user_metadata_text())
    }
    /// Metadata the user may not see or change; null unless the caller holds
    /// `read:users_app_metadata`.
    async fn app_metadata(&self, ctx: &Context<'_>) -> Option<JsonText<'_>> {
        match caller(ctx) {
            Caller::Operator(operator) if operator.has(Permission::ReadUsersAppMetadata) => {
                Some(JsonText(self.profile.app_metadata_text()))
            }
            _ => None,
        }
    }
    /// Organizations the user belongs to. Auth0 has no batch endpoint for memberships, so
    /// tenantgraph reads each tenant's organizations and their member lists once and caches
    /// them (`cache.membership_ttl`): the organizations of any number of users of one tenant
    /// cost at most 1 + Σ⌈members/100⌉ calls (one per organization with up to 100 members)
    /// and nothing while cached. Tenants with more than `cache.max_index_groups`
    /// organizations are asked per user (one cached call per user).
    async fn organizations(&self, ctx: &Context<'_>) -> Vec<Organization> {
        match request(ctx)
            .loader()
            .load_one(OrganizationsOf(self.key()))
            .await
        {
            Ok(Some(Ok(groups))) => groups.iter().map(|o| Organization::from(&**o)).collect(),
            Ok(Some(Err(error))) => {
                report(ctx, &self.tenant.id, &error);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
    /// Roles the user holds. Read like organizations: 1 + Σ⌈holders/100⌉ calls per tenant
    /// (one per role), cached, whatever the number of users.
    async fn roles(&self, ctx: &Context<'_>) -> Vec<Role> {
        match request(ctx).loader().load_one(RolesOf(self.key())).await {
            Ok(Some(Ok(groups))) => groups.iter().map(|r| Role::from(&**r)).collect(),
            Ok(Some(Err(error))) => {
                report(ctx, &self.tenant.id, &error);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
    /// The newest log events, newest first (`first` ≤ 100). Needs `read:logs`; one call per
    /// user (Auth0 has no batch endpoint for logs).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> Result<Vec<LogEvent>> {
        let first = first.unwrap_or(20);
        if let Err(error) = caller(ctx).operator_with(Permission::ReadLogs) {
            report_client_error(ctx, error, None);
            return Ok(Vec::new());
        }
        let count = u32::try_from(first)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ClientError::bad_input("logs(first:) must be between 1 and 100"))?;
        match self.tenant.user_logs(self.profile.user_id(), count).await {
            Ok(events) => Ok(events.into_iter().map(LogEvent::from).collect()),
            Err(error) => {
                report(ctx, &self.tenant.id, &error);
                Ok(Vec::new())
            }
        }
    }
    /// Blocks Auth0 placed after too many failed logins (distinct from `blocked`).
    async fn brute_force_blocks(&self, ctx: &Context<'_>) -> Vec<BruteForceBlock> {
        match self.tenant.user_blocks(self.profile.user_id()).await {
            Ok(blocks) => blocks.into_iter().map(BruteForceBlock::from).collect(),
            Err(error) => {
                report(ctx, &self.tenant.id, &error);
                Vec::new()
            }
        }
    }
    /// Accounts with the same verified email in the other tenants the caller may see, ordered
    /// by tenant. Empty when this account's email is not verified: an unverified address
    /// proves nothing about who holds it.
    #[graphql(complexity = "5 * child_complexity")]
    async fn linked_accounts(&self, ctx: &Context<'_>) -> Vec<User> {
        let scope = match ReadScope::of(ctx) {
            Ok(scope) => scope,
            Err(error) => {
                report_client_error(ctx, error, None);
                return Vec::new();
            }
        };
        let (true, Some(email)) = (self.profile.email_verified(), self.profile.email_key()) else {
            return Vec::new();
        };
        let email: Arc<str> = Arc::from(email);
        let others = scope
            .tenants()
            .into_iter()
            .filter(|t| t.id != self.tenant.id);
        let lookups =
            others.map(|tenant| super::person::verified_accounts(ctx, scope, tenant, &email));
        let mut linked: Vec<User> = join_all(lookups).await.into_iter().flatten().collect();
        linked.sort_by(|a, b| {
            (&a.tenant.id, &a.profile.user_id()).cmp(&(&b.tenant.id, &b.profile.user_id()))
        });
        linked
    }
}

#[derive(SimpleObject)]
pub struct Identity {
    pub connection: String,
    pub provider: String,
    pub user_id: String,
    pub is_social: bool,
}

impl From<&model::Identity> for Identity {
    fn from(identity: &model::Identity) -> Self {
        Self {
            connection: identity.connection.clone(),
            provider: identity.provider.clone(),
            user_id: identity.user_id.clone(),
            is_social: identity.is_social,
        }
    }
}

#[derive(SimpleObject)]
pub struct Organization {
    pub id: ID,
    pub name: String,
    pub display_name: Option<String>,
}

impl From<&model::Organization> for Organization {
    fn from(org: &model::Organization) -> Self {
        Self {
            id: ID(org.id.clone()),
            name: org.name.clone(),
            display_name: org.display_name.clone(),
        }
    }
}

#[derive(SimpleObject)]
pub struct Role {
    pub id: ID,
    pub name: String,
    pub description: Option<String>,
}

impl From<&model::Role> for Role {
    fn from(role: &model::Role) -> Self {
        Self {
            id: ID(role.id.clone()),
            name: role.name.clone(),
            description: role.description.clone(),
        }
    }
}

#[derive(SimpleObject)]
pub struct LogEvent {
    pub id: ID,
    pub date: DateTime,
    /// Auth0's event type code: `s` login, `f` failed login, `sapi` management operation, …
    #[graphql(name = "type")]
    pub kind: String,
    pub description: Option<String>,
    pub ip: Option<String>,
    pub client_name: Option<String>,
    pub user_agent: Option<String>,
}

impl From<model::LogEvent> for LogEvent {
    fn from(event: model::LogEvent) -> Self {
        Self {
            id: ID(event.log_id),
            date: DateTime(event.date),
            kind: event.kind,
            description: event.description,
            ip: event.ip,
            client_name: event.client_name,
            user_agent: event.user_agent,
        }
    }
}

#[derive(SimpleObject)]
pub struct BruteForceBlock {
    pub identifier: String,
    pub ip: Option<String>,
    pub connection: Option<String>,
}

impl From<model::BruteForceBlock> for BruteForceBlock {
    fn from(block: model::BruteForceBlock) -> Self {
        Self {
            identifier: block.identifier,
            ip: block.ip,
            connection: block.connection,
        }
    }
}
