//! The Query root: each field checks the caller's reach, then asks the loaders.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::context::{ReadScope, caller, report, services, tenant_error};
use super::loaders::{load_profile, load_profiles};
use super::person::{Person, accounts_everywhere, normalize_email, person};
use super::search::{SearchArgs, UserConnection, UserOrder, search_users};
use super::stats::{Stats, stats};
use super::types::{Tenant, User};
use crate::auth::Caller;
use crate::cache::UserKey;
use crate::error::ClientError;
use crate::store::memberships::Members;

/// Most refs one `users` call may ask for.
const MAX_REFS: usize = 500;

#[derive(InputObject, Clone)]
pub struct UserRef {
    pub tenant: ID,
    pub id: ID,
}

pub struct Query;

#[Object]
impl Query {
    /// Tenants the caller may see, with their current health.
    async fn tenants(&self, ctx: &Context<'_>) -> Result<Vec<Tenant>> {
        let store = &services(ctx).store;
        let visible: Vec<Tenant> = match caller(ctx).authenticated()? {
            Caller::Operator(operator) => store
                .tenants
                .all()
                .iter()
                .filter(|t| operator.tenants.includes(&t.id))
                .map(|t| Tenant(t.clone()))
                .collect(),
            Caller::EndUser(user) => store
                .tenant(&user.tenant)
                .map(|t| Tenant(t.clone()))
                .into_iter()
                .collect(),
            Caller::Anonymous => Vec::new(),
        };
        Ok(visible)
    }

    /// One user; null when it does not exist or is outside the caller's reach (the two are
    /// indistinguishable by design).
    async fn user(&self, ctx: &Context<'_>, tenant: ID, id: ID) -> Result<Option<User>> {
        let scope = ReadScope::of(ctx)?;
        let Some(client) = scope.tenant(&tenant) else {
            return Ok(None);
        };
        if !scope
            .admits(client, &id)
            .await
            .map_err(|e| tenant_error(&client.id, &e))?
        {
            return Ok(None);
        }
        let key = UserKey::new(&client.id, &id);
        match load_profile(ctx, key).await {
            None => Ok(None),
            Some(Ok(profile)) => Ok(Some(User::new(client.clone(), profile))),
            Some(Err(error)) => Err(tenant_error(&client.id, &error)),
        }
    }

    /// Many users in the order asked, null where one does not exist or is out of reach.
    /// Batched: one upstream call per tenant for up to 100 uncached users (more only when the
    /// query string would grow too long); cached users cost nothing. A failing tenant leaves
    /// its users null and adds one error naming it.
    #[graphql(complexity = "refs.len().max(1) * child_complexity")]
    async fn users(&self, ctx: &Context<'_>, refs: Vec<UserRef>) -> Result<Vec<Option<User>>> {
        let scope = ReadScope::of(ctx)?;
        if refs.len() > MAX_REFS {
            return Err(ClientError::bad_input(format!(
                "users(refs:) takes at most {MAX_REFS} refs"
            ))
            .into());
        }
        // Organization members per tenant, fetched once; a failure hides that tenant's users.
        let mut members: HashMap<Arc<str>, Option<Option<Members>>> = HashMap::new();
        let mut keys = Vec::with_capacity(refs.len());
        for user_ref in &refs {
            let Some(client) = scope.tenant(&user_ref.tenant) else {
                keys.push(None);
                continue;
            };
            if !members.contains_key(&client.id) {
                let found = match scope.members(client).await {
                    Ok(found) => Some(found),
                    Err(error) => {
                        report(ctx, &client.id, &error);
                        None
                    }
                };
                members.insert(client.id.clone(), found);
            }
            let admitted = match members.get(&client.id) {
                Some(Some(None)) => true,
                Some(Some(Some(members))) => members.contains(user_ref.id.as_str()),
                _ => false,
            };
            keys.push(admitted.then(|| (client.clone(), UserKey::new(&client.id, &user_ref.id))));
        }
        let wanted: Vec<UserKey> = keys.iter().flatten().map(|(_, key)| key.clone()).collect();
        let loaded = load_profiles(ctx, wanted).await;
        let mut users = Vec::with_capacity(keys.len());
        for entry in keys {
            let user = entry.and_then(|(client, key)| match loaded.get(&key)? {
                Ok(profile) => Some(User::new(client, profile.clone())),
                Err(error) => {
                    report(ctx, &client.id, error);
                    None
                }
            });
            users.push(user);
        }
        Ok(users)
    }

    /// Auth0 user-search (Lucene) syntax, run in every tenant the caller may see (or those
    /// named), merged into one list ordered by `orderBy` and paginated by an opaque cursor
    /// (`first` ≤ 100). The caller's scope is always AND-ed onto the query, which is parsed and
    /// re-printed first so it cannot widen it. `totalCount` sums the tenants' totals. Auth0
    /// reaches only the first 1000 results per tenant: paging beyond answers BAD_USER_INPUT.
    #[graphql(complexity = "10 + first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
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
            tenants,
            first: first.unwrap_or(20),
            after,
            order: order_by.unwrap_or_default(),
        };
        Ok(search_users(ctx, args).await?)
    }

    /// Every account with this email in every tenant the caller may see, ordered by tenant.
    #[graphql(complexity = "5 * child_complexity")]
    async fn users_by_email(&self, ctx: &Context<'_>, email: String) -> Result<Vec<User>> {
        let scope = ReadScope::of(ctx)?;
        let email = normalize_email(&email)?;
        Ok(accounts_everywhere(ctx, scope, &email).await)
    }

    /// The person behind an email: their accounts across tenants, side by side. Null if none.
    #[graphql(complexity = "5 * child_complexity")]
    async fn person(&self, ctx: &Context<'_>, email: String) -> Result<Option<Person>> {
        let scope = ReadScope::of(ctx)?;
        let email = normalize_email(&email)?;
        let accounts = accounts_everywhere(ctx, scope, &email).await;
        Ok(person(&email, accounts))
    }

    /// The caller's own profile (end-user tokens); null for operator tokens.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Caller::EndUser(user) = caller(ctx).authenticated()? else {
            return Ok(None);
        };
        let Some(client) = services(ctx).store.tenant(&user.tenant) else {
            return Ok(None);
        };
        match load_profile(ctx, UserKey::new(&client.id, &user.user_id)).await {
            None => Ok(None),
            Some(Ok(profile)) => Ok(Some(User::new(client.clone(), profile))),
            Some(Err(error)) => Err(tenant_error(&client.id, &error)),
        }
    }

    /// Figures for dashboards, per tenant and summed (needs `read:stats`; not for
    /// organization administrators). Cached for `cache.stats_ttl`.
    async fn stats(
        &self,
        ctx: &Context<'_>,
        tenants: Option<Vec<ID>>,
        #[graphql(default = 30)] days: Option<i32>,
    ) -> Result<Stats> {
        Ok(stats(ctx, tenants, days.unwrap_or(30)).await?)
    }
}
