//! The control API: request counts, faults, a consistent view of users and organizations, extra
//! users, login-page personas, arbitrary tokens and key rotation. [`Control`] is the in-process
//! twin of the HTTP routes under `/__emulator/` (see `http`), which call it.

pub mod http;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::unix_now;
use crate::config::{ExtraUser, Persona};
use crate::faults::Faults;
use crate::keys::{self, KeyPair};
use crate::state::SharedState;
use crate::stats::Stats;

/// One user as `GET /__emulator/users` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub user_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Ids of the organizations the user belongs to.
    pub organizations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    /// Number of users in the tenant.
    pub total: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationSummary {
    pub id: String,
    pub name: String,
    /// Absent for an organization created without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// When it was created (Auth0 does not send this, but sorts by it).
    pub created_at: String,
    /// Member user ids, in `user_id` order.
    pub members: Vec<String>,
    /// Role ids each member holds in this organization; members without roles are absent.
    pub member_roles: BTreeMap<String, Vec<String>>,
}

/// Which key signs a minted token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyChoice {
    /// The tenant's current signing key.
    #[default]
    Tenant,
    /// A key of this tenant's that is never published in its JWKS.
    Foreign,
}

/// `POST /__emulator/tokens`: claims to sign. `iss`, `iat` and `exp` default to the tenant's
/// issuer, now and now + 3600; a claim set to `null` is left out.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MintRequest {
    pub claims: Map<String, Value>,
    pub key: KeyChoice,
    /// A `kid` header other than the signing key's own.
    pub kid: Option<String>,
}

/// The control surface of one emulated tenant.
#[derive(Clone)]
pub struct Control {
    state: SharedState,
}

impl Control {
    pub(crate) fn new(state: SharedState) -> Self {
        Self { state }
    }

    /// Authentication and Management API requests served so far, by route template.
    pub fn stats(&self) -> Stats {
        self.state.stats.snapshot()
    }

    /// The last requests (at most 1000, oldest first) with the `x-request-id` each carried.
    pub fn recent_requests(&self) -> Vec<crate::stats::RecordedRequest> {
        self.state.stats.recent()
    }

    pub fn reset_stats(&self) {
        self.state.stats.reset();
    }

    /// Replaces the faults in force. Refuses an `error_rate` outside 0..=1 or a non-error status.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        faults.validate().map_err(anyhow::Error::msg)?;
        self.state.faults.set(faults);
        Ok(())
    }

    pub fn faults(&self) -> Option<Faults> {
        self.state.faults.current()
    }

    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Users in `user_id` order, as they are now (not as search sees them).
    pub fn users(&self, limit: usize, offset: usize) -> UsersPage {
        let store = self.state.read();
        let users = store
            .current_users()
            .skip(offset)
            .take(limit)
            .map(|user| {
                let user_id = crate::store::user_id(user).unwrap_or_default().to_owned();
                UserSummary {
                    organizations: store
                        .directory
                        .organizations_of(&user_id)
                        .map(|o| o.id.clone())
                        .collect(),
                    email: crate::store::email(user).map(str::to_owned),
                    email_verified: user
                        .get("email_verified")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    user_id,
                }
            })
            .collect();
        UsersPage {
            users,
            total: store.user_count(),
        }
    }

    pub fn organizations(&self) -> Vec<OrganizationSummary> {
        let store = self.state.read();
        store
            .directory
            .organizations
            .iter()
            .map(|o| OrganizationSummary {
                id: o.id.clone(),
                name: o.name.clone(),
                display_name: o.display_name.clone(),
                created_at: crate::clock::iso(o.created_at),
                members: o.members.iter().map(ToString::to_string).collect(),
                member_roles: o
                    .member_roles
                    .iter()
                    .map(|(user, roles)| (user.to_string(), roles.clone()))
                    .collect(),
            })
            .collect()
    }

    /// Adds a user and returns its profile (an error if its email or id is taken).
    pub fn add_user(&self, user: ExtraUser) -> anyhow::Result<Value> {
        let now = self.state.clock.now();
        let mut store = self.state.write();
        let profile = crate::extra_users::add(&mut store, &user, now)?;
        Ok((*profile).clone())
    }

    /// Offers a persona on the login page ("Sign in as {label}"), replacing one with the same
    /// label. Shown only while its email belongs to a database user, so it may be added before
    /// the user exists.
    pub fn add_persona(&self, persona: Persona) -> anyhow::Result<()> {
        if persona.label.trim().is_empty() || persona.email.trim().is_empty() {
            anyhow::bail!("a persona needs a label and an email");
        }
        self.state.login.add_persona(persona);
        Ok(())
    }

    /// The personas configured, whether or not the login page shows them.
    pub fn personas(&self) -> Vec<Persona> {
        self.state.login.personas()
    }

    /// Signs arbitrary claims. The first use of the foreign key generates it (a fraction of a
    /// second, once per tenant name and process).
    pub fn mint_token(&self, request: MintRequest) -> anyhow::Result<String> {
        let key: Arc<KeyPair> = match request.key {
            KeyChoice::Tenant => Arc::clone(self.state.keys().current()),
            KeyChoice::Foreign => {
                let tenant = &self.state.tenant;
                keys::key_for(tenant.seed, &keys::foreign_label(&tenant.name), 0)?
            }
        };
        let now = unix_now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.state.tenant.issuer));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + 3600));
        for (name, value) in request.claims {
            if value.is_null() {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
        key.sign(&Value::Object(claims), request.kid.as_deref())
    }

    /// Installs a new signing key with a new `kid` and returns that `kid`. The old keys stay in
    /// the JWKS unless `retire_old`, and tokens they signed are then refused.
    pub async fn rotate_keys(&self, retire_old: bool) -> anyhow::Result<String> {
        let (seed, tenant, generation) = {
            let keys = self.state.keys();
            (keys.seed, keys.tenant.clone(), keys.generation() + 1)
        };
        let next = tokio::task::spawn_blocking(move || keys::key_for(seed, &tenant, generation))
            .await
            .context("key generation task")??;
        let kid = next.kid.clone();
        self.state.keys_mut().install(next, generation, retire_old);
        if retire_old {
            self.state.tokens.clear();
        }
        Ok(kid)
    }
}
