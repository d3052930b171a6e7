//! One gateway variant through the workloads, and the ceiling server through the same closed
//! loop: the figures of each run and the progress lines printed meanwhile.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use hyper::body::Bytes;
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use crate::children::{ChildProcess, start_ceiling, start_gateway};
use crate::config::GatewayTuning;
use crate::load::{FIXED_RATE_SHARE, LoadStats, Outcome, Target, fixed_rate, saturate};
use crate::measure::{CpuShares, CpuSnapshot, status_mb, upstream_calls};
use crate::plan::{Plan, Timing};
use crate::report::{ms, on_off};
use crate::roles::TenantsReady;
use crate::workloads::{Population, Requests, SEARCHES, Workload, search_body};

/// One workload against one gateway variant.
#[derive(Debug)]
pub struct RunResult {
    pub workload: Workload,
    pub cache: bool,
    pub saturated: LoadStats,
    pub fixed: Option<LoadStats>,
    pub upstream_per_req: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    pub rss_mb: Option<f64>,
    pub cpu: CpuShares,
    pub ceiling_fraction: Option<f64>,
}

/// The ceiling server's run.
#[derive(Debug)]
pub struct CeilingResult {
    pub body_bytes: usize,
    pub saturated: LoadStats,
    pub cpu: CpuShares,
}

/// What a run needs to reach the processes.
struct Stage<'a> {
    http: &'a reqwest::Client,
    tenants: &'a TenantsReady,
    tenants_pid: u32,
    server_pid: u32,
    connections: usize,
    timing: Timing,
}

async fn run_workload(
    stage: &Stage<'_>,
    target: &Arc<Target>,
    requests: &Arc<Requests>,
    cache: bool,
) -> RunResult {
    let (saturated, (calls_before, cpu_before), (calls_after, cpu_after)) = saturate(
        target,
        requests,
        stage.connections,
        stage.timing,
        |opening| async move {
            // Reading the tenants' counters takes a few ms: the CPU snapshot is taken after it
            // when the window opens and before it when it closes, so both cover the window.
            if opening {
                let calls = upstream_calls(stage.http, stage.tenants).await;
                (
                    calls,
                    CpuSnapshot::take(stage.server_pid, stage.tenants_pid),
                )
            } else {
                let cpu = CpuSnapshot::take(stage.server_pid, stage.tenants_pid);
                (upstream_calls(stage.http, stage.tenants).await, cpu)
            }
        },
    )
    .await;
    let answered = (saturated.ok + saturated.errors) as f64;
    let upstream_per_req = match (calls_before, calls_after) {
        (Some(before), Some(after)) if answered > 0.0 => {
            Some(after.saturating_sub(before) as f64 / answered)
        }
        _ => None,
    };
    let cpu = CpuShares::between(cpu_before, cpu_after);
    let rate = saturated.rps() * FIXED_RATE_SHARE;
    let fixed = if rate > 0.0 {
        Some(fixed_rate(target, requests, stage.connections, rate, stage.timing).await)
    } else {
        None
    };
    RunResult {
        workload: requests.workload,
        cache,
        saturated,
        fixed,
        upstream_per_req,
        peak_rss_mb: status_mb(stage.server_pid, "VmHWM:"),
        rss_mb: status_mb(stage.server_pid, "VmRSS:"),
        cpu,
        ceiling_fraction: None,
    }
}

/// Sends one request of each kind before measuring, so a broken workload is reported clearly
/// rather than as a table of errors; returns the mean size of a W1 answer.
async fn probe(target: &Target, population: &Arc<Population>) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut connection = None;
    let w1 = Requests::new(Workload::W1, population.clone())?;
    let mut sizes = Vec::new();
    for _ in 0..20 {
        match target.exchange(&mut connection, w1.body(&mut rng)).await {
            Outcome::Ok { bytes } => sizes.push(bytes),
            Outcome::Failed(message) | Outcome::Broken(message) => {
                eprintln!("  probe W1 failed: {message}");
            }
        }
    }
    for workload in [Workload::W2, Workload::W4] {
        let requests = Requests::new(workload, population.clone())?;
        if let Outcome::Failed(message) | Outcome::Broken(message) = target
            .exchange(&mut connection, requests.body(&mut rng))
            .await
        {
            eprintln!("  probe {} failed: {message}", workload.name());
        }
    }
    for query in SEARCHES {
        let body = Bytes::from(search_body(query)?);
        if let Outcome::Failed(message) | Outcome::Broken(message) =
            target.exchange(&mut connection, body).await
        {
            eprintln!("  probe W3 `{query}` failed: {message}");
        }
    }
    if sizes.is_empty() {
        bail!("no W1 request succeeded; see the messages above");
    }
    let mean = sizes.iter().sum::<usize>() / sizes.len();
    // A profile with a dozen fields is several hundred bytes; `{"data":{"user":null}}` is not.
    if mean < 100 {
        eprintln!("  WARNING: W1 answers are {mean} bytes: are the users null (out of scope)?");
    }
    Ok(mean)
}

fn progress_line(run: &RunResult) -> String {
    let fixed = run.fixed.as_ref().map_or_else(String::new, |f| {
        format!(
            ", at {:.0}/s p50 {:.2} ms p99 {:.2} ms",
            f.rps(),
            ms(f.p50),
            ms(f.p99)
        )
    });
    format!(
        "  {} cache {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms{fixed}, {} errors",
        run.workload.name(),
        on_off(run.cache),
        run.saturated.rps(),
        ms(run.saturated.p50),
        ms(run.saturated.p99),
        run.saturated.errors + run.fixed.as_ref().map_or(0, |f| f.errors),
    )
}

fn print_error_samples(what: &str, stats: &LoadStats) {
    for sample in &stats.error_samples {
        eprintln!("    {what} error: {sample}");
    }
}

pub async fn run_variant(
    workdir: &Path,
    http: &reqwest::Client,
    tenants: &(ChildProcess, TenantsReady),
    population: &Arc<Population>,
    plan: &Plan,
    cache: bool,
) -> anyhow::Result<(Vec<RunResult>, usize)> {
    let tuning = GatewayTuning::cache(cache);
    let name = format!("gateway-cache-{}", on_off(cache));
    let (gateway, addr) = start_gateway(workdir, http, &name, &tenants.1, tuning).await?;
    eprintln!(
        "gateway (cache {}) on {addr}, pid {}",
        on_off(cache),
        gateway.pid
    );
    let target = Arc::new(Target::new(addr, &tenants.1.token)?);
    let w1_bytes = probe(&target, population).await?;
    let stage = Stage {
        http,
        tenants: &tenants.1,
        tenants_pid: tenants.0.pid,
        server_pid: gateway.pid,
        connections: plan.connections,
        timing: plan.timing,
    };
    let mut runs = Vec::new();
    for &workload in &plan.workloads {
        let requests = Arc::new(Requests::new(workload, population.clone())?);
        let run = run_workload(&stage, &target, &requests, cache).await;
        eprintln!("{}", progress_line(&run));
        print_error_samples("saturated", &run.saturated);
        if let Some(fixed) = &run.fixed {
            print_error_samples("fixed-rate", fixed);
        }
        runs.push(run);
    }
    gateway.stop().await;
    Ok((runs, w1_bytes))
}

pub async fn run_ceiling(
    workdir: &Path,
    http: &reqwest::Client,
    tenants: &(ChildProcess, TenantsReady),
    population: &Arc<Population>,
    plan: &Plan,
    body_bytes: usize,
) -> anyhow::Result<CeilingResult> {
    let (ceiling, addr) = start_ceiling(workdir, http, body_bytes).await?;
    eprintln!(
        "ceiling server ({body_bytes}-byte answers) on {addr}, pid {}",
        ceiling.pid
    );
    let target = Arc::new(Target::new(addr, &tenants.1.token)?);
    // The same request bodies as W1, so reading the request costs the same.
    let requests = Arc::new(Requests::new(Workload::W1, population.clone())?);
    let (server_pid, tenants_pid) = (ceiling.pid, tenants.0.pid);
    let (saturated, before, after) =
        saturate(&target, &requests, plan.connections, plan.timing, |_| {
            std::future::ready(CpuSnapshot::take(server_pid, tenants_pid))
        })
        .await;
    let cpu = CpuShares::between(before, after);
    eprintln!(
        "  ceiling: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        saturated.rps(),
        ms(saturated.p50),
        ms(saturated.p99),
        saturated.errors
    );
    print_error_samples("ceiling", &saturated);
    ceiling.stop().await;
    Ok(CeilingResult {
        body_bytes,
        saturated,
        cpu,
    })
}
