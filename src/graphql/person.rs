//! People across tenants: the accounts holding an email (`usersByEmail`, `person`,
//! `User.linkedAccounts`).

use std::sync::Arc;

use async_graphql::{Context, SimpleObject};
use futures::future::join_all;

use super::context::{ReadScope, report, request};
use super::types::User;
use crate::cache::{EmailKey, UserKey};
use crate::error::{ClientError, ClientResult};
use crate::tenant::TenantClient;

/// The person behind an email: their accounts across the tenants the caller may see.
#[derive(SimpleObject)]
pub struct Person {
    pub email: String,
    /// Ordered by tenant id.
    pub accounts: Vec<User>,
    /// The display name of the most recently updated account.
    pub name: Option<String>,
    /// True when at least one account has verified this email.
    pub verified: bool,
}

/// A syntactically plausible email, lower-cased (the key Auth0 stores database emails under).
pub fn normalize_email(email: &str) -> ClientResult<Arc<str>> {
    let email = email.trim();
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
        });
    if !plausible {
        return Err(ClientError::bad_input(format!(
            "`{email}` is not an email address"
        )));
    }
    Ok(Arc::from(email.to_lowercase()))
}

/// The accounts of `email` in one tenant that the caller may see, ordered by id.
pub async fn accounts(
    ctx: &Context<'_>,
    scope: ReadScope<'_>,
    tenant: &Arc<TenantClient>,
    email: &Arc<str>,
) -> Vec<User> {
    let loader = request(ctx).loader();
    let key: EmailKey = (tenant.id.clone(), email.clone());
    let ids = match loader.load_one(key).await {
        Ok(Some(Ok(ids))) => ids,
        Ok(Some(Err(error))) => {
            report(ctx, &tenant.id, &error);
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    let members = match scope.members(tenant).await {
        Ok(members) => members,
        Err(error) => {
            report(ctx, &tenant.id, &error);
            return Vec::new();
        }
    };
    let keys: Vec<UserKey> = ids
        .iter()
        .filter(|id| members.as_ref().is_none_or(|m| m.contains(*id)))
        .map(|id| UserKey {
            tenant: tenant.id.clone(),
            id: id.clone(),
        })
        .collect();
    let loaded = super::loaders::load_profiles(ctx, keys.iter().cloned()).await;
    let mut users = Vec::with_capacity(keys.len());
    for key in &keys {
        match loaded.get(key) {
            Some(Ok(profile)) => users.push(User::new(tenant.clone(), profile.clone())),
            Some(Err(error)) => report(ctx, &tenant.id, error),
            None => {}
        }
    }
    users
}

/// The accounts of `email` in one tenant that have verified it.
pub async fn verified_accounts(
    ctx: &Context<'_>,
    scope: ReadScope<'_>,
    tenant: &Arc<TenantClient>,
    email: &Arc<str>,
) -> Vec<User> {
    let mut users = accounts(ctx, scope, tenant, email).await;
    users.retain(|u| u.profile.email_verified());
    users
}

/// Every account of `email` in every tenant in reach, ordered by tenant id.
pub async fn accounts_everywhere(
    ctx: &Context<'_>,
    scope: ReadScope<'_>,
    email: &Arc<str>,
) -> Vec<User> {
    let mut tenants = scope.tenants();
    tenants.sort_by(|a, b| a.id.cmp(&b.id));
    let lookups = tenants
        .into_iter()
        .map(|tenant| accounts(ctx, scope, tenant, email));
    join_all(lookups).await.into_iter().flatten().collect()
}

pub fn person(email: &Arc<str>, accounts: Vec<User>) -> Option<Person> {
    if accounts.is_empty() {
        return None;
    }
    let newest = accounts
        .iter()
        .max_by(|a, b| a.profile.updated_at().cmp(&b.profile.updated_at()))
        .and_then(|u| u.profile.name().map(str::to_owned));
    Some(Person {
        email: email.to_string(),
        verified: accounts.iter().any(|u| u.profile.email_verified()),
        name: newest,
        accounts,
    })
}
