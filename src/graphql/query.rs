//! The Query root: each field asks the caller's scope, which decides what it may reach; and
//! the federation entities (`entities`), resolved the same way.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::audit::{AuditEventConnection, AuditFilter, Viewer};
use super::context::{report, scope};
use super::entities::{self, TenantKey};
use super::person::Person;
use super::search::{UserConnection, UserOrder};
use super::stats::{OrganizationStats, Stats};
use super::types::{Tenant, User, users};
use crate::scope::SearchArgs;

#[derive(InputObject, Clone)]
pub(crate) struct UserRef {
    pub(crate) tenant: ID,
    pub(crate) id: ID,
}

pub(crate) struct Query;

#[Object]
impl Query {
    /// Tenants the caller may see, with their current health.
    async fn tenants(&self, ctx: &Context<'_>) -> Vec<Tenant> {
        scope(ctx).tenants().into_iter().map(Tenant).collect()
    }

    /// One user; null when it does not exist or is outside the caller's reach (the two are
    /// indistinguishable by design). Naming a tenant outside the caller's reach is refused
    /// like naming one that does not exist (BAD_USER_INPUT), in this and every field.
    async fn user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<Option<User>> {
        Ok(scope(ctx).user(&tenant, &id).await?.map(User))
    }

    /// Many users in the order asked (at most 500), null where one does not exist or is out of
    /// reach. Batched: one upstream call per tenant for up to 100 uncached users (more only
    /// when the query string would grow too long); cached users cost nothing. A failing tenant
    /// leaves its users null and adds one error naming it.
    async fn users(&self, ctx: &Context<'_>, refs: Vec<UserRef>) -> Result<Vec<Option<User>>> {
        let refs: Vec<(String, String)> = refs.into_iter().map(|r| (r.tenant.0, r.id.0)).collect();
        let found = scope(ctx).users(&refs).await?;
        report(ctx, found.failures);
        Ok(found.value.into_iter().map(|u| u.map(User)).collect())
    }

    /// Auth0 user-search (Lucene) syntax, run in every tenant the caller may see (or those
    /// named), merged into one list ordered by `orderBy` and paginated by an opaque cursor
    /// (`first` ≤ 100). The caller's scope is always AND-ed onto the query, which is parsed and
    /// re-printed first so it cannot widen it; a query may not read a field the caller cannot
    /// see (`appMetadata` without `read:users_app_metadata`, `lastIp` without `read:logs`).
    /// `totalCount` sums the tenants' totals. Auth0 reaches only the first 1000 results per
    /// tenant: paging beyond answers BAD_USER_INPUT.
    async fn search_users(
        &self,
        ctx: &Context<'_>,
        query: Option<String>,
        tenants: Option<Vec<ID>>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
        #[graphql(default_with = "Some(UserOrder::CreatedAtDesc)")] order_by: Option<UserOrder>,
    ) -> Result<UserConnection> {
        let args = SearchArgs {
            query,
            tenants: ids(tenants),
            first: first.unwrap_or(20),
            after,
            order: order_by.unwrap_or_default().into(),
        };
        let found = scope(ctx).search(args).await?;
        report(ctx, found.failures);
        Ok(UserConnection::from(found.value))
    }

    /// Every account with this email in every tenant the caller may see, ordered by tenant,
    /// whether or not it verified the email (compared case-insensitively).
    async fn users_by_email(&self, ctx: &Context<'_>, email: String) -> Result<Vec<User>> {
        let found = scope(ctx).users_by_email(&email).await?;
        report(ctx, found.failures);
        Ok(users(found.value))
    }

    /// The person behind an email: the accounts that verified it, across the tenants the
    /// caller may see, side by side. Null if none did.
    async fn person(&self, ctx: &Context<'_>, email: String) -> Result<Option<Person>> {
        let found = scope(ctx).person(&email).await?;
        report(ctx, found.failures);
        Ok(found.value.map(Person))
    }

    /// The caller, as its token describes it: kind, subject, permissions, organization. A
    /// client shows only what the caller may do; the server refuses the rest anyway.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        scope(ctx).viewer().into()
    }

    /// The latest writes through this gateway, newest first (`read:audit`): an operator sees
    /// the events of its tenants (events naming no tenant, such as data-subject requests, only
    /// over every tenant); an organization's administrator only those whose target is a member
    /// of its organization. The last `audit.readable_events` events, at most
    /// `audit.readable_for` old, are readable: every replica's when Redis is configured
    /// (`shared`), else this replica's. `first` ≤ 200.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let filter = filter.unwrap_or_default().into_scope();
        let page = scope(ctx)
            .audit_events(&filter, first.unwrap_or(50), after.as_deref())
            .await?;
        Ok(page.into())
    }

    /// The caller's own profile (end-user tokens); null for operator tokens.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(scope(ctx).me().await?.map(User))
    }

    /// Figures for dashboards, per tenant and summed, over the last `days` days, with users
    /// active in the last `activeDays` (needs `read:stats` over whole tenants). Cached for
    /// `cache.stats_ttl`. Accounts are counted, not people: telling one person's accounts in
    /// several tenants apart needs every account's verified email from every tenant, which
    /// Auth0 serves only through bulk export jobs.
    async fn stats(
        &self,
        ctx: &Context<'_>,
        tenants: Option<Vec<ID>>,
        #[graphql(default = 30)] days: Option<i32>,
        #[graphql(default = 30)] active_days: Option<i32>,
    ) -> Result<Stats> {
        let tenants = ids(tenants);
        let found = scope(ctx)
            .figures(
                tenants.as_deref(),
                days.unwrap_or(30),
                active_days.unwrap_or(30),
            )
            .await?;
        report(ctx, found.failures.clone());
        Ok(Stats::new(found))
    }

    /// One organization's figures, worked out from its members' profiles, per tenant and
    /// summed: an organization's administrators see their own (leave `organization` out);
    /// operators with `read:users` and `read:stats` over whole tenants name any. Auth0 counts
    /// logins tenant-wide only, so there are sign-ups per day but no logins per day.
    async fn organization_stats(
        &self,
        ctx: &Context<'_>,
        organization: Option<ID>,
        tenants: Option<Vec<ID>>,
        #[graphql(default = 30)] days: Option<i32>,
        #[graphql(default = 30)] active_days: Option<i32>,
    ) -> Result<OrganizationStats> {
        let tenants = ids(tenants);
        let found = scope(ctx)
            .organization_figures(
                organization.as_ref().map(|o| o.as_str()),
                tenants.as_deref(),
                days.unwrap_or(30),
                active_days.unwrap_or(30),
            )
            .await?;
        report(ctx, found.failures.clone());
        Ok(OrganizationStats::new(found))
    }

    /// Federation: a `User` representation, `{ tenant { id } id }` (see `entities`).
    #[graphql(entity)]
    async fn find_user(&self, ctx: &Context<'_>, tenant: TenantKey, id: ID) -> Option<User> {
        entities::user(ctx, &tenant, &id).await
    }

    /// Federation: a `Person` representation, `{ email }`.
    #[graphql(entity)]
    async fn find_person(&self, ctx: &Context<'_>, email: String) -> Option<Person> {
        entities::person(ctx, &email).await
    }
}

fn ids(ids: Option<Vec<ID>>) -> Option<Vec<String>> {
    ids.map(|ids| ids.into_iter().map(|id| id.0).collect())
}
