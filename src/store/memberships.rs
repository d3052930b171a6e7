//! Organizations and roles of users. Auth0 has no batch endpoint for either, so a tenant's
//! memberships are read as an index and cached for `cache.membership_ttl`:
//!
//! - organizations: `GET /organizations` (100 per call) then, per organization,
//!   `GET /organizations/{id}/members` (100 per call);
//! - roles: `GET /roles` (100 per call) then, per role, `GET /roles/{id}/users` (100 per call).
//!
//! So the organizations and roles of any number of users of one tenant cost, cold, at most
//! `⌈O/100⌉ + Σ⌈members/100⌉ + ⌈R/100⌉ + Σ⌈role users/100⌉` calls, whatever the number of
//! users, and nothing while cached. A tenant with more than `cache.max_index_groups`
//! organizations (or roles) is asked per user instead (`GET /users/{id}/organizations`), which
//! costs one call per user and tenant, each cached.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use moka::future::Cache;

use super::{Store, TenantResult};
use crate::cache::UserKey;
use crate::tenant::TenantClient;
use crate::tenant::model::{Organization, Role};

/// How many membership lists of one tenant are fetched at once.
const CONCURRENCY: usize = 4;

/// The groups (organizations or roles) of one user.
pub type Groups<G> = Arc<[Arc<G>]>;

/// Memberships of every user of a tenant, or the decision to ask per user.
#[derive(Debug)]
pub enum GroupIndex<G> {
    Indexed(HashMap<Arc<str>, Vec<Arc<G>>>),
    PerUser,
}

impl<G> GroupIndex<G> {
    fn of(&self, user: &str) -> Option<Groups<G>> {
        match self {
            Self::Indexed(by_user) => Some(
                by_user
                    .get(user)
                    .map_or_else(|| Arc::from([]), |g| g.as_slice().into()),
            ),
            Self::PerUser => None,
        }
    }
}

pub type Members = Arc<HashSet<Arc<str>>>;

/// Something users belong to, shown sorted by name.
trait Named {
    fn name(&self) -> &str;
}

impl Named for Organization {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for Role {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Store {
    /// The member ids of an organization; `None` when the organization does not exist.
    pub async fn organization_members(
        &self,
        client: &Arc<TenantClient>,
        organization: &str,
    ) -> TenantResult<Option<Members>> {
        let key = (client.id.clone(), Arc::from(organization));
        let load = async {
            let ids = client.organization_members(organization).await?;
            Ok(ids.map(|ids| Arc::new(ids.into_iter().map(Arc::from).collect::<HashSet<_>>())))
        };
        self.caches
            .through(
                &self.caches.organization_members,
                "organization_members",
                key,
                load,
            )
            .await
    }

    /// The organizations of each user (all of one tenant).
    pub async fn organizations_of(
        &self,
        client: &Arc<TenantClient>,
        users: &[Arc<str>],
    ) -> TenantResult<HashMap<Arc<str>, Groups<Organization>>> {
        let load = async {
            let organizations = client.organizations().await?;
            self.index(
                organizations,
                |organization: Arc<Organization>| async move {
                    let members = self.organization_members(client, &organization.id).await?;
                    Ok(members
                        .map(|m| m.iter().cloned().collect())
                        .unwrap_or_default())
                },
            )
            .await
        };
        let index = self
            .caches
            .through(
                &self.caches.organization_index,
                "organization_index",
                client.id.clone(),
                load,
            )
            .await?;
        self.groups_of(
            client,
            users,
            &index,
            &self.caches.user_organizations,
            |id| async move { client.user_organizations(&id).await },
        )
        .await
    }

    /// The roles of each user (all of one tenant).
    pub async fn roles_of(
        &self,
        client: &Arc<TenantClient>,
        users: &[Arc<str>],
    ) -> TenantResult<HashMap<Arc<str>, Groups<Role>>> {
        let load = async {
            let roles = client.roles().await?;
            self.index(roles, |role: Arc<Role>| async move {
                Ok(client
                    .role_users(&role.id)
                    .await?
                    .into_iter()
                    .map(Arc::from)
                    .collect())
            })
            .await
        };
        let index = self
            .caches
            .through(
                &self.caches.role_index,
                "role_index",
                client.id.clone(),
                load,
            )
            .await?;
        self.groups_of(
            client,
            users,
            &index,
            &self.caches.user_roles,
            |id| async move { client.user_roles(&id).await },
        )
        .await
    }

    /// An index of who holds which group, from the groups and a way to list each one's holders;
    /// [`GroupIndex::PerUser`] when there are too many groups to list them all.
    async fn index<G, F, Fut>(&self, groups: Vec<G>, holders: F) -> TenantResult<Arc<GroupIndex<G>>>
    where
        G: Named,
        F: Fn(Arc<G>) -> Fut,
        Fut: Future<Output = TenantResult<Vec<Arc<str>>>>,
    {
        if groups.len() > self.config.max_index_groups {
            return Ok(Arc::new(GroupIndex::PerUser));
        }
        let groups: Vec<Arc<G>> = groups.into_iter().map(Arc::new).collect();
        let listed = futures::stream::iter(groups)
            .map(|group| {
                let listing = holders(group.clone());
                async move { TenantResult::Ok((group, listing.await?)) }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        let mut by_user: HashMap<Arc<str>, Vec<Arc<G>>> = HashMap::new();
        for (group, users) in listed {
            for user in users {
                by_user.entry(user).or_default().push(group.clone());
            }
        }
        for groups in by_user.values_mut() {
            groups.sort_by(|a, b| a.name().cmp(b.name()));
        }
        Ok(Arc::new(GroupIndex::Indexed(by_user)))
    }

    /// Each user's groups from the index, or asked per user (each answer cached) when the
    /// tenant is too large to index.
    async fn groups_of<G, F, Fut>(
        &self,
        client: &Arc<TenantClient>,
        users: &[Arc<str>],
        index: &GroupIndex<G>,
        per_user: &Cache<UserKey, Groups<G>>,
        fetch: F,
    ) -> TenantResult<HashMap<Arc<str>, Groups<G>>>
    where
        G: Send + Sync + 'static,
        F: Fn(Arc<str>) -> Fut,
        Fut: Future<Output = TenantResult<Vec<G>>>,
    {
        let mut result = HashMap::with_capacity(users.len());
        let mut ask = Vec::new();
        for user in users {
            match index.of(user) {
                Some(groups) => {
                    result.insert(user.clone(), groups);
                }
                None => ask.push(user.clone()),
            }
        }
        let asked = futures::stream::iter(ask)
            .map(|user| {
                let key = UserKey {
                    tenant: client.id.clone(),
                    id: user.clone(),
                };
                let load = fetch(user.clone());
                async move {
                    let load = async {
                        Ok(load
                            .await?
                            .into_iter()
                            .map(Arc::new)
                            .collect::<Vec<_>>()
                            .into())
                    };
                    let groups = self
                        .caches
                        .through(per_user, "user_groups", key, load)
                        .await?;
                    TenantResult::Ok((user, groups))
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        result.extend(asked);
        Ok(result)
    }
}
