//! The contract's object types. `User` wraps a view the scope made and shows each field through
//! it (so through the visibility table); its nested fields ask the scope, which batches them
//! per tenant through the request's loader.
//!
//! Nested fields that need a tenant (`organizations`, `roles`, `logs`, `bruteForceBlocks`,
//! `linkedAccounts`) are null with an error naming the tenant when it fails, or saying what
//! permission is missing: an empty list would read as "none".

use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};

use super::context::{report, scope};
use super::scalars::{DateTime, JsonText};
use crate::error::ClientResult;
use crate::scope::{BlockView, UserField, UserView};
use crate::store::TenantRef;
use crate::tenant::{Health, Profile, Timestamp, model};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum TenantStatus {
    Up,
    /// Rate limited, failing now and then, or on trial after being down.
    Degraded,
    /// Unreachable, or its credentials are refused: see `statusReason`.
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
pub(crate) struct Tenant(pub(crate) TenantRef);

#[Object]
impl Tenant {
    /// The tenant's slug in tenantgraph's configuration, e.g. `acme-eu`.
    // Shareable: a subgraph extending `User` declares `Tenant.id` too, for the key `tenant { id }`.
    #[graphql(shareable)]
    async fn id(&self) -> ID {
        ID(self.0.id().to_string())
    }
    async fn name(&self) -> &str {
        self.0.name()
    }
    /// The tenant's canonical Auth0 domain (its Management API).
    async fn domain(&self) -> &str {
        self.0.domain()
    }
    /// The custom domain its users sign in through, if it has one.
    async fn custom_domain(&self) -> Option<&str> {
        self.0.custom_domain()
    }
    /// Health as last seen by this gateway: DOWN while its circuit is open or its credentials
    /// are refused, DEGRADED when rate limited or failing, UP otherwise.
    async fn status(&self) -> TenantStatus {
        self.0.status().health.into()
    }
    /// Why the tenant is not UP (null when it is).
    async fn status_reason(&self) -> Option<String> {
        self.0.status().reason.map(|reason| reason.to_string())
    }
}

/// A user account in one tenant; (tenant, id) is its key. Fields the caller may not read
/// answer an error saying what they take (or null, for `appMetadata` and `lastIp`).
#[derive(Clone)]
pub(crate) struct User(pub(crate) UserView);

/// `loginsCount` as GraphQL's `Int` (32 bits) holds it.
pub(super) fn logins_count(profile: &Profile) -> i32 {
    i32::try_from(profile.logins_count()).unwrap_or(i32::MAX)
}

fn datetime(value: Option<Timestamp<'_>>) -> Option<DateTime> {
    value.map(|v| DateTime(v.to_string()))
}

#[Object]
impl User {
    /// The Auth0 user id, e.g. `auth0|64f1c2…`.
    async fn id(&self) -> ID {
        ID(self.0.id().to_owned())
    }
    async fn tenant(&self) -> Tenant {
        Tenant(self.0.tenant().clone())
    }
    async fn email(&self) -> Result<Option<&str>> {
        Ok(self.0.read(UserField::Email, |p| p.email())?)
    }
    async fn email_verified(&self) -> Result<bool> {
        Ok(self
            .0
            .read(UserField::EmailVerified, Profile::email_verified)?)
    }
    async fn username(&self) -> Result<Option<&str>> {
        Ok(self.0.read(UserField::Username, |p| p.username())?)
    }
    async fn phone_number(&self) -> Result<Option<&str>> {
        Ok(self.0.read(UserField::PhoneNumber, |p| p.phone_number())?)
    }
    async fn name(&self) -> Result<Option<&str>> {
        Ok(self.0.read(UserField::Name, |p| p.name())?)
    }
    async fn nickname(&self) -> Result<Option<&str>> {
        Ok(self.0.read(UserField::Nickname, |p| p.nickname())?)
    }
    async fn given_name(&self) -> Result<Option<&str>> {
        Ok(self.0.read(UserField::GivenName, |p| p.given_name())?)
    }
    async fn family_name(&self) -> Result<Option<&str>> {
        Ok(self.0.read(UserField::FamilyName, |p| p.family_name())?)
    }
    async fn picture(&self) -> Result<Option<String>> {
        Ok(self
            .0
            .read(UserField::Picture, |p| p.picture().map(|p| p.to_string()))?)
    }
    async fn identities(&self) -> Result<Vec<Identity>> {
        Ok(self.0.read(UserField::Identities, |p| {
            p.identities().iter().map(Identity::from).collect()
        })?)
    }
    async fn created_at(&self) -> Result<Option<DateTime>> {
        Ok(self
            .0
            .read(UserField::CreatedAt, |p| datetime(p.created_at()))?)
    }
    async fn updated_at(&self) -> Result<Option<DateTime>> {
        Ok(self
            .0
            .read(UserField::UpdatedAt, |p| datetime(p.updated_at()))?)
    }
    async fn last_login(&self) -> Result<Option<DateTime>> {
        Ok(self
            .0
            .read(UserField::LastLogin, |p| datetime(p.last_login()))?)
    }
    /// The address of the last login: personal data, shown to the user and to operators with
    /// `read:users` and `read:logs`; null for others.
    async fn last_ip(&self) -> Option<&str> {
        self.0.read_or_none(UserField::LastIp, |p| p.last_ip())
    }
    async fn logins_count(&self) -> Result<i32> {
        Ok(self.0.read(UserField::LoginsCount, logins_count)?)
    }
    /// Blocked by an administrator (brute-force blocks are `bruteForceBlocks`).
    async fn blocked(&self) -> Result<bool> {
        Ok(self.0.read(UserField::Blocked, Profile::blocked)?)
    }
    /// The user's own metadata; `{}` when empty.
    async fn user_metadata(&self) -> Result<JsonText<'_>> {
        Ok(self.0.read(UserField::UserMetadata, |p| {
            JsonText(p.user_metadata_text())
        })?)
    }
    /// Metadata the user may not see or change; null unless the caller holds `read:users` and
    /// `read:users_app_metadata`.
    async fn app_metadata(&self) -> Option<JsonText<'_>> {
        self.0.read_or_none(UserField::AppMetadata, |p| {
            Some(JsonText(p.app_metadata_text()))
        })
    }
    /// Whether the user accepted the current terms of use (`appMetadata.terms_accepted.version`
    /// is `self_service.terms_version`). Shown to the user and to operators with `read:users`
    /// and `read:users_app_metadata`; null for others, and when no terms are configured.
    async fn terms_accepted(&self, ctx: &Context<'_>) -> Option<bool> {
        scope(ctx).terms_accepted(&self.0)
    }
    /// Organizations the user belongs to, sorted by name. Auth0 has no batch endpoint for
    /// memberships, so tenantgraph reads each tenant's organizations and their member lists
    /// once and caches them (`cache.membership_ttl`): the organizations of any number of users
    /// of one tenant cost at most 1 + Σ⌈members/100⌉ calls and nothing while cached. Tenants
    /// with more than `cache.max_index_groups` organizations are asked per user, 100 per call;
    /// Auth0 pages that list only through its first 1000, so a user in more than 1000
    /// organizations of such a tenant shows those 1000. Null with an error when the tenant
    /// fails.
    async fn organizations(&self, ctx: &Context<'_>) -> Option<Vec<Organization>> {
        let found = or_null(ctx, scope(ctx).organizations(&self.0).await)?;
        Some(found.iter().map(|o| Organization::from(&**o)).collect())
    }
    /// Roles the user holds tenant-wide, sorted by name; read like organizations (a tenant
    /// holds at most 1000 roles and a user 50, Auth0's limits, so the list is always whole).
    /// Null with an error when the tenant fails.
    async fn roles(&self, ctx: &Context<'_>) -> Option<Vec<Role>> {
        let found = or_null(ctx, scope(ctx).roles(&self.0).await)?;
        Some(found.iter().map(|r| Role::from(&**r)).collect())
    }
    /// The newest log events, newest first (`first` ≤ 100). Needs `read:users` and
    /// `read:logs`; one call per user (Auth0 has no batch endpoint for logs). Null with an
    /// error when refused or when the tenant fails.
    async fn logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> Option<Vec<LogEvent>> {
        let events = or_null(ctx, scope(ctx).logs(&self.0, first.unwrap_or(20)).await)?;
        Some(events.into_iter().map(LogEvent::from).collect())
    }
    /// Blocks Auth0 placed after too many failed logins (distinct from `blocked`); one call per
    /// user. Their `ip` needs `read:logs`. Null with an error when the tenant fails.
    async fn brute_force_blocks(&self, ctx: &Context<'_>) -> Option<Vec<BruteForceBlock>> {
        let blocks = or_null(ctx, scope(ctx).brute_force_blocks(&self.0).await)?;
        Some(blocks.into_iter().map(BruteForceBlock::from).collect())
    }
    /// Accounts with the same verified email in the other tenants the caller may see, ordered
    /// by tenant (operators with `read:users`). Empty when this account's email is not
    /// verified: an unverified address proves nothing about who holds it.
    async fn linked_accounts(&self, ctx: &Context<'_>) -> Option<Vec<User>> {
        let found = or_null(ctx, scope(ctx).linked_accounts(&self.0).await)?;
        report(ctx, found.failures);
        Some(found.value.into_iter().map(User).collect())
    }
}

/// A nullable field's value, or null with its error reported: an explicit `null` at the field,
/// rather than a field missing from its object (what returning the error would give), which
/// would make an object whose only field failed read as null itself.
fn or_null<T>(ctx: &Context<'_>, result: ClientResult<T>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            report(ctx, vec![error]);
            None
        }
    }
}

#[derive(SimpleObject)]
pub(crate) struct Identity {
    pub(crate) connection: String,
    pub(crate) provider: String,
    pub(crate) user_id: String,
    pub(crate) is_social: bool,
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
pub(crate) struct Organization {
    pub(crate) id: ID,
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
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
pub(crate) struct Role {
    pub(crate) id: ID,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
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
#[graphql(complex)]
pub(crate) struct LogEvent {
    pub(crate) id: ID,
    pub(crate) date: DateTime,
    /// Auth0's event type code: `s` login, `f` failed login, `sapi` management operation, …
    #[graphql(name = "type")]
    pub(crate) kind: String,
    pub(crate) description: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) client_name: Option<String>,
    pub(crate) user_agent: Option<String>,
}

#[ComplexObject]
impl LogEvent {
    /// The event type in words, e.g. "Successful login".
    async fn type_description(&self) -> &'static str {
        super::log_types::describe(&self.kind)
    }
}

impl From<model::LogEvent> for LogEvent {
    fn from(event: model::LogEvent) -> Self {
        Self {
            id: ID(event.id().to_owned()),
            date: DateTime(event.date),
            kind: event.kind,
            description: event.description,
            ip: event.ip,
            client_name: event.client_name,
            user_agent: event.user_agent,
        }
    }
}

/// A block Auth0 placed on an identifier after too many failed logins.
#[derive(SimpleObject)]
pub(crate) struct BruteForceBlock {
    pub(crate) identifier: String,
    /// The address the failed attempts came from (personal data): null unless the caller holds
    /// `read:users` and `read:logs`.
    pub(crate) ip: Option<String>,
    pub(crate) connection: Option<String>,
}

impl From<BlockView> for BruteForceBlock {
    fn from(block: BlockView) -> Self {
        Self {
            identifier: block.identifier,
            ip: block.ip,
            connection: block.connection,
        }
    }
}

/// Users as GraphQL objects.
pub(crate) fn users(views: impl IntoIterator<Item = UserView>) -> Vec<User> {
    views.into_iter().map(User).collect()
}
