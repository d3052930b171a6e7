//! Organizations and roles of users, and the members of an organization.
//!
//! An organization's members decide what its delegated administrator may reach. For reads the
//! list is cached for `cache.admission_ttl` (5 s by default), so a member removed elsewhere is
//! out of reach within that (plus Auth0's own lag of the list); a write checks the user's
//! organizations at the tenant, at the time of the write. Memberships this gateway changes are
//! applied to the cached lists at once, and laid over lists read in the next
//! `cache.recent_write_window`, since Auth0 serves the members list eventually consistent.
//!
//! Auth0 has no batch endpoint for a user's organizations or roles, so a tenant's memberships
//! are read as an index and cached for `cache.membership_ttl`:
//!
//! - organizations: `GET /organizations` (100 per call) then, per organization,
//!   `GET /organizations/{id}/members` (100 per call);
//! - roles: `GET /roles` (100 per call) then, per role, `GET /roles/{id}/users` (100 per call).
//!
//! So the organizations and roles of any number of users of one tenant cost, cold, at most
//! `⌈O/100⌉ + Σ⌈members/100⌉ + ⌈R/100⌉ + Σ⌈role users/100⌉` calls, whatever the number of
//! users, and nothing while cached. A tenant with more than `cache.max_index_groups`
//! organizations (or roles) is asked per user instead (`GET /users/{id}/organizations`, 100 per
//! call), each answer cached and sorted by name as the index sorts.
//!
//! Auth0's offset paging stops at 1000 items. The tenant's roles (at most 1000, Auth0's limit)
//! always fit; should a tenant count more, the index is not built from a partial list but each
//! user asked. A user's own lists are paged to the window and no further: 50 roles at most, but
//! a user in more than 1000 organizations shows the first 1000 (logged at warn).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use moka::future::Cache;

use super::{Store, TenantRef, TenantResult};
use crate::keys::{OrganizationKey, UserKey};
use crate::tenant::model::{Organization, Role};

/// How many membership lists of one tenant are fetched at once.
const CONCURRENCY: usize = 4;

/// The groups (organizations or roles) of one user.
pub(crate) type Groups<G> = Arc<[Arc<G>]>;

/// Memberships of every user of a tenant, or the decision to ask per user.
#[derive(Debug)]
pub(crate) enum GroupIndex<G> {
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

pub(crate) type Members = Arc<HashSet<Arc<str>>>;

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
    /// The member ids of an organization, for admission; `None` when the organization does not
    /// exist.
    pub(crate) async fn organization_members(
        &self,
        tenant: &TenantRef,
        organization: &str,
    ) -> TenantResult<Option<Members>> {
        self.member_list(
            tenant,
            organization,
            &self.caches.organization_members,
            "organization_members",
        )
        .await
    }

    /// Whether `user` belongs to `organization` now, asked of the tenant (`GET
    /// /users/{id}/organizations`): what a write by a delegated administrator depends on. For a
    /// user in more than 1000 organizations, membership of one past the first 1000 Auth0 pages
    /// to cannot be seen and reads as none: the write is refused, never let through.
    pub(crate) async fn is_member_now(
        &self,
        tenant: &TenantRef,
        organization: &str,
        user: &str,
    ) -> TenantResult<bool> {
        let organizations = tenant.client().user_organizations(user).await?;
        Ok(organizations.iter().any(|o| o.id == organization))
    }

    async fn member_list(
        &self,
        tenant: &TenantRef,
        organization: &str,
        cache: &Cache<OrganizationKey, Option<Members>>,
        name: &'static str,
    ) -> TenantResult<Option<Members>> {
        let key: OrganizationKey = (tenant.id().clone(), Arc::from(organization));
        let recent_key = key.clone();
        let load = async move {
            let ids = tenant.client().organization_members(organization).await?;
            let Some(ids) = ids else { return Ok(None) };
            let members: Members = Arc::new(ids.into_iter().map(Arc::from).collect::<HashSet<_>>());
            Ok(Some(match self.caches.recent_members(&recent_key).await {
                Some(recent) => overlay(&members, &recent),
                None => members,
            }))
        };
        self.caches.through(cache, name, key, load).await
    }

    /// The organizations of each user (all of one tenant).
    pub(crate) async fn organizations_of(
        &self,
        tenant: &TenantRef,
        users: &[Arc<str>],
    ) -> TenantResult<HashMap<Arc<str>, Groups<Organization>>> {
        let client = tenant.client();
        let load = async {
            let organizations = client.organizations(self.config.max_index_groups).await?;
            // Checkpoint paging has no window: the list is whole up to the limit asked.
            self.index(
                organizations,
                true,
                |organization: Arc<Organization>| async move {
                    let members = self
                        .member_list(
                            tenant,
                            &organization.id,
                            &self.caches.index_members,
                            "index_members",
                        )
                        .await?;
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
                tenant.id().clone(),
                load,
            )
            .await?;
        self.groups_of(
            tenant,
            users,
            &index,
            &self.caches.user_organizations,
            |id| async move { client.user_organizations(&id).await },
        )
        .await
    }

    /// The roles of each user (all of one tenant).
    pub(crate) async fn roles_of(
        &self,
        tenant: &TenantRef,
        users: &[Arc<str>],
    ) -> TenantResult<HashMap<Arc<str>, Groups<Role>>> {
        let client = tenant.client();
        let load = async {
            let roles = client.roles(self.config.max_index_groups).await?;
            self.index(roles.items, roles.complete, |role: Arc<Role>| async move {
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
                tenant.id().clone(),
                load,
            )
            .await?;
        self.groups_of(
            tenant,
            users,
            &index,
            &self.caches.user_roles,
            |id| async move { client.user_roles(&id).await },
        )
        .await
    }

    /// An index of who holds which group, from the groups (`complete` when they are all of the
    /// tenant's) and a way to list each one's holders; [`GroupIndex::PerUser`] when there are
    /// too many groups to list them all, or when they could not all be read: an index missing
    /// groups would answer wrongly for their holders, where asking per user answers right.
    async fn index<G, F, Fut>(
        &self,
        groups: Vec<G>,
        complete: bool,
        holders: F,
    ) -> TenantResult<Arc<GroupIndex<G>>>
    where
        G: Named,
        F: Fn(Arc<G>) -> Fut,
        Fut: Future<Output = TenantResult<Vec<Arc<str>>>>,
    {
        if !complete || groups.len() > self.config.max_index_groups {
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
        tenant: &TenantRef,
        users: &[Arc<str>],
        index: &GroupIndex<G>,
        per_user: &Cache<UserKey, Groups<G>>,
        fetch: F,
    ) -> TenantResult<HashMap<Arc<str>, Groups<G>>>
    where
        G: Named + Send + Sync + 'static,
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
                    tenant: tenant.id().clone(),
                    id: user.clone(),
                };
                let load = fetch(user.clone());
                async move {
                    let load = async {
                        // Sorted as the index sorts them: Auth0 lists them in its own order.
                        let mut groups: Vec<Arc<G>> =
                            load.await?.into_iter().map(Arc::new).collect();
                        groups.sort_by(|a, b| a.name().cmp(b.name()));
                        Ok(groups.into())
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

/// `members` with the recent changes applied.
pub(super) fn overlay(members: &Members, recent: &[(Arc<str>, bool)]) -> Members {
    let mut members = HashSet::clone(members);
    for (user, joined) in recent {
        if *joined {
            members.insert(user.clone());
        } else {
            members.remove(user);
        }
    }
    Arc::new(members)
}
