//! The cost step: how the gateway's CPU per request grows with the refs of `users(refs:)` and
//! with the tenants a search covers, each with the cache on and off, in short closed loops.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;

use crate::children::{ChildProcess, start_gateway, start_many_tenants};
use crate::config::GatewayTuning;
use crate::load::{Target, saturate};
use crate::measure::CpuSnapshot;
use crate::memory::send_batches;
use crate::plan::{Plan, Timing};
use crate::report::on_off;
use crate::roles::TenantsReady;
use crate::workloads::{Population, Requests, Workload};

/// Refs of the `users(refs:)` points, and tenants of the search points.
pub const REFS: [usize; 4] = [10, 50, 100, 500];
pub const TENANT_COUNTS: [usize; 3] = [3, 10, 30];
/// Users of each tenant of the search points.
const USERS_PER_TENANT: usize = 1_000;

/// One point: what was measured, its size, and the gateway's CPU per answer.
#[derive(Debug)]
pub struct CostPoint {
    /// `refs` or `tenants`.
    pub axis: &'static str,
    pub size: usize,
    pub cache: bool,
    pub rps: f64,
    pub errors: u64,
    pub cpu_ms_per_req: Option<f64>,
}

fn cost_timing(plan: &Plan) -> Timing {
    let (warmup, window) = if plan.quick { (1, 4) } else { (2, 8) };
    Timing {
        warmup: Duration::from_secs(warmup),
        window: Duration::from_secs(window),
        ..plan.timing
    }
}

async fn point(
    axis: &'static str,
    size: usize,
    cache: bool,
    (target, requests, plan): (&Arc<Target>, &Arc<Requests>, &Plan),
    (gateway, tenants): (&ChildProcess, &ChildProcess),
) -> CostPoint {
    let (server, tenants_pid) = (gateway.pid, tenants.pid);
    let (stats, before, after) = saturate(
        target,
        requests,
        plan.connections,
        cost_timing(plan),
        |_| std::future::ready(CpuSnapshot::take(server, tenants_pid)),
    )
    .await;
    let answered = stats.ok + stats.errors;
    let cpu_ms_per_req = after
        .server_seconds_since(&before)
        .filter(|_| answered > 0)
        .map(|seconds| seconds * 1000.0 / answered as f64);
    let point = CostPoint {
        axis,
        size,
        cache,
        rps: stats.rps(),
        errors: stats.errors,
        cpu_ms_per_req,
    };
    eprintln!(
        "  {axis} {size} cache {}: {:.0} req/s, {} ms CPU/req, {} errors",
        on_off(cache),
        point.rps,
        point
            .cpu_ms_per_req
            .map_or_else(|| "-".to_owned(), |c| format!("{c:.3}")),
        point.errors
    );
    for sample in &stats.error_samples {
        eprintln!("    error: {sample}");
    }
    point
}

/// Puts every user of `population` in a cache-on gateway's cache (`users(refs:)` of 100).
async fn prefill(target: &Arc<Target>, population: &Population) -> anyhow::Result<()> {
    let document =
        serde_json::to_string("query Fill($refs: [UserRef!]!) { users(refs: $refs) { id } }")?;
    let bodies: Vec<Bytes> = population
        .all
        .chunks(100)
        .map(|refs| {
            let list: Vec<&str> = refs.iter().map(|r| r.json.as_str()).collect();
            Bytes::from(format!(
                r#"{{"query":{document},"variables":{{"refs":[{}]}}}}"#,
                list.join(",")
            ))
        })
        .collect();
    let errors = send_batches(target, bodies, 4).await;
    if errors > 0 {
        eprintln!("  prefill: {errors} errors");
    }
    Ok(())
}

/// `users(refs:)` of each of [`REFS`] refs, over the main tenants.
pub async fn run_refs_cost(
    workdir: &Path,
    http: &reqwest::Client,
    tenants: &(ChildProcess, TenantsReady),
    population: &Arc<Population>,
    plan: &Plan,
) -> anyhow::Result<Vec<CostPoint>> {
    eprintln!("cost step: users(refs:) of {REFS:?} refs");
    let mut points = Vec::new();
    for &cache in &plan.caches {
        let tuning = GatewayTuning::cache(cache);
        let name = format!("gateway-cost-refs-{}", on_off(cache));
        let (gateway, addr) = start_gateway(workdir, http, &name, &tenants.1, tuning).await?;
        let target = Arc::new(Target::new(addr, &tenants.1.token)?);
        if cache {
            prefill(&target, population).await?;
        }
        for refs in REFS {
            let requests = Arc::new(Requests::with_refs(population.clone(), refs)?);
            let stage = (&target, &requests, plan);
            points.push(point("refs", refs, cache, stage, (&gateway, &tenants.0)).await);
        }
        gateway.stop().await;
    }
    Ok(points)
}

/// `searchUsers` (W3's queries) over each of [`TENANT_COUNTS`] tenants of
/// [`USERS_PER_TENANT`] users.
pub async fn run_tenants_cost(
    workdir: &Path,
    http: &reqwest::Client,
    plan: &Plan,
) -> anyhow::Result<Vec<CostPoint>> {
    let mut points = Vec::new();
    for count in TENANT_COUNTS {
        eprintln!("cost step: searchUsers over {count} tenants of {USERS_PER_TENANT} users");
        let name = format!("tenants-cost-{count}");
        let tenants =
            start_many_tenants(workdir, http, &name, USERS_PER_TENANT, plan.seed, count).await?;
        let population = Arc::new(Population::new(&tenants.1, plan.seed)?);
        let requests = Arc::new(Requests::new(Workload::W3, population)?);
        for &cache in &plan.caches {
            let tuning = GatewayTuning::cache(cache);
            let name = format!("gateway-cost-{count}-{}", on_off(cache));
            let (gateway, addr) = start_gateway(workdir, http, &name, &tenants.1, tuning).await?;
            let target = Arc::new(Target::new(addr, &tenants.1.token)?);
            let stage = (&target, &requests, plan);
            points.push(point("tenants", count, cache, stage, (&gateway, &tenants.0)).await);
            gateway.stop().await;
        }
        tenants.0.stop().await;
    }
    Ok(points)
}
