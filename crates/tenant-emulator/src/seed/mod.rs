//! The deterministic seed: from (seed, user count, tenant slug, reference time) the same tenant
//! every time: applications, connections, organizations, roles, users with identities,
//! metadata, blocks, memberships (with roles within organizations) and 60 days of logins and log
//! events.

mod accounts;
mod names;
mod people;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rsa::sha2::{Digest as _, Sha256};
use serde_json::json;

use crate::config::{DATABASE_CONNECTION, EmulatorConfig, SOCIAL_CONNECTION};
use crate::profile::random_alnum;
use crate::store::{App, Connection, Directory, Organization, Role, Store, StoreSettings};

/// A generator for one purpose, derived from the seed and a path of labels, so adding a draw in
/// one place never shifts the values drawn anywhere else.
pub(crate) fn rng(seed: u64, labels: &[&str]) -> ChaCha8Rng {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    for label in labels {
        hasher.update(label.as_bytes());
        hasher.update([0]);
    }
    ChaCha8Rng::from_seed(hasher.finalize().into())
}

/// Share of the tenant's user count drawn from the shared pool before the 60% inclusion draw,
/// giving about 15% of users who are people known to other tenants too.
const POOL_SHARE: f64 = 0.25;

/// Builds the seeded store of `config`'s tenant at `reference` time, extra users included.
pub fn build(config: &EmulatorConfig, reference: DateTime<Utc>) -> anyhow::Result<Store> {
    let directory = directory(config, reference);
    let mut store = Store::new(StoreSettings::of(config), directory);
    let password: Arc<str> = Arc::from(config.password.as_str());
    let tenant = config.tenant.as_str();
    let n = config.users;

    // Pooled people first: their emails are unique by construction and reserve their place.
    let pool_size = (n as f64 * POOL_SHARE).ceil() as u64;
    let pooled: Vec<(u64, people::Person)> = (0..pool_size)
        .filter(|k| people::tenant_holds(config.seed, tenant, *k))
        .take(n)
        .map(|k| (k, people::pooled(config.seed, k)))
        .collect();
    let mut used: HashSet<String> = pooled.iter().map(|(_, p)| p.email.clone()).collect();
    let local_count = n - pooled.len();
    let mut seeder = accounts::Seeder::new(config, reference, &mut store, Arc::clone(&password));
    for (k, person) in &pooled {
        seeder.add(person, &format!("pool-{k}"));
    }
    for i in 0..local_count as u64 {
        let person = people::local(config.seed, tenant, i, &mut used);
        seeder.add(&person, &format!("local-{i}"));
    }
    assign_member_roles(&mut store.directory, config);
    for extra in &config.extra_users {
        crate::extra_users::add_indexed(&mut store, extra, reference)?;
    }
    Ok(store)
}

/// Roles within their organizations for about 40% of members (one, sometimes two), drawn after
/// every membership so the earlier draws stay as they were.
fn assign_member_roles(directory: &mut Directory, config: &EmulatorConfig) {
    let role_ids: Vec<String> = directory.roles.iter().map(|r| r.id.clone()).collect();
    if role_ids.is_empty() {
        return;
    }
    for org in &mut directory.organizations {
        let mut rng = rng(
            config.seed,
            &["organization member roles", &config.tenant, &org.id],
        );
        for member in &org.members {
            let count = match rng.gen_range(0..100) {
                0..60 => 0,
                60..90 => 1,
                _ => 2,
            };
            let mut held: Vec<String> =
                role_ids.choose_multiple(&mut rng, count).cloned().collect();
            if !held.is_empty() {
                held.sort();
                org.member_roles.insert(Arc::clone(member), held);
            }
        }
    }
}

fn directory(config: &EmulatorConfig, reference: DateTime<Utc>) -> Directory {
    let tenant = config.tenant.as_str();
    // Organizations are created 30 days to 2.5 years before the reference time, drawn apart so
    // the directory's own draws keep their values.
    let mut dates = rng(config.seed, &["organization created", tenant]);
    let mut rng = rng(config.seed, &["directory", tenant]);
    let mut apps: Vec<App> = config
        .clients
        .iter()
        .map(|c| App {
            client_id: c.client_id.clone(),
            name: c.client_id.clone(),
        })
        .collect();
    let title = title_case(tenant);
    for suffix in ["Web", "Mobile"] {
        apps.push(App {
            client_id: random_alnum(&mut rng, 32),
            name: format!("{title} {suffix}"),
        });
    }
    let connections = vec![
        Connection {
            id: format!("con_{}", random_alnum(&mut rng, 16)),
            name: DATABASE_CONNECTION.to_owned(),
            strategy: "auth0".to_owned(),
            strategy_type: "database".to_owned(),
        },
        Connection {
            id: format!("con_{}", random_alnum(&mut rng, 16)),
            name: SOCIAL_CONNECTION.to_owned(),
            strategy: "google-oauth2".to_owned(),
            strategy_type: "social".to_owned(),
        },
    ];
    let mut catalogue: Vec<&(&str, &str, &str)> = names::ORGANIZATIONS.iter().collect();
    catalogue.shuffle(&mut rng);
    let organizations = catalogue
        .into_iter()
        .take(6)
        .map(|(name, display_name, industry)| Organization {
            id: format!("org_{}", random_alnum(&mut rng, 16)),
            name: (*name).to_owned(),
            display_name: Some((*display_name).to_owned()),
            metadata: json!({ "industry": industry, "tenant": tenant }),
            created_at: reference - TimeDelta::minutes(dates.gen_range(30 * 1440..900 * 1440)),
            members: Default::default(),
            member_roles: Default::default(),
            unlisted: Vec::new(),
        })
        .collect();
    let roles = names::ROLES
        .iter()
        .map(|(name, description, permissions, _)| Role {
            id: format!("rol_{}", random_alnum(&mut rng, 16)),
            name: (*name).to_owned(),
            description: Some((*description).to_owned()),
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            users: Default::default(),
        })
        .collect();
    Directory {
        apps,
        connections,
        organizations,
        roles,
        ..Directory::default()
    }
}

/// `acme-eu` → `Acme Eu`, for application names.
fn title_case(slug: &str) -> String {
    slug.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
