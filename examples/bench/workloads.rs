//! The workloads W1–W4: their GraphQL documents, the users they draw from, and the request
//! bodies sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::bail;
use clap::ValueEnum;
use hyper::body::Bytes;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use serde_json::json;

use crate::roles::TenantsReady;

const HOT_USERS: usize = 1_000;
const W2_REFS: usize = 50;

const W1_QUERY: &str = "query Profile($tenant: ID!, $id: ID!) { user(tenant: $tenant, id: $id) { \
    id email emailVerified name givenName familyName nickname picture createdAt updatedAt \
    lastLogin loginsCount blocked userMetadata } }";
const W2_QUERY: &str = "query ListPage($refs: [UserRef!]!) { users(refs: $refs) { \
    id tenant { id } email name picture emailVerified blocked lastLogin loginsCount } }";
const W3_QUERY: &str = "query Search($query: String!) { searchUsers(query: $query, first: 20) { \
    totalCount edges { cursor node { id tenant { id } email name picture blocked lastLogin } } \
    pageInfo { hasNextPage endCursor } } }";
const W4_QUERY: &str = "mutation Touch($tenant: ID!, $id: ID!, $input: UpdateUserInput!) { \
    updateUser(tenant: $tenant, id: $id, input: $input) { id updatedAt userMetadata } }";

/// What an admin portal searches for; the seed's plans are free, pro and enterprise.
pub const SEARCHES: [&str; 6] = [
    "email_verified:false",
    "app_metadata.plan:\"pro\"",
    "name:a*",
    "logins_count:[10 TO *]",
    "blocked:true",
    "app_metadata.plan:\"enterprise\" AND email_verified:true",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Workload {
    #[value(name = "W1", alias = "w1")]
    W1,
    #[value(name = "W2", alias = "w2")]
    W2,
    #[value(name = "W3", alias = "w3")]
    W3,
    #[value(name = "W4", alias = "w4")]
    W4,
}

impl Workload {
    pub const ALL: [Self; 4] = [Self::W1, Self::W2, Self::W3, Self::W4];

    pub fn name(self) -> &'static str {
        match self {
            Self::W1 => "W1",
            Self::W2 => "W2",
            Self::W3 => "W3",
            Self::W4 => "W4",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::W1 => "profile page: user(tenant,id), 14 fields, 1,000 hot users",
            Self::W2 => "list page: users(refs:) of 50 refs over all users of 3 tenants",
            Self::W3 => "search: searchUsers(query:, first: 20) over 3 tenants",
            Self::W4 => "write: updateUser userMetadata.bench on 1,000 users",
        }
    }
}

/// One user, and its `{"tenant":…,"id":…}` JSON, serialised once.
#[derive(Debug)]
pub struct UserRef {
    pub tenant: String,
    pub json: String,
}

/// The users the workloads draw from.
#[derive(Debug)]
pub struct Population {
    pub all: Vec<UserRef>,
    /// Indexes into `all`: W1's hot users and W4's write targets (disjoint).
    hot: Vec<usize>,
    writes: Vec<usize>,
}

impl Population {
    pub fn new(tenants: &TenantsReady, seed: u64) -> anyhow::Result<Self> {
        let mut all = Vec::new();
        for tenant in &tenants.tenants {
            for id in &tenant.users {
                let json = serde_json::to_string(&json!({"tenant": tenant.id, "id": id}))?;
                all.push(UserRef {
                    tenant: tenant.id.clone(),
                    json,
                });
            }
        }
        if all.len() < 2 * HOT_USERS {
            bail!(
                "the tenants hold {} users; the workloads need at least {}",
                all.len(),
                2 * HOT_USERS
            );
        }
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        Ok(Self {
            all,
            hot: order[..HOT_USERS].to_vec(),
            writes: order[HOT_USERS..2 * HOT_USERS].to_vec(),
        })
    }

    fn pick<'a>(&'a self, from: &[usize], rng: &mut StdRng) -> &'a UserRef {
        &self.all[from[rng.gen_range(0..from.len())]]
    }
}

/// Builds each workload's request bodies: a fixed document with fresh variables, as a real
/// client sends (the document text repeats; only the variables change).
pub struct Requests {
    pub workload: Workload,
    population: Arc<Population>,
    /// The workload's document as a JSON string literal, serialised once.
    document: String,
    searches: Vec<Bytes>,
    writes: AtomicU64,
    /// Refs of a W2 request.
    refs: usize,
}

impl Requests {
    pub fn new(workload: Workload, population: Arc<Population>) -> anyhow::Result<Self> {
        let query = match workload {
            Workload::W1 => W1_QUERY,
            Workload::W2 => W2_QUERY,
            Workload::W3 => W3_QUERY,
            Workload::W4 => W4_QUERY,
        };
        let searches = SEARCHES
            .iter()
            .map(|q| search_body(q).map(Bytes::from))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            workload,
            population,
            document: serde_json::to_string(query)?,
            searches,
            writes: AtomicU64::new(0),
            refs: W2_REFS,
        })
    }

    /// W2 with `refs` refs a request.
    pub fn with_refs(population: Arc<Population>, refs: usize) -> anyhow::Result<Self> {
        Ok(Self {
            refs,
            ..Self::new(Workload::W2, population)?
        })
    }

    pub fn body(&self, rng: &mut StdRng) -> Bytes {
        let population = &self.population;
        let document = &self.document;
        match self.workload {
            Workload::W1 => {
                let user = population.pick(&population.hot, rng);
                Bytes::from(format!(
                    r#"{{"operationName":"Profile","query":{document},"variables":{}}}"#,
                    user.json
                ))
            }
            Workload::W2 => {
                let mut refs = String::with_capacity(self.refs * 64);
                for i in 0..self.refs {
                    if i > 0 {
                        refs.push(',');
                    }
                    let user = &population.all[rng.gen_range(0..population.all.len())];
                    refs.push_str(&user.json);
                }
                Bytes::from(format!(
                    r#"{{"operationName":"ListPage","query":{document},"variables":{{"refs":[{refs}]}}}}"#
                ))
            }
            Workload::W3 => self.searches[rng.gen_range(0..self.searches.len())].clone(),
            Workload::W4 => {
                let user = population.pick(&population.writes, rng);
                let n = self.writes.fetch_add(1, Ordering::Relaxed);
                // The ref's JSON is `{"tenant":…,"id":…}`: drop its `}` and add the input.
                let head = user.json.trim_end_matches('}');
                Bytes::from(format!(
                    r#"{{"operationName":"Touch","query":{document},"variables":{head},"input":{{"userMetadata":{{"bench":{n}}}}}}}}}"#
                ))
            }
        }
    }
}

pub fn search_body(query: &str) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&json!({
        "operationName": "Search",
        "query": W3_QUERY,
        "variables": {"query": query},
    }))?)
}
