//! Everything in a tenant besides profiles: applications, connections, organizations, roles,
//! brute-force blocks and jobs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::membership_view::MembershipChange;

/// An application, as named in log events.
#[derive(Clone, Debug)]
pub struct App {
    pub client_id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Connection {
    pub id: String,
    pub name: String,
    /// `auth0` for a database connection, `google-oauth2` for Google.
    pub strategy: String,
    /// `database` or `social`, as in log events.
    pub strategy_type: String,
}

impl Connection {
    pub fn is_database(&self) -> bool {
        self.strategy == "auth0"
    }
}

#[derive(Clone, Debug)]
pub struct Organization {
    pub id: String,
    pub name: String,
    /// Optional when created through the API; absent fields are not sent.
    pub display_name: Option<String>,
    /// `Value::Null` when the organization has none.
    pub metadata: Value,
    /// When the organization was created: not part of its JSON (Auth0 does not send it), but
    /// `GET /api/v2/organizations` sorts by it.
    pub created_at: DateTime<Utc>,
    /// Member user ids, in `user_id` order (the order members are listed in).
    pub members: BTreeSet<Arc<str>>,
    /// Role ids each member holds in this organization (Auth0's organization member roles,
    /// apart from the roles a user holds tenant-wide). Members without roles are absent.
    pub member_roles: BTreeMap<Arc<str>, Vec<String>>,
    /// Membership writes the members list does not show yet (see `membership_view`); empty
    /// without a membership lag.
    pub unlisted: Vec<MembershipChange>,
}

impl Organization {
    pub fn to_json(&self) -> Value {
        let mut organization = json!({ "id": self.id, "name": self.name });
        if let Some(display_name) = &self.display_name {
            organization["display_name"] = json!(display_name);
        }
        if !self.metadata.is_null() {
            organization["metadata"] = self.metadata.clone();
        }
        organization
    }
}

#[derive(Clone, Debug)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// Optional when created through the API; not sent when absent.
    pub description: Option<String>,
    /// Permissions the role grants on the tenant's APIs, added to password-realm tokens.
    pub permissions: Vec<String>,
    pub users: BTreeSet<Arc<str>>,
}

impl Role {
    pub fn to_json(&self) -> Value {
        let mut role = json!({ "id": self.id, "name": self.name });
        if let Some(description) = &self.description {
            role["description"] = json!(description);
        }
        role
    }
}

/// One brute-force block: an identifier locked out from an IP.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockedFor {
    pub identifier: String,
    pub ip: Ipv4Addr,
    pub connection: String,
}

impl BlockedFor {
    pub fn to_json(&self) -> Value {
        json!({
            "identifier": self.identifier,
            "ip": self.ip.to_string(),
            "connection": self.connection,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub kind: &'static str,
    pub created_at: String,
}

/// Auth0's entity limits ("Entity Limit Policy"): hard limits, the same on every plan.
pub const ORGANIZATIONS_PER_TENANT: usize = 100_000;
pub const ROLES_PER_TENANT: usize = 1000;
/// Roles a user holds tenant-wide (organization member roles count apart).
pub const ROLES_PER_USER: usize = 50;

#[derive(Default)]
pub struct Directory {
    pub apps: Vec<App>,
    pub connections: Vec<Connection>,
    pub organizations: Vec<Organization>,
    pub roles: Vec<Role>,
    /// How long the organization members list trails membership writes.
    pub membership_lag: Duration,
    /// Lower-cased identifier (email or username) → its blocks.
    pub blocks: HashMap<String, Vec<BlockedFor>>,
    /// Consecutive failed logins per (lower-cased identifier, IP), for brute-force protection.
    pub failures: HashMap<(String, Ipv4Addr), u32>,
    pub jobs: HashMap<String, Job>,
}

impl Directory {
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }

    pub fn connection_by_id(&self, id: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.id == id)
    }

    pub fn connection_index(&self, name: &str) -> Option<u8> {
        let index = self.connections.iter().position(|c| c.name == name)?;
        u8::try_from(index).ok()
    }

    /// The index of the application with this client id, registering unknown ones (tokens
    /// minted through the control API may name any client).
    pub fn app_index(&mut self, client_id: &str) -> u16 {
        let index = match self.apps.iter().position(|a| a.client_id == client_id) {
            Some(index) => index,
            None => {
                self.apps.push(App {
                    client_id: client_id.to_owned(),
                    name: client_id.to_owned(),
                });
                self.apps.len() - 1
            }
        };
        u16::try_from(index).unwrap_or(0)
    }

    pub fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn role_mut(&mut self, id: &str) -> Option<&mut Role> {
        self.roles.iter_mut().find(|r| r.id == id)
    }

    pub fn organization_named(&self, name: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.name == name)
    }

    pub fn role_named(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn organizations_of<'a>(
        &'a self,
        user_id: &'a str,
    ) -> impl Iterator<Item = &'a Organization> {
        self.organizations
            .iter()
            .filter(move |o| o.members.contains(user_id))
    }

    /// The roles `user_id` holds in `organization`, as `{id, name}` (the members list's shape).
    pub fn member_roles_json(&self, organization: &Organization, user_id: &str) -> Value {
        let held = organization.member_roles.get(user_id);
        self.roles_json(held.map(Vec::as_slice).unwrap_or_default())
    }

    /// Roles by id as `{id, name}`.
    pub fn roles_json(&self, role_ids: &[String]) -> Value {
        let roles: Vec<Value> = role_ids
            .iter()
            .filter_map(|id| self.role(id))
            .map(|r| json!({ "id": r.id, "name": r.name }))
            .collect();
        Value::Array(roles)
    }

    pub fn roles_of<'a>(&'a self, user_id: &'a str) -> impl Iterator<Item = &'a Role> {
        self.roles.iter().filter(move |r| r.users.contains(user_id))
    }

    /// The union of the permissions of the user's roles, sorted.
    pub fn permissions_of(&self, user_id: &str) -> Vec<String> {
        let set: BTreeSet<&String> = self
            .roles_of(user_id)
            .flat_map(|r| &r.permissions)
            .collect();
        set.into_iter().cloned().collect()
    }

    /// A deleted user leaves its organizations (the members list shows `profile` while it lags)
    /// and its roles.
    pub fn forget_user(&mut self, user_id: &str, profile: &Arc<Value>, written: Instant) {
        let lag = self.membership_lag;
        for org in &mut self.organizations {
            org.remove_member(user_id, Some(Arc::clone(profile)), Some(written), lag);
        }
        for role in &mut self.roles {
            role.users.remove(user_id);
        }
    }

    /// Blocks on any of these identifiers.
    pub fn blocks_of(&self, identifiers: &[&str]) -> Vec<&BlockedFor> {
        identifiers
            .iter()
            .filter_map(|i| self.blocks.get(&i.to_lowercase()))
            .flatten()
            .collect()
    }

    /// Lifts every block on these identifiers.
    pub fn unblock(&mut self, identifiers: &[&str]) {
        let lowered: Vec<String> = identifiers.iter().map(|i| i.to_lowercase()).collect();
        for identifier in &lowered {
            self.blocks.remove(identifier);
        }
        self.failures
            .retain(|(identifier, _), _| !lowered.contains(identifier));
    }
}
