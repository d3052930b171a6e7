//! Reads through the scope: one user, a page of users, the caller itself, the accounts and the
//! person behind an email, and the nested fields of a user (memberships, activity, blocks,
//! linked accounts). Every read names its tenant's failure instead of answering as if there
//! were nothing: a nested field whose tenant failed is an error, never an empty list.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::join_all;

use super::fields::UserField;
use super::loader::{OrganizationsOf, RolesOf};
use super::view::{BlockView, PersonView, UserView};
use super::{Partial, Scope, check_user_id, tenant_failure};
use crate::auth::{Caller, Permission};
use crate::error::{ClientError, ClientResult};
use crate::keys::{EmailKey, UserKey};
use crate::store::{Members, TenantRef, TenantResult};
use crate::tenant::model::{LogEvent, Organization, Role};
use crate::tenant::{Profile, UpstreamError};

/// Most refs one `users` call may ask for.
pub(crate) const MAX_REFS: usize = 500;

/// A syntactically plausible email, trimmed; its lower-cased form is the index key.
pub(crate) fn normalize_email(email: &str) -> ClientResult<Arc<str>> {
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
            "`{}` is not an email address",
            email.chars().take(254).collect::<String>().escape_debug()
        )));
    }
    Ok(Arc::from(email.to_lowercase()))
}

impl Scope {
    /// One user; `None` when it does not exist or is outside the caller's reach (the two are
    /// indistinguishable by design).
    pub(crate) async fn user(&self, tenant: &str, id: &str) -> ClientResult<Option<UserView>> {
        self.operator_with(Permission::ReadUsers)?;
        check_user_id(id)?;
        let tenant = self.tenant(tenant)?;
        if !self
            .admits(&tenant, id)
            .await
            .map_err(|e| tenant_failure(&tenant, &e))?
        {
            return Ok(None);
        }
        match self.load_profile(UserKey::new(tenant.id(), id)).await {
            None => Ok(None),
            Some(Ok(profile)) => Ok(Some(self.view(tenant, profile))),
            Some(Err(error)) => Err(tenant_failure(&tenant, &error)),
        }
    }

    /// Many users in the order asked, `None` where one does not exist or is out of reach. A
    /// failing tenant leaves its users `None` and is named once.
    pub(crate) async fn users(
        &self,
        refs: &[(String, String)],
    ) -> ClientResult<Partial<Vec<Option<UserView>>>> {
        self.operator_with(Permission::ReadUsers)?;
        if refs.len() > MAX_REFS {
            return Err(ClientError::bad_input(format!(
                "users(refs:) takes at most {MAX_REFS} refs"
            )));
        }
        let mut tenants = Vec::with_capacity(refs.len());
        for (tenant, id) in refs {
            check_user_id(id)?;
            tenants.push(self.tenant(tenant)?);
        }
        let mut partial = Partial::new(Vec::with_capacity(refs.len()));
        // Organization members per tenant, fetched once; a failure hides that tenant's users.
        let mut members: HashMap<Arc<str>, Option<Option<Members>>> = HashMap::new();
        let mut keys = Vec::with_capacity(refs.len());
        for (tenant, (_, id)) in tenants.into_iter().zip(refs) {
            if !members.contains_key(tenant.id()) {
                let found = match self.members(&tenant).await {
                    Ok(found) => Some(found),
                    Err(error) => {
                        partial.failed(&tenant, &error);
                        None
                    }
                };
                members.insert(tenant.id().clone(), found);
            }
            let admitted = match members.get(tenant.id()) {
                Some(Some(None)) => true,
                Some(Some(Some(members))) => members.contains(id.as_str()),
                _ => false,
            };
            let key = UserKey::new(tenant.id(), id);
            keys.push(admitted.then_some((tenant, key)));
        }
        let wanted: Vec<UserKey> = keys.iter().flatten().map(|(_, key)| key.clone()).collect();
        let loaded = self.load_profiles(wanted).await;
        for entry in keys {
            let user = entry.and_then(|(tenant, key)| match loaded.get(&key)? {
                Ok(profile) => Some(self.view(tenant, profile.clone())),
                Err(error) => {
                    partial.failed(&tenant, error);
                    None
                }
            });
            partial.value.push(user);
        }
        Ok(partial)
    }

    /// The caller's own profile when it is an end user; `None` for operators.
    pub(crate) async fn me(&self) -> ClientResult<Option<UserView>> {
        let Caller::EndUser(user) = &*self.caller else {
            return Ok(None);
        };
        let Ok(tenant) = self.tenant(user.tenant()) else {
            return Ok(None);
        };
        match self
            .load_profile(UserKey::new(tenant.id(), user.user_id()))
            .await
        {
            None => Ok(None),
            Some(Ok(profile)) => Ok(Some(self.view(tenant, profile))),
            Some(Err(error)) => Err(tenant_failure(&tenant, &error)),
        }
    }

    /// Every account holding `email` in every tenant in reach, ordered by tenant, verified or
    /// not: a lookup by address, not a claim that they are one person.
    pub(crate) async fn users_by_email(&self, email: &str) -> ClientResult<Partial<Vec<UserView>>> {
        self.operator_with(Permission::ReadUsers)?;
        let email = normalize_email(email)?;
        Ok(self.accounts_everywhere(&email, false).await)
    }

    /// The person behind an email: the accounts, in every tenant in reach, that verified it.
    /// An unverified address proves nothing about who holds it, so accounts that have not
    /// verified it are never joined to the person (`usersByEmail` lists them).
    pub(crate) async fn person(&self, email: &str) -> ClientResult<Partial<Option<PersonView>>> {
        self.operator_with(Permission::ReadUsers)?;
        let email = normalize_email(email)?;
        let accounts = self.accounts_everywhere(&email, true).await;
        Ok(Partial {
            value: (!accounts.value.is_empty()).then(|| PersonView {
                email: email.to_string(),
                accounts: accounts.value,
            }),
            failures: accounts.failures,
        })
    }

    async fn accounts_everywhere(
        &self,
        email: &Arc<str>,
        verified: bool,
    ) -> Partial<Vec<UserView>> {
        let mut tenants = self.tenants();
        tenants.sort_by(|a, b| a.id().cmp(b.id()));
        let lookups = tenants.iter().map(|t| self.accounts(t, email, verified));
        let mut partial = Partial::new(Vec::new());
        for result in join_all(lookups).await {
            partial.value.extend(result.value);
            partial.failures.extend(result.failures);
        }
        partial
    }

    /// The accounts of `email` in one tenant the caller may see (only those that verified the
    /// email when `verified`), ordered by id.
    async fn accounts(
        &self,
        tenant: &TenantRef,
        email: &Arc<str>,
        verified: bool,
    ) -> Partial<Vec<UserView>> {
        let mut partial = Partial::new(Vec::new());
        let key: EmailKey = (tenant.id().clone(), email.clone());
        let ids = match self.loader().load_one(key).await {
            Ok(Some(Ok(ids))) => ids,
            Ok(Some(Err(error))) => {
                partial.failed(tenant, &error);
                return partial;
            }
            _ => return partial,
        };
        let members = match self.members(tenant).await {
            Ok(members) => members,
            Err(error) => {
                partial.failed(tenant, &error);
                return partial;
            }
        };
        let keys: Vec<UserKey> = ids
            .iter()
            .filter(|id| members.as_ref().is_none_or(|m| m.contains(*id)))
            .map(|id| UserKey::new(tenant.id(), id))
            .collect();
        let loaded = self.load_profiles(keys.iter().cloned()).await;
        for key in &keys {
            match loaded.get(key) {
                // The index may be older than the profile: the email must still be the one asked.
                Some(Ok(profile))
                    if profile.email_key().as_deref() == Some(&**email)
                        && (!verified || profile.email_verified()) =>
                {
                    partial
                        .value
                        .push(self.view(tenant.clone(), profile.clone()));
                }
                Some(Err(error)) => partial.failed(tenant, error),
                _ => {}
            }
        }
        partial
    }

    /// Accounts with the same verified email in the other tenants the caller may see, ordered
    /// by tenant; empty when this account's email is not verified.
    pub(crate) async fn linked_accounts(
        &self,
        user: &UserView,
    ) -> ClientResult<Partial<Vec<UserView>>> {
        self.sight.check(UserField::LinkedAccounts)?;
        let profile = user.profile();
        let (true, Some(email)) = (profile.email_verified(), profile.email_key()) else {
            return Ok(Partial::new(Vec::new()));
        };
        let email: Arc<str> = Arc::from(email);
        let others: Vec<TenantRef> = self
            .tenants()
            .into_iter()
            .filter(|t| t != user.tenant())
            .collect();
        let lookups = others.iter().map(|t| self.accounts(t, &email, true));
        let mut partial = Partial::new(Vec::new());
        for result in join_all(lookups).await {
            partial.value.extend(result.value);
            partial.failures.extend(result.failures);
        }
        partial
            .value
            .sort_by(|a, b| (a.tenant().id(), a.id()).cmp(&(b.tenant().id(), b.id())));
        Ok(partial)
    }

    /// The organizations of a user (of the ones the caller reaches).
    pub(crate) async fn organizations(
        &self,
        user: &UserView,
    ) -> ClientResult<Vec<Arc<Organization>>> {
        self.sight.check(UserField::Organizations)?;
        match self.loader().load_one(OrganizationsOf(user.key())).await {
            Ok(Some(Ok(groups))) => Ok(groups.to_vec()),
            Ok(Some(Err(error))) => Err(tenant_failure(user.tenant(), &error)),
            _ => Ok(Vec::new()),
        }
    }

    /// The roles of a user.
    pub(crate) async fn roles(&self, user: &UserView) -> ClientResult<Vec<Arc<Role>>> {
        self.sight.check(UserField::Roles)?;
        match self.loader().load_one(RolesOf(user.key())).await {
            Ok(Some(Ok(groups))) => Ok(groups.to_vec()),
            Ok(Some(Err(error))) => Err(tenant_failure(user.tenant(), &error)),
            _ => Ok(Vec::new()),
        }
    }

    /// The newest `first` (1 to 100) log events of a user, newest first.
    pub(crate) async fn logs(&self, user: &UserView, first: i32) -> ClientResult<Vec<LogEvent>> {
        self.sight.check(UserField::Logs)?;
        let count = u32::try_from(first)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ClientError::bad_input("logs(first:) must be between 1 and 100"))?;
        self.store
            .user_logs(user.tenant(), user.id(), count)
            .await
            .map_err(|e| tenant_failure(user.tenant(), &e))
    }

    /// The brute-force blocks Auth0 holds against a user (addresses only for `read:logs`).
    pub(crate) async fn brute_force_blocks(&self, user: &UserView) -> ClientResult<Vec<BlockView>> {
        self.sight.check(UserField::BruteForceBlocks)?;
        let blocks = self
            .store
            .user_blocks(user.tenant(), user.id())
            .await
            .map_err(|e| tenant_failure(user.tenant(), &e))?;
        Ok(blocks
            .into_iter()
            .map(|b| BlockView::new(b, self.sight))
            .collect())
    }

    /// Profiles: what the shared cache holds at once (no batching delay for a hit), the rest
    /// through the request's loader, batched per tenant. Absent keys are missing users.
    pub(super) async fn load_profiles(
        &self,
        keys: impl IntoIterator<Item = UserKey>,
    ) -> HashMap<UserKey, TenantResult<Profile>> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for key in keys {
            match self.store.cached_profile(&key).await {
                Some(Some(profile)) => {
                    found.insert(key, Ok(profile));
                }
                Some(None) => {}
                None => missing.push(key),
            }
        }
        if !missing.is_empty() {
            let Ok(loaded) = self.loader().load_many(missing).await;
            found.extend(loaded);
        }
        found
    }

    /// One profile, as [`Self::load_profiles`]; `None` for a missing user.
    async fn load_profile(&self, key: UserKey) -> Option<Result<Profile, UpstreamError>> {
        self.load_profiles([key.clone()]).await.remove(&key)
    }
}
