//! The memory step: a fresh gateway's profile cache filled with 100,000 distinct profiles, its
//! resident memory before and after, and the same fill with the cache off for comparison.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;

use crate::children::{start_gateway, start_tenants};
use crate::config::GatewayTuning;
use crate::load::{Outcome, Target, back_off};
use crate::measure::{profile_cache_lookups, status_mb};
use crate::plan::Plan;
use crate::roles::TenantsReady;
use crate::workloads::{Population, Requests, UserRef, Workload};

/// The memory step: cached profiles, users per tenant needed to have that many, batch size.
const MEMORY_PROFILES: usize = 100_000;
const MEMORY_USERS_PER_TENANT: usize = 34_000;
const MEMORY_BATCH: usize = 100;
pub const MEMORY_TARGET_MB: f64 = 150.0;

const FILL_QUERY: &str = "query Fill($refs: [UserRef!]!) { users(refs: $refs) { id } }";

/// One fill of a fresh gateway with `MEMORY_PROFILES` distinct profiles.
#[derive(Debug, Default)]
pub struct FillFigures {
    pub errors: u64,
    pub fill: Duration,
    pub rss_before_mb: Option<f64>,
    pub rss_after_mb: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    /// Share of a sample of the filled profiles found in the cache afterwards.
    pub resident_share: Option<f64>,
}

impl FillFigures {
    pub fn growth_mb(&self) -> Option<f64> {
        Some(self.rss_after_mb? - self.rss_before_mb?)
    }
}

/// The memory step: the fill with the cache on, and the same fill with it off, which shows
/// how much of the growth is the allocator keeping what requests used rather than the cache.
#[derive(Debug, Default)]
pub struct MemoryResult {
    pub profiles: usize,
    pub cached: FillFigures,
    pub uncached: Option<FillFigures>,
}

impl MemoryResult {
    pub fn bytes_per_profile(&self) -> Option<f64> {
        Some(self.cached.growth_mb()? * 1024.0 * 1024.0 / self.profiles as f64)
    }
}

/// Fills a fresh gateway's cache with `MEMORY_PROFILES` distinct profiles and measures its RSS,
/// then does the same with the cache off.
pub async fn run_memory(
    workdir: &Path,
    http: &reqwest::Client,
    plan: &Plan,
) -> anyhow::Result<MemoryResult> {
    eprintln!(
        "memory step: tenants of {MEMORY_USERS_PER_TENANT} users each, {MEMORY_PROFILES} profiles"
    );
    let tenants = start_tenants(
        workdir,
        http,
        "tenants-memory",
        MEMORY_USERS_PER_TENANT,
        plan.seed,
    )
    .await?;
    let population = Arc::new(Population::new(&tenants.1, plan.seed)?);
    // Room for every profile (moka may refuse entries at its bound), and a TTL longer than
    // the fill, so the cache holds exactly what was read.
    let cached = GatewayTuning {
        cache: true,
        max_profiles: Some(MEMORY_PROFILES + MEMORY_PROFILES / 5),
        profile_ttl: Some("30m"),
    };
    let uncached = GatewayTuning {
        cache: false,
        ..cached
    };
    let stage = (workdir, http, &tenants.1, &population);
    let cached = fill_gateway(stage, "gateway-memory", cached).await?;
    let uncached = match fill_gateway(stage, "gateway-memory-off", uncached).await {
        Ok(figures) => Some(figures),
        Err(error) => {
            eprintln!("  the cache-off fill failed: {error:#}");
            None
        }
    };
    tenants.0.stop().await;
    Ok(MemoryResult {
        profiles: MEMORY_PROFILES,
        cached,
        uncached,
    })
}

/// Starts a gateway, warms it, sends every fill batch and reads its memory before and after.
async fn fill_gateway(
    (workdir, http, tenants, population): (
        &Path,
        &reqwest::Client,
        &TenantsReady,
        &Arc<Population>,
    ),
    name: &str,
    tuning: GatewayTuning,
) -> anyhow::Result<FillFigures> {
    let (gateway, addr) = start_gateway(workdir, http, name, tenants, tuning).await?;
    let target = Arc::new(Target::new(addr, &tenants.token)?);
    let mut figures = FillFigures::default();
    // Warm the gateway (keys, tokens, connection pools, allocator) on a handful of profiles.
    let w1 = Requests::new(Workload::W1, population.clone())?;
    let mut rng = StdRng::seed_from_u64(3);
    let mut connection = None;
    for i in 0..200 {
        let body = w1.body(&mut rng);
        if let Outcome::Failed(m) | Outcome::Broken(m) =
            target.exchange(&mut connection, body).await
            && i == 0
        {
            eprintln!("  warm-up request failed: {m}");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    figures.rss_before_mb = status_mb(gateway.pid, "VmRSS:");

    let batches = fill_batches(tenants, population)?;
    let started = Instant::now();
    figures.errors = send_batches(&target, batches, 4).await;
    figures.fill = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    figures.rss_after_mb = status_mb(gateway.pid, "VmRSS:");
    figures.peak_rss_mb = status_mb(gateway.pid, "VmHWM:");
    if tuning.cache {
        figures.resident_share = resident_share(http, addr, &target, tenants, population).await;
    }
    gateway.stop().await;
    Ok(figures)
}

/// `MEMORY_PROFILES` users, taken evenly from the tenants, in `users(refs:)` batches of one
/// tenant each (one upstream search per batch or two: the query-length bound splits them).
fn fill_batches(tenants: &TenantsReady, population: &Population) -> anyhow::Result<Vec<Bytes>> {
    let per_tenant = MEMORY_PROFILES.div_ceil(tenants.tenants.len().max(1));
    let mut chosen: Vec<&UserRef> = Vec::with_capacity(MEMORY_PROFILES);
    for tenant in &tenants.tenants {
        chosen.extend(
            population
                .all
                .iter()
                .filter(|u| u.tenant == tenant.id)
                .take(per_tenant),
        );
    }
    chosen.truncate(MEMORY_PROFILES);
    let document = serde_json::to_string(FILL_QUERY)?;
    Ok(chosen
        .chunks(MEMORY_BATCH)
        .map(|refs| fill_body(&document, refs))
        .collect())
}

/// A `users(refs:)` request of `refs`; `document` is the query as a JSON string literal.
fn fill_body(document: &str, refs: &[&UserRef]) -> Bytes {
    let list: Vec<&str> = refs.iter().map(|r| r.json.as_str()).collect();
    Bytes::from(format!(
        r#"{{"operationName":"Fill","query":{document},"variables":{{"refs":[{}]}}}}"#,
        list.join(",")
    ))
}

/// Sends every body over `clients` connections; returns the errors.
pub async fn send_batches(target: &Arc<Target>, bodies: Vec<Bytes>, clients: usize) -> u64 {
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (target, queue) = (target.clone(), queue.clone());
            tokio::spawn(async move {
                let mut connection = None;
                let mut errors = 0;
                loop {
                    let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                    let Some(body) = next else { break };
                    let outcome = target.exchange(&mut connection, body).await;
                    if let Outcome::Failed(m) | Outcome::Broken(m) = &outcome {
                        if errors == 0 {
                            eprintln!("  fill request failed: {m}");
                        }
                        errors += 1;
                    }
                    back_off(&outcome).await;
                }
                errors
            })
        })
        .collect();
    let mut errors = 0;
    for handle in handles {
        errors += handle.await.unwrap_or(1);
    }
    errors
}

/// Reads back a sample of the filled profiles and reports the share the cache answered.
async fn resident_share(
    http: &reqwest::Client,
    addr: SocketAddr,
    target: &Arc<Target>,
    tenants: &TenantsReady,
    population: &Population,
) -> Option<f64> {
    let before = profile_cache_lookups(http, addr).await?;
    let batches = fill_batches(tenants, population).ok()?;
    let mut rng = StdRng::seed_from_u64(11);
    let sample: Vec<Bytes> = batches.choose_multiple(&mut rng, 50).cloned().collect();
    let _ = send_batches(target, sample, 2).await;
    let after = profile_cache_lookups(http, addr).await?;
    let (hits, misses) = (after.0 - before.0, after.1 - before.1);
    (hits + misses > 0.0).then(|| hits / (hits + misses))
}
