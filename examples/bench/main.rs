//! The gateway benchmark: the workloads of docs/ARCHITECTURE.md "Benchmarks" against emulated tenants, with
//! the cache on and off, over real HTTP/1.1 on loopback.
//!
//! ```sh
//! cargo run --release --example bench              # steady run (about 6 minutes on 2 cores)
//! cargo run --release --example bench -- --quick   # short windows (under 5 minutes on 2 cores)
//! ```
//!
//! Flags: `--quick`, `--connections N` (concurrent keep-alive connections, default 32),
//! `--duration S` (measured window of each run), `--warmup S`, `--only W1,W3`,
//! `--cache on|off|both`, `--skip-memory`, `--skip-cost`, `--users N` (per tenant, default
//! 10,000), `--seed S`.
//!
//! # Topology
//! Every part runs in its own process, so its CPU and memory are measured apart; the program
//! starts them by re-executing itself with a hidden `--role`:
//! - `--role tenants`: the three emulated tenants (acme-eu, acme-us, globex) and the operator
//!   issuer of [`tenantgraph::demo::Environment`]; it prints one JSON line (URLs, a global-admin
//!   token, every user id) and serves until its stdin closes.
//! - `--role gateway --config PATH`: the gateway, built by [`tenantgraph::Application`] from a
//!   configuration file this program writes (restarted for each cache variant).
//! - `--role ceiling --body-bytes N`: the same HTTP stack (axum 0.8 + `axum::serve`) answering
//!   `POST /graphql` with a fixed body the size of a W1 answer, without GraphQL or upstream work.
//!
//! This process is the load generator: one hyper HTTP/1.1 connection per virtual client.
//! Children are killed when it exits, panics or is interrupted, and exit by themselves when it
//! dies (their stdin closes). Their logs go to a temporary directory printed at the start.
//!
//! # Workloads (every request is a GraphQL POST with a global-admin bearer token)
//! - W1 profile page: `user(tenant, id)` with 14 scalar fields, ids drawn uniformly from 1,000
//!   hot users spread over the three tenants.
//! - W2 list page: `users(refs:)` with 50 refs drawn from every user of the three tenants.
//! - W3 search: `searchUsers(query:, first: 20)` over the three tenants, the query drawn from a
//!   small realistic set of six. With the cache off, concurrent identical searches still share
//!   one upstream call (the gateway coalesces loads of one key), so upstream calls per request
//!   stay under 3; the emulators' scans are then the bottleneck.
//! - W4 write: `updateUser` setting `userMetadata.bench` on users drawn from another 1,000.
//!
//! # Figures, per workload and cache variant
//! - `rps`: successful answers per second at saturation: a closed loop of `--connections`
//!   clients, each sending its next request when the previous answer arrives, after a warm-up.
//! - `p50_ms`, `p99_ms`: latency of those saturated requests (they include queueing).
//! - `p50_fixed_rate_ms`, `p99_fixed_rate_ms`: latency at a fixed rate of 30% of `rps` (open
//!   loop, requests sent on a schedule). A request that had to wait for its connection's previous
//!   answer is timed from its scheduled send time, so a stall is not hidden (no coordinated
//!   omission); one sent on time is timed from when it left, so tokio's 1 ms timer granularity is
//!   not counted as gateway latency.
//! - `errors`: answers other than HTTP 200, answers with a GraphQL `errors` array, transport
//!   errors and timeouts (10 s), during the measured window. A few are printed.
//! - `upstream_per_req`: Management API calls the tenants received during the measured window
//!   (`GET /__emulator/stats`, token requests excluded) divided by the requests answered.
//! - `rss_mb`: the gateway's peak resident memory so far (`VmHWM`): the gateway runs every
//!   workload of a variant in order, so it is the peak up to and including this workload.
//! - `cpu_gateway`, `cpu_tenants`, `cpu_loadgen`: each process's CPU time during the closed-loop
//!   window as a share of the machine (wall time × cores); they show which one is the bottleneck.
//!   From `/proc/stat`: `cpu_irq` is the kernel's interrupt time (loopback TCP; the part spent
//!   while one of our processes was running is also in that process's share), and `cpu_other`
//!   the rest of the machine's busy time, a lower bound of what other processes took: a run
//!   during a compile measures less than the gateway can do, and the report warns above 10%.
//! - `ceiling_fraction`: `rps` divided by the ceiling's throughput under the same closed loop.
//!
//! Then a memory step fills a fresh gateway's profile cache with 100,000 distinct profiles
//! (`users(refs:)` batches of 100 over tenants of 34,000 users each; `max_profiles` 120,000 and
//! a 30-minute TTL so every profile stays) and reports RSS (`VmRSS`, after 200 warm-up requests,
//! then after the fill), the bytes per profile, the share of a sample answered from the cache,
//! and whether the peak stays under 150 MB. The same fill with the cache off tells how much of
//! the growth is the allocator keeping memory the requests used rather than the cache itself.
//!
//! The cost step tells how the gateway's CPU per request grows: `users(refs:)` of 10, 50, 100
//! and 500 refs over the three tenants, and `searchUsers` over 3, 10 and 30 tenants of 1,000
//! users each (a tenants child with that many), each with the cache on and off, in short closed
//! loops; the figure is the gateway's CPU time over the window divided by the answers.
//!
//! The output is a table, then one JSON line per run, e.g.
//! `{"workload":"W1","cache":"on","rps":…,"p50_ms":…,"p99_ms":…,"upstream_per_req":…,"rss_mb":…}`.
//!
//! The tenants' rate limit is lifted in the gateway's configuration: Auth0's real budget (about
//! 16 calls/s per tenant) would make every cache-off figure measure that budget instead.

mod children;
mod config;
mod cost;
mod load;
mod measure;
mod memory;
mod plan;
mod report;
mod roles;
mod runs;
mod workloads;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};

use crate::children::{start_tenants, work_directory};
use crate::cost::{run_refs_cost, run_tenants_cost};
use crate::load::FIXED_RATE_SHARE;
use crate::memory::run_memory;
use crate::plan::Plan;
use crate::report::{Report, print_report};
use crate::roles::{role_ceiling, role_gateway, role_tenants};
use crate::runs::{run_ceiling, run_variant};
use crate::workloads::{Population, Workload};

#[derive(Parser, Debug)]
#[command(about = "Benchmark tenantgraph against emulated tenants (see the file's doc)")]
struct Cli {
    /// Short windows: finishes within 5 minutes on 2 cores.
    #[arg(long)]
    quick: bool,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured window of each run, in seconds (default 20, or 8 with --quick).
    #[arg(long)]
    duration: Option<f64>,
    /// Warm-up before each measured window, in seconds (default 5, or 3 with --quick).
    #[arg(long)]
    warmup: Option<f64>,
    /// Workloads to run, e.g. `W1,W3` (default all).
    #[arg(long, value_delimiter = ',')]
    only: Vec<Workload>,
    /// Cache variants to run.
    #[arg(long, value_enum, default_value_t = CacheChoice::Both)]
    cache: CacheChoice,
    /// Skip the 100,000-profile memory step.
    #[arg(long)]
    skip_memory: bool,
    /// Users seeded per tenant.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Seed of the tenants and of the request draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, hide = true)]
    role: Option<Role>,
    #[arg(long, hide = true)]
    config: Option<PathBuf>,
    #[arg(long, hide = true, default_value_t = 1_000)]
    body_bytes: usize,
    /// Tenants the tenants role starts.
    #[arg(long, hide = true, default_value_t = 3)]
    tenants: usize,
    /// Skip the cost step (CPU per request by refs and by tenants).
    #[arg(long)]
    skip_cost: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Role {
    Tenants,
    Gateway,
    Ceiling,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CacheChoice {
    On,
    Off,
    Both,
}

impl CacheChoice {
    fn variants(self) -> Vec<bool> {
        match self {
            Self::On => vec![true],
            Self::Off => vec![false],
            Self::Both => vec![true, false],
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // reqwest is built without a TLS provider; it needs one even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.role {
        Some(Role::Tenants) => role_tenants(cli.users, cli.seed, cli.tenants).await,
        Some(Role::Gateway) => {
            let path = cli.config.context("--role gateway needs --config PATH")?;
            role_gateway(&path).await
        }
        Some(Role::Ceiling) => role_ceiling(cli.body_bytes).await,
        None => {
            tokio::select! {
                result = parent(&cli) => result,
                // Dropping the run future drops the children, which kills them.
                () = tenantgraph::shutdown_signal() => {
                    bail!("interrupted: the child processes are stopped")
                }
            }
        }
    }
}

fn control_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(3))
        .build()?)
}

async fn parent(cli: &Cli) -> anyhow::Result<()> {
    let plan = Plan::from_cli(cli)?;
    let started = Instant::now();
    let workdir = work_directory()?;
    let http = control_client()?;
    eprintln!(
        "tenantgraph bench{}: {} connections, warm-up {:?}, window {:?}, fixed rate {:.0}% for {:?}",
        if plan.quick { " --quick" } else { "" },
        plan.connections,
        plan.timing.warmup,
        plan.timing.window,
        FIXED_RATE_SHARE * 100.0,
        plan.timing.fixed_window
    );
    eprintln!("child logs and configuration: {}", workdir.display());

    let mut report = Report::default();
    let tenants = start_tenants(&workdir, &http, "tenants", plan.users, plan.seed).await?;
    eprintln!(
        "tenants ({} users each) and the operator issuer up, pid {}",
        plan.users, tenants.0.pid
    );
    let population = Arc::new(Population::new(&tenants.1, plan.seed)?);
    let mut w1_bytes = None;
    for &cache in &plan.caches {
        let (runs, bytes) =
            run_variant(&workdir, &http, &tenants, &population, &plan, cache).await?;
        report.runs.extend(runs);
        w1_bytes.get_or_insert(bytes);
    }
    if let Some(bytes) = w1_bytes {
        let ceiling = run_ceiling(&workdir, &http, &tenants, &population, &plan, bytes).await?;
        for run in &mut report.runs {
            let ceiling_rps = ceiling.saturated.rps();
            run.ceiling_fraction = (ceiling_rps > 0.0).then(|| run.saturated.rps() / ceiling_rps);
        }
        report.ceiling = Some(ceiling);
    }
    if plan.cost {
        match run_refs_cost(&workdir, &http, &tenants, &population, &plan).await {
            Ok(points) => report.cost.extend(points),
            Err(error) => eprintln!("cost step (refs) failed: {error:#}"),
        }
    }
    tenants.0.stop().await;
    if plan.cost {
        match run_tenants_cost(&workdir, &http, &plan).await {
            Ok(points) => report.cost.extend(points),
            Err(error) => eprintln!("cost step (tenants) failed: {error:#}"),
        }
    }
    if plan.memory {
        match run_memory(&workdir, &http, &plan).await {
            Ok(memory) => report.memory = Some(memory),
            Err(error) => eprintln!("memory step failed: {error:#}"),
        }
    }
    report.elapsed = started.elapsed();
    print_report(&plan, &report);
    Ok(())
}
