//! The gateway benchmark: the workloads of DESIGN.md "Benchmarks" against emulated tenants, with
//! the cache on and off, over real HTTP/1.1 on loopback.
//!
//! ```sh
//! cargo run --release --example bench              # steady run (about 6 minutes on 2 cores)
//! cargo run --release --example bench -- --quick   # short windows (under 5 minutes on 2 cores)
//! ```
//!
//! Flags: `--quick`, `--connections N` (concurrent keep-alive connections, default 32),
//! `--duration S` (measured window of each run), `--warmup S`, `--only W1,W3`,
//! `--cache on|off|both`, `--skip-memory`, `--users N` (per tenant, default 10,000), `--seed S`.
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
//! The output is a table, then one JSON line per run, e.g.
//! `{"workload":"W1","cache":"on","rps":…,"p50_ms":…,"p99_ms":…,"upstream_per_req":…,"rss_mb":…}`.
//!
//! The tenants' rate limit is lifted in the gateway's configuration: Auth0's real budget (about
//! 16 calls/s per tenant) would make every cache-off figure measure that budget instead.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpStream;

use tenantgraph::demo::{ALL_PERMISSIONS, AUDIENCE, Environment, TENANTS, TENANTS_CLAIM};

/// The emulators' default Management API client (see the tenant-emulator README).
const CLIENT_ID: &str = "tenantgraph";
const CLIENT_SECRET: &str = "tenantgraph-secret";
/// The variable through which the gateway child receives the client secret.
const SECRET_VARIABLE: &str = "TENANTGRAPH_BENCH_SECRET";
/// A request taking longer is counted as an error and its connection replaced.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a child may take to start (34,000 users × 3 tenants seed in a few seconds).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// The fixed-rate phase runs at this fraction of the measured saturation throughput.
const FIXED_RATE_SHARE: f64 = 0.3;
/// Linux reports process CPU times in clock ticks of 1/100 s (USER_HZ, fixed by the ABI).
const TICKS_PER_SECOND: f64 = 100.0;
const HOT_USERS: usize = 1_000;
const W2_REFS: usize = 50;
/// The memory step: cached profiles, users per tenant needed to have that many, batch size.
const MEMORY_PROFILES: usize = 100_000;
const MEMORY_USERS_PER_TENANT: usize = 34_000;
const MEMORY_BATCH: usize = 100;
const MEMORY_TARGET_MB: f64 = 150.0;

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
const FILL_QUERY: &str = "query Fill($refs: [UserRef!]!) { users(refs: $refs) { id } }";
/// What an admin portal searches for; the seed's plans are free, pro and enterprise.
const SEARCHES: [&str; 6] = [
    "email_verified:false",
    "app_metadata.plan:\"pro\"",
    "name:a*",
    "logins_count:[10 TO *]",
    "blocked:true",
    "app_metadata.plan:\"enterprise\" AND email_verified:true",
];
/// The per-caller request budget, lifted (a `[limits]` key of newer gateways).
const LIFTED_CALLER_RATE: &str = "caller_rate = { per_second = 1000000.0, burst = 1000000 }";
/// Proxy settings would send the children's loopback calls elsewhere.
const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

// ------------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------------

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Workload {
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
    const ALL: [Self; 4] = [Self::W1, Self::W2, Self::W3, Self::W4];

    fn name(self) -> &'static str {
        match self {
            Self::W1 => "W1",
            Self::W2 => "W2",
            Self::W3 => "W3",
            Self::W4 => "W4",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::W1 => "profile page: user(tenant,id), 14 fields, 1,000 hot users",
            Self::W2 => "list page: users(refs:) of 50 refs over all users of 3 tenants",
            Self::W3 => "search: searchUsers(query:, first: 20) over 3 tenants",
            Self::W4 => "write: updateUser userMetadata.bench on 1,000 users",
        }
    }
}

/// Windows of one run.
#[derive(Clone, Copy, Debug)]
struct Timing {
    warmup: Duration,
    window: Duration,
    fixed_warmup: Duration,
    fixed_window: Duration,
}

impl Timing {
    fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        let (warmup, window) = if cli.quick { (3.0, 8.0) } else { (5.0, 20.0) };
        let warmup = cli.warmup.unwrap_or(warmup);
        let window = cli.duration.unwrap_or(window);
        if !(warmup >= 0.0 && window > 0.0 && window.is_finite() && warmup.is_finite()) {
            bail!("--duration must be positive and --warmup not negative");
        }
        // The fixed-rate phase follows a saturated one: the gateway is warm already.
        Ok(Self {
            warmup: Duration::from_secs_f64(warmup),
            window: Duration::from_secs_f64(window),
            fixed_warmup: Duration::from_secs(1),
            fixed_window: Duration::from_secs_f64((window * 0.625).max(2.0)),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // reqwest is built without a TLS provider; it needs one even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.role {
        Some(Role::Tenants) => role_tenants(cli.users, cli.seed).await,
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

// ------------------------------------------------------------------------------------------
// Child roles
// ------------------------------------------------------------------------------------------

/// What the tenants child tells the parent, as one JSON line on stdout.
#[derive(Debug, Serialize, Deserialize)]
struct TenantsReady {
    tenants: Vec<TenantInfo>,
    operator_issuer: String,
    operator_jwks_url: String,
    /// A global admin's token: every permission, every tenant.
    token: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct TenantInfo {
    id: String,
    name: String,
    domain: String,
    base_url: String,
    /// Every user id of the tenant, in user-id order.
    users: Vec<String>,
}

/// What the gateway and ceiling children print once listening.
#[derive(Debug, Serialize, Deserialize)]
struct ServerReady {
    addr: SocketAddr,
}

fn init_child_logs(filter: &str) {
    // stdout carries the ready line; logs go to stderr, which the parent sends to a file.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Completes when the parent closes our stdin (it exited or is done with us) or on a signal.
async fn until_released() {
    // A plain thread rather than tokio's stdin (a feature the workspace does not enable); it
    // ends with the process.
    let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = closed.send(());
    });
    tokio::select! {
        _ = stdin_closed => {}
        () = tenantgraph::shutdown_signal() => {}
    }
}

#[allow(clippy::print_stdout)]
fn announce(ready: &impl Serialize) -> anyhow::Result<()> {
    use std::io::Write as _;
    let line = serde_json::to_string(ready)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

/// Exits without waiting for the runtime: tokio's stdin reader is a blocking thread that would
/// keep a signalled child alive.
fn exit_child(result: anyhow::Result<()>) -> ! {
    let code = match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("error: {error:#}");
            1
        }
    };
    std::process::exit(code)
}

async fn role_tenants(users: usize, seed: u64) -> anyhow::Result<()> {
    init_child_logs("warn");
    let result = async {
        let environment = Environment::start(users, seed, |_| {}).await?;
        let token = environment
            .operator_token("Bench Admin", &ALL_PERMISSIONS, json!("*"), None)
            .await?;
        let tenants = environment
            .tenants
            .iter()
            .map(|handle| {
                let name = TENANTS
                    .iter()
                    .find(|(id, _)| *id == handle.tenant())
                    .map_or(handle.tenant(), |(_, name)| name);
                TenantInfo {
                    id: handle.tenant().to_owned(),
                    name: name.to_owned(),
                    domain: handle.domain().to_owned(),
                    base_url: handle.base_url(),
                    users: handle
                        .control()
                        .users(users, 0)
                        .users
                        .into_iter()
                        .map(|u| u.user_id)
                        .collect(),
                }
            })
            .collect();
        announce(&TenantsReady {
            tenants,
            operator_issuer: environment.operators.issuer(),
            operator_jwks_url: format!(
                "{}/.well-known/jwks.json",
                environment.operators.base_url()
            ),
            token,
        })?;
        until_released().await;
        Ok(())
    }
    .await;
    exit_child(result)
}

async fn role_gateway(config: &Path) -> anyhow::Result<()> {
    let result = async {
        let config = tenantgraph::Config::load(Some(config))?;
        init_child_logs(&config.log.filter);
        let app = tenantgraph::Application::build(config).await?;
        announce(&ServerReady {
            addr: app.local_addr(),
        })?;
        app.run_until_stopped(until_released()).await?;
        Ok(())
    }
    .await;
    exit_child(result)
}

/// A JSON body of exactly `size` bytes (or the smallest valid one), shaped like a W1 answer.
fn ceiling_body(size: usize) -> Bytes {
    let (head, tail) = (r#"{"data":{"user":{"id":"ceiling","pad":""#, r#""}}}"#);
    let pad = size.saturating_sub(head.len() + tail.len());
    Bytes::from(format!("{head}{}{tail}", "x".repeat(pad)))
}

async fn role_ceiling(body_bytes: usize) -> anyhow::Result<()> {
    use axum::routing::{get, post};
    init_child_logs("warn");
    let result = async {
        let body = ceiling_body(body_bytes);
        // Reads the request body, as the gateway's handler does, and answers the fixed body.
        let answer = move |_request: Bytes| {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        };
        let router = axum::Router::new()
            .route("/graphql", post(answer))
            .route("/healthz", get(|| async { "ok" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        announce(&ServerReady {
            addr: listener.local_addr()?,
        })?;
        axum::serve(listener, router)
            .with_graceful_shutdown(until_released())
            .await?;
        Ok(())
    }
    .await;
    exit_child(result)
}

// ------------------------------------------------------------------------------------------
// Child processes, seen from the parent
// ------------------------------------------------------------------------------------------

/// A child started from this executable; killed when dropped (also on a panic or Ctrl-C,
/// which drop the run). std's process API: tokio's is a feature the workspace does not enable.
struct ChildProcess {
    name: String,
    child: std::process::Child,
    pid: u32,
    log: PathBuf,
}

impl ChildProcess {
    /// Starts `current_exe args…` and waits for its JSON ready line on stdout.
    async fn start<T: DeserializeOwned>(
        workdir: &Path,
        name: &str,
        args: &[String],
        envs: &[(&str, &str)],
    ) -> anyhow::Result<(Self, T)> {
        let exe = std::env::current_exe().context("finding this executable")?;
        let log = workdir.join(format!("{name}.log"));
        let log_file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = std::process::Command::new(exe);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        for variable in PROXY_VARIABLES {
            command.env_remove(variable);
        }
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting the {name} process"))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("the child has no stdout")?;
        let mut process = Self {
            name: name.to_owned(),
            child,
            pid,
            log,
        };
        let ready = process.read_ready(stdout).await?;
        Ok((process, ready))
    }

    async fn read_ready<T: DeserializeOwned>(
        &mut self,
        stdout: std::process::ChildStdout,
    ) -> anyhow::Result<T> {
        // A blocking read on a thread; killing the child on failure closes the pipe and ends it.
        let reading = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                .map(|_| line)
        });
        let line = match tokio::time::timeout(START_TIMEOUT, reading).await {
            Err(_) => bail!(
                "the {} process was not ready within {START_TIMEOUT:?}; its log: {}",
                self.name,
                self.log.display()
            ),
            Ok(Err(error)) => bail!("reading the {} process's output: {error}", self.name),
            Ok(Ok(Err(error))) => bail!("reading the {} process's output: {error}", self.name),
            Ok(Ok(Ok(line))) if line.trim().is_empty() => {
                // Give it a moment to finish writing its log before quoting it.
                let status = self.wait_exit(Duration::from_secs(2)).await;
                bail!(
                    "the {} process exited before it was ready ({status:?}); the end of its \
                     log {}:\n{}",
                    self.name,
                    self.log.display(),
                    log_tail(&self.log)
                )
            }
            Ok(Ok(Ok(line))) => line,
        };
        serde_json::from_str(&line).with_context(|| {
            let start: String = line.chars().take(200).collect();
            format!(
                "the {} process's ready line is not what was expected: {start}",
                self.name
            )
        })
    }

    /// Polls for the child's exit for up to `limit`; `None` if it still runs.
    async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => return None,
            }
        }
    }

    /// Closes its stdin (the child's signal to stop) and waits a little, then kills it.
    async fn stop(mut self) {
        drop(self.child.stdin.take());
        if self.wait_exit(Duration::from_secs(5)).await.is_none() {
            eprintln!("  the {} process did not stop; killing it", self.name);
        }
        // Drop kills it if it still runs.
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Polls `url` until it answers 2xx, or fails naming `what` after `limit`.
async fn wait_ready(
    http: &reqwest::Client,
    what: &str,
    url: &str,
    limit: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let answer = http.get(url).timeout(Duration::from_secs(2)).send().await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what} did not answer {url} within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_tenants(
    workdir: &Path,
    http: &reqwest::Client,
    name: &str,
    users: usize,
    seed: u64,
) -> anyhow::Result<(ChildProcess, TenantsReady)> {
    let args = [
        "--role".to_owned(),
        "tenants".to_owned(),
        "--users".to_owned(),
        users.to_string(),
        "--seed".to_owned(),
        seed.to_string(),
    ];
    let (process, ready): (ChildProcess, TenantsReady) =
        ChildProcess::start(workdir, name, &args, &[]).await?;
    for tenant in &ready.tenants {
        let url = format!("{}/__emulator/stats", tenant.base_url);
        wait_ready(http, &format!("tenant {}", tenant.id), &url, START_TIMEOUT).await?;
    }
    Ok((process, ready))
}

/// The gateway settings a run changes.
#[derive(Clone, Copy, Debug)]
struct GatewayTuning {
    cache: bool,
    max_profiles: Option<usize>,
    profile_ttl: Option<&'static str>,
}

async fn start_gateway(
    workdir: &Path,
    http: &reqwest::Client,
    name: &str,
    tenants: &TenantsReady,
    tuning: GatewayTuning,
) -> anyhow::Result<(ChildProcess, SocketAddr)> {
    let path = workdir.join(format!("{name}.toml"));
    std::fs::write(&path, gateway_toml(tenants, tuning)?)
        .with_context(|| format!("writing {}", path.display()))?;
    let args = [
        "--role".to_owned(),
        "gateway".to_owned(),
        "--config".to_owned(),
        path.display().to_string(),
    ];
    let envs = [(SECRET_VARIABLE, CLIENT_SECRET)];
    let (process, ready): (ChildProcess, ServerReady) =
        ChildProcess::start(workdir, name, &args, &envs).await?;
    let url = format!("http://{}/healthz", ready.addr);
    wait_ready(http, "the gateway", &url, START_TIMEOUT).await?;
    Ok((process, ready.addr))
}

async fn start_ceiling(
    workdir: &Path,
    http: &reqwest::Client,
    body_bytes: usize,
) -> anyhow::Result<(ChildProcess, SocketAddr)> {
    let args = [
        "--role".to_owned(),
        "ceiling".to_owned(),
        "--body-bytes".to_owned(),
        body_bytes.to_string(),
    ];
    let (process, ready): (ChildProcess, ServerReady) =
        ChildProcess::start(workdir, "ceiling", &args, &[]).await?;
    let url = format!("http://{}/healthz", ready.addr);
    wait_ready(http, "the ceiling server", &url, START_TIMEOUT).await?;
    Ok((process, ready.addr))
}

/// A TOML basic string: JSON's escapes for `"`, `\` and control characters are TOML's too.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The gateway's configuration file: the emulated tenants, the operator issuer, a `warn` log,
/// and no rate limit (the emulators have none; Auth0's 16/s would be the only thing measured).
/// The per-caller budget, where the gateway has one, is lifted too: every request of the
/// benchmark comes from one caller. The file is checked with the gateway's own `Config` first.
fn gateway_toml(tenants: &TenantsReady, tuning: GatewayTuning) -> anyhow::Result<String> {
    let secret = |_: &str| Some(CLIENT_SECRET.to_owned());
    let lifted = gateway_toml_with(tenants, tuning, LIFTED_CALLER_RATE);
    match tenantgraph::Config::from_toml(&lifted, secret) {
        Ok(_) => Ok(lifted),
        // A gateway without a per-caller budget refuses the key: leave it out.
        Err(error) if error.to_string().contains("caller_rate") => {
            let plain = gateway_toml_with(tenants, tuning, "");
            tenantgraph::Config::from_toml(&plain, secret)
                .context("the benchmark's gateway configuration is refused")?;
            Ok(plain)
        }
        Err(error) => Err(error).context("the benchmark's gateway configuration is refused"),
    }
}

fn gateway_toml_with(tenants: &TenantsReady, tuning: GatewayTuning, limits: &str) -> String {
    let mut toml = String::new();
    let _ = writeln!(
        toml,
        "[server]\nlisten = \"127.0.0.1:0\"\ngraphiql = false\n"
    );
    let _ = writeln!(
        toml,
        "[auth]\naudience = {}\noperator_issuer = {}\noperator_jwks_url = {}\ntenants_claim = {}\n",
        toml_string(AUDIENCE),
        toml_string(&tenants.operator_issuer),
        toml_string(&tenants.operator_jwks_url),
        toml_string(TENANTS_CLAIM),
    );
    let _ = writeln!(toml, "[cache]\nenabled = {}", tuning.cache);
    if let Some(max) = tuning.max_profiles {
        let _ = writeln!(toml, "max_profiles = {max}");
    }
    if let Some(ttl) = tuning.profile_ttl {
        let _ = writeln!(toml, "profile_ttl = {}", toml_string(ttl));
    }
    let _ = writeln!(toml, "\n[log]\nfilter = \"warn\"\n");
    if !limits.is_empty() {
        let _ = writeln!(toml, "[limits]\n{limits}\n");
    }
    for tenant in &tenants.tenants {
        let _ = writeln!(
            toml,
            "[[tenants]]\nid = {}\nname = {}\ndomain = {}\nbase_url = {}\nclient_id = {}\n\
             client_secret_env = {}\nrate_limit = {{ per_second = 1000000.0, burst = 1000000 }}\n",
            toml_string(&tenant.id),
            toml_string(&tenant.name),
            toml_string(&tenant.domain),
            toml_string(&tenant.base_url),
            toml_string(CLIENT_ID),
            toml_string(SECRET_VARIABLE),
        );
    }
    toml
}

/// A directory for the children's logs and configuration, kept after the run for inspection.
fn work_directory() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tenantgraph-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

// ------------------------------------------------------------------------------------------
// /proc readings and emulator statistics
// ------------------------------------------------------------------------------------------

/// User + system CPU time of `pid` in clock ticks (`/proc/<pid>/stat`, fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' start at field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` line of `/proc/<pid>/status` (`VmHWM`, `VmRSS`), in MB.
fn status_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Clock ticks of the whole machine from the first line of `/proc/stat` (user nice system idle
/// iowait irq softirq steal).
#[derive(Clone, Copy, Debug)]
struct MachineTicks {
    busy: u64,
    /// Interrupt work, mostly loopback TCP at high request rates; the part done while a process
    /// was running is also in that process's time.
    interrupts: u64,
    total: u64,
}

fn machine_ticks() -> Option<MachineTicks> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let values: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = values.iter().sum();
    let idle = values.get(3)? + values.get(4)?;
    Some(MachineTicks {
        busy: total.saturating_sub(idle),
        interrupts: values.get(5)? + values.get(6)?,
        total,
    })
}

/// CPU counters of the three processes and of the machine at one instant.
#[derive(Clone, Copy, Debug)]
struct CpuSnapshot {
    at: Instant,
    server: Option<u64>,
    tenants: Option<u64>,
    loadgen: Option<u64>,
    machine: Option<MachineTicks>,
}

impl CpuSnapshot {
    fn take(server: u32, tenants: u32) -> Self {
        Self {
            at: Instant::now(),
            server: cpu_ticks(server),
            tenants: cpu_ticks(tenants),
            loadgen: cpu_ticks(std::process::id()),
            machine: machine_ticks(),
        }
    }
}

/// Each process's share of the machine between two snapshots (1.0 = every core busy), the
/// kernel's interrupt work, and the rest of the busy time: at least what the machine's other
/// processes (a compiler, say) took. Figures measured while that is high are not the best.
#[derive(Clone, Copy, Debug, Default)]
struct CpuShares {
    server: Option<f64>,
    tenants: Option<f64>,
    loadgen: Option<f64>,
    interrupts: Option<f64>,
    other: Option<f64>,
}

impl CpuShares {
    fn between(before: CpuSnapshot, after: CpuSnapshot) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
        let capacity = after.at.duration_since(before.at).as_secs_f64() * cores;
        let share = |a: Option<u64>, b: Option<u64>| {
            let ticks = b?.checked_sub(a?)?;
            (capacity > 0.0).then(|| ticks as f64 / TICKS_PER_SECOND / capacity)
        };
        let (server, tenants, loadgen) = (
            share(before.server, after.server),
            share(before.tenants, after.tenants),
            share(before.loadgen, after.loadgen),
        );
        let (busy, interrupts) = match (before.machine, after.machine) {
            (Some(m0), Some(m1)) if m1.total > m0.total => {
                let total = (m1.total - m0.total) as f64;
                (
                    Some(m1.busy.saturating_sub(m0.busy) as f64 / total),
                    Some(m1.interrupts.saturating_sub(m0.interrupts) as f64 / total),
                )
            }
            _ => (None, None),
        };
        let other =
            busy.and_then(|b| Some((b - interrupts? - server? - tenants? - loadgen?).max(0.0)));
        Self {
            server,
            tenants,
            loadgen,
            interrupts,
            other,
        }
    }
}

/// Management API calls the tenants received so far (token requests excluded).
async fn upstream_calls(http: &reqwest::Client, tenants: &TenantsReady) -> Option<u64> {
    let mut total = 0;
    for tenant in &tenants.tenants {
        let stats: tenant_emulator::Stats = http
            .get(format!("{}/__emulator/stats", tenant.base_url))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let tokens = stats.routes.get("POST /oauth/token").copied().unwrap_or(0);
        total += stats.total.saturating_sub(tokens);
    }
    Some(total)
}

/// The gateway's profile-cache (hits, misses) counters from `/metrics`.
async fn profile_cache_lookups(http: &reqwest::Client, gateway: SocketAddr) -> Option<(f64, f64)> {
    let text = http
        .get(format!("http://{gateway}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let counter = |result: &str| -> f64 {
        text.lines()
            .filter(|l| {
                l.starts_with("tenantgraph_cache_requests")
                    && l.contains("cache=\"profiles\"")
                    && l.contains(&format!("result=\"{result}\""))
            })
            .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
            .sum()
    };
    Some((counter("hit"), counter("miss")))
}

// ------------------------------------------------------------------------------------------
// Requests
// ------------------------------------------------------------------------------------------

/// One user, and its `{"tenant":…,"id":…}` JSON, serialised once.
#[derive(Debug)]
struct UserRef {
    tenant: String,
    json: String,
}

/// The users the workloads draw from.
#[derive(Debug)]
struct Population {
    all: Vec<UserRef>,
    /// Indexes into `all`: W1's hot users and W4's write targets (disjoint).
    hot: Vec<usize>,
    writes: Vec<usize>,
}

impl Population {
    fn new(tenants: &TenantsReady, seed: u64) -> anyhow::Result<Self> {
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
struct Requests {
    workload: Workload,
    population: Arc<Population>,
    /// The workload's document as a JSON string literal, serialised once.
    document: String,
    searches: Vec<Bytes>,
    writes: AtomicU64,
}

impl Requests {
    fn new(workload: Workload, population: Arc<Population>) -> anyhow::Result<Self> {
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
        })
    }

    fn body(&self, rng: &mut StdRng) -> Bytes {
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
                let mut refs = String::with_capacity(W2_REFS * 64);
                for i in 0..W2_REFS {
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

fn search_body(query: &str) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&json!({
        "operationName": "Search",
        "query": W3_QUERY,
        "variables": {"query": query},
    }))?)
}

/// A `users(refs:)` request of `refs`; `document` is the query as a JSON string literal.
fn fill_body(document: &str, refs: &[&UserRef]) -> Bytes {
    let list: Vec<&str> = refs.iter().map(|r| r.json.as_str()).collect();
    Bytes::from(format!(
        r#"{{"operationName":"Fill","query":{document},"variables":{{"refs":[{}]}}}}"#,
        list.join(",")
    ))
}

// ------------------------------------------------------------------------------------------
// The load generator
// ------------------------------------------------------------------------------------------

type Sender = http1::SendRequest<Full<Bytes>>;

/// Where requests go, with the headers every request carries.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    host: HeaderValue,
    authorization: HeaderValue,
}

impl Target {
    fn new(addr: SocketAddr, token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))?,
        })
    }

    /// Sends one request on `connection` (opening one if needed) and judges the answer. A
    /// broken or timed-out connection is dropped, to be replaced by the next request.
    async fn exchange(&self, connection: &mut Option<Sender>, body: Bytes) -> Outcome {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.try_exchange(connection, body)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => {
                *connection = None;
                Outcome::Broken(format!("transport: {error:#}"))
            }
            Err(_) => {
                *connection = None;
                Outcome::Broken(format!("no answer within {REQUEST_TIMEOUT:?}"))
            }
        }
    }

    async fn try_exchange(
        &self,
        connection: &mut Option<Sender>,
        body: Bytes,
    ) -> anyhow::Result<Outcome> {
        if connection.is_none() {
            *connection = Some(connect(self.addr).await?);
        }
        let sender = connection.as_mut().context("no connection")?;
        sender.ready().await?;
        let request = Request::builder()
            .method(Method::POST)
            .uri("/graphql")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, self.authorization.clone())
            .body(Full::new(body))?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(judge(status, &body))
    }
}

async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    // Drives the connection until either side closes it.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

#[derive(Debug)]
enum Outcome {
    Ok {
        bytes: usize,
    },
    /// An answer that is not a success.
    Failed(String),
    /// No answer: the connection is gone.
    Broken(String),
}

fn judge(status: StatusCode, body: &[u8]) -> Outcome {
    let snippet = || {
        let text = String::from_utf8_lossy(body);
        text.chars().take(300).collect::<String>()
    };
    if status != StatusCode::OK {
        return Outcome::Failed(format!("HTTP {status}: {}", snippet()));
    }
    // A byte search, not a parse: the load generator shares the CPU with the gateway.
    if contains(body, b"\"errors\":") {
        return Outcome::Failed(format!("GraphQL errors: {}", snippet()));
    }
    Outcome::Ok { bytes: body.len() }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What one virtual client saw while its results counted.
#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    errors: u64,
    /// Latency of each successful request, in nanoseconds.
    latencies: Vec<u64>,
    error_samples: Vec<String>,
}

impl Tally {
    fn record(&mut self, outcome: &Outcome, latency: Duration) {
        match outcome {
            Outcome::Ok { .. } => {
                self.ok += 1;
                self.latencies
                    .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
            }
            Outcome::Failed(message) | Outcome::Broken(message) => {
                self.errors += 1;
                if self.error_samples.len() < 3 {
                    self.error_samples.push(message.clone());
                }
            }
        }
    }

    fn merge(&mut self, other: Self) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies.extend(other.latencies);
        for sample in other.error_samples {
            if self.error_samples.len() < 5 && !self.error_samples.contains(&sample) {
                self.error_samples.push(sample);
            }
        }
    }
}

/// After a broken connection, wait before reconnecting so a dead server is not spun on.
async fn back_off(outcome: &Outcome) {
    if matches!(outcome, Outcome::Broken(_)) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The summary of one load phase.
#[derive(Debug, Clone, Default)]
struct LoadStats {
    ok: u64,
    errors: u64,
    window: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
    error_samples: Vec<String>,
}

impl LoadStats {
    fn from_tally(mut tally: Tally, window: Duration) -> Self {
        tally.latencies.sort_unstable();
        let at = |q: f64| Duration::from_nanos(percentile(&tally.latencies, q));
        Self {
            ok: tally.ok,
            errors: tally.errors,
            window,
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            error_samples: tally.error_samples,
        }
    }

    fn rps(&self) -> f64 {
        let seconds = self.window.as_secs_f64();
        if seconds > 0.0 {
            self.ok as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Nearest-rank percentile of sorted values; 0 when there are none.
fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPING: u8 = 2;

/// Waits for the clients, abandoning those still stuck on a request after `limit`.
async fn collect(handles: Vec<tokio::task::JoinHandle<Tally>>, limit: Duration) -> Tally {
    let mut total = Tally::default();
    let deadline = tokio::time::Instant::now() + limit;
    for mut handle in handles {
        match tokio::time::timeout_at(deadline, &mut handle).await {
            Ok(Ok(tally)) => total.merge(tally),
            Ok(Err(error)) => {
                total.errors += 1;
                total
                    .error_samples
                    .push(format!("client task failed: {error}"));
            }
            Err(_) => handle.abort(),
        }
    }
    total
}

/// A closed loop: `connections` clients each send a request as soon as the previous answer
/// arrives. Answers arriving during the window count. `at_edge(opening)` reads counters when
/// the window opens (`true`) and closes (`false`); both readings are returned.
async fn saturate<F, Fut, M>(
    target: &Arc<Target>,
    requests: &Arc<Requests>,
    connections: usize,
    timing: Timing,
    mut at_edge: F,
) -> (LoadStats, M, M)
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = M>,
{
    let phase = Arc::new(AtomicU8::new(WARMING));
    let handles: Vec<_> = (0..connections)
        .map(|client| {
            let (target, requests, phase) = (target.clone(), requests.clone(), phase.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client as u64 + 1);
                let mut connection = None;
                let mut tally = Tally::default();
                while phase.load(Ordering::Relaxed) != STOPPING {
                    let body = requests.body(&mut rng);
                    let sent = Instant::now();
                    let outcome = target.exchange(&mut connection, body).await;
                    if phase.load(Ordering::Relaxed) == MEASURING {
                        tally.record(&outcome, sent.elapsed());
                    }
                    back_off(&outcome).await;
                }
                tally
            })
        })
        .collect();
    tokio::time::sleep(timing.warmup).await;
    let opening = at_edge(true).await;
    let opened = Instant::now();
    phase.store(MEASURING, Ordering::Relaxed);
    tokio::time::sleep(timing.window).await;
    phase.store(STOPPING, Ordering::Relaxed);
    let window = opened.elapsed();
    let closing = at_edge(false).await;
    let tally = collect(handles, REQUEST_TIMEOUT + Duration::from_secs(2)).await;
    (LoadStats::from_tally(tally, window), opening, closing)
}

/// An open loop at `rate` requests/s spread over up to `connections` clients, each sending on
/// its own fixed schedule. Requests scheduled during the window count.
async fn fixed_rate(
    target: &Arc<Target>,
    requests: &Arc<Requests>,
    connections: usize,
    rate: f64,
    timing: Timing,
) -> LoadStats {
    let clients = connections.min(rate.ceil().max(1.0) as usize);
    let interval = Duration::from_secs_f64(clients as f64 / rate);
    let start = Instant::now() + Duration::from_millis(20);
    let opens = start + timing.fixed_warmup;
    let closes = opens + timing.fixed_window;
    let handles: Vec<_> = (0..clients)
        .map(|client| {
            let (target, requests) = (target.clone(), requests.clone());
            // Clients are staggered so that together they send evenly.
            let first = start + Duration::from_secs_f64(client as f64 / rate);
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client as u64 + 1001);
                let mut connection = None;
                let mut tally = Tally::default();
                let mut scheduled = first;
                let mut previous_answer = Instant::now();
                while scheduled < closes {
                    tokio::time::sleep_until(scheduled.into()).await;
                    let body = requests.body(&mut rng);
                    let sent = Instant::now();
                    let outcome = target.exchange(&mut connection, body).await;
                    let answered = Instant::now();
                    // Late because the previous answer came after this request's turn: the
                    // wait is the server's doing and counts. Otherwise only the timer was late.
                    let origin = if previous_answer > scheduled {
                        scheduled
                    } else {
                        sent
                    };
                    if scheduled >= opens {
                        tally.record(&outcome, answered.duration_since(origin));
                    }
                    previous_answer = answered;
                    back_off(&outcome).await;
                    scheduled += interval;
                }
                tally
            })
        })
        .collect();
    let limit =
        timing.fixed_warmup + timing.fixed_window + REQUEST_TIMEOUT + Duration::from_secs(2);
    let tally = collect(handles, limit).await;
    LoadStats::from_tally(tally, timing.fixed_window)
}

// ------------------------------------------------------------------------------------------
// Runs
// ------------------------------------------------------------------------------------------

/// One workload against one gateway variant.
#[derive(Debug)]
struct RunResult {
    workload: Workload,
    cache: bool,
    saturated: LoadStats,
    fixed: Option<LoadStats>,
    upstream_per_req: Option<f64>,
    peak_rss_mb: Option<f64>,
    rss_mb: Option<f64>,
    cpu: CpuShares,
    ceiling_fraction: Option<f64>,
}

/// The ceiling server's run.
#[derive(Debug)]
struct CeilingResult {
    body_bytes: usize,
    saturated: LoadStats,
    cpu: CpuShares,
}

/// One fill of a fresh gateway with `MEMORY_PROFILES` distinct profiles.
#[derive(Debug, Default)]
struct FillFigures {
    errors: u64,
    fill: Duration,
    rss_before_mb: Option<f64>,
    rss_after_mb: Option<f64>,
    peak_rss_mb: Option<f64>,
    /// Share of a sample of the filled profiles found in the cache afterwards.
    resident_share: Option<f64>,
}

impl FillFigures {
    fn growth_mb(&self) -> Option<f64> {
        Some(self.rss_after_mb? - self.rss_before_mb?)
    }
}

/// The memory step: the fill with the cache on, and the same fill with it off, which shows
/// how much of the growth is the allocator keeping what requests used rather than the cache.
#[derive(Debug, Default)]
struct MemoryResult {
    profiles: usize,
    cached: FillFigures,
    uncached: Option<FillFigures>,
}

impl MemoryResult {
    fn bytes_per_profile(&self) -> Option<f64> {
        Some(self.cached.growth_mb()? * 1024.0 * 1024.0 / self.profiles as f64)
    }
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

async fn run_variant(
    workdir: &Path,
    http: &reqwest::Client,
    tenants: &(ChildProcess, TenantsReady),
    population: &Arc<Population>,
    plan: &Plan,
    cache: bool,
) -> anyhow::Result<(Vec<RunResult>, usize)> {
    let tuning = GatewayTuning {
        cache,
        max_profiles: None,
        profile_ttl: None,
    };
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

async fn run_ceiling(
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

/// Fills a fresh gateway's cache with `MEMORY_PROFILES` distinct profiles and measures its RSS,
/// then does the same with the cache off.
async fn run_memory(
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

/// Sends every body over `clients` connections; returns the errors.
async fn send_batches(target: &Arc<Target>, bodies: Vec<Bytes>, clients: usize) -> u64 {
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

// ------------------------------------------------------------------------------------------
// The parent: plan, orchestration, report
// ------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Plan {
    quick: bool,
    connections: usize,
    timing: Timing,
    workloads: Vec<Workload>,
    caches: Vec<bool>,
    memory: bool,
    users: usize,
    seed: u64,
}

impl Plan {
    fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        if cli.connections == 0 {
            bail!("--connections must be at least 1");
        }
        let workloads = if cli.only.is_empty() {
            Workload::ALL.to_vec()
        } else {
            cli.only
                .iter()
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        Ok(Self {
            quick: cli.quick,
            connections: cli.connections,
            timing: Timing::from_cli(cli)?,
            workloads,
            caches: cli.cache.variants(),
            memory: !cli.skip_memory,
            users: cli.users,
            seed: cli.seed,
        })
    }
}

/// Everything measured.
#[derive(Debug, Default)]
struct Report {
    runs: Vec<RunResult>,
    ceiling: Option<CeilingResult>,
    memory: Option<MemoryResult>,
    elapsed: Duration,
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
    tenants.0.stop().await;
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

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn on_off(cache: bool) -> &'static str {
    if cache { "on" } else { "off" }
}

/// Rounds for display and JSON: figures do not carry more precision than this.
fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

fn cell(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU", str::trim)
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let memory_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or_else(String::new, |kb| {
            format!(", {:.0} GiB", kb / 1024.0 / 1024.0)
        });
    format!("{cores} cores ({model}){memory_gb}")
}

#[allow(clippy::print_stdout)]
fn print_report(plan: &Plan, report: &Report) {
    println!();
    println!("tenantgraph benchmark — {}", machine());
    println!(
        "{} connections; saturation: {:?} warm-up + {:?} window; fixed rate: {:.0}% of it for {:?}",
        plan.connections,
        plan.timing.warmup,
        plan.timing.window,
        FIXED_RATE_SHARE * 100.0,
        plan.timing.fixed_window
    );
    println!(
        "tenants: 3 × {} users, rate limit lifted to 1,000,000/s in the gateway (Auth0 allows \
         about 16/s per tenant: with it, cache-off figures would measure that budget)",
        plan.users
    );
    for workload in &plan.workloads {
        println!("  {}: {}", workload.name(), workload.description());
    }
    println!();
    print_table(report);
    if let Some(memory) = &report.memory {
        println!();
        print_memory(memory);
    }
    println!();
    println!("run time {:.0} s", report.elapsed.as_secs_f64());
    println!();
    for line in json_lines(report) {
        println!("{line}");
    }
}

/// Table columns: header and width; a `│` follows the columns whose index is listed.
const COLUMNS: [(&str, usize); 17] = [
    ("workload", 8),
    ("cache", 5),
    ("req/s", 8),
    ("p50 ms", 7),
    ("p99 ms", 7),
    ("@30% /s", 8),
    ("p50 ms", 7),
    ("p99 ms", 7),
    ("upstr/req", 9),
    ("errors", 6),
    ("rss MB", 6),
    ("gw", 4),
    ("ten", 4),
    ("load", 4),
    ("irq", 4),
    ("other", 5),
    ("ceiling", 7),
];
const GROUP_ENDS: [usize; 4] = [4, 7, 10, 15];

/// One table line: the first column left-aligned, the others right-aligned.
fn table_row(cells: &[String]) -> String {
    let mut line = String::new();
    for (i, ((_, width), cell)) in COLUMNS.iter().zip(cells).enumerate() {
        if i == 0 {
            let _ = write!(line, "{cell:<width$}");
        } else {
            let _ = write!(line, " {cell:>width$}");
        }
        if GROUP_ENDS.contains(&i) {
            line.push_str(" │");
        }
    }
    line
}

fn run_cells(run: &RunResult) -> Vec<String> {
    let fixed = run.fixed.as_ref();
    let errors = run.saturated.errors + fixed.map_or(0, |f| f.errors);
    vec![
        run.workload.name().to_owned(),
        on_off(run.cache).to_owned(),
        format!("{:.0}", run.saturated.rps()),
        format!("{:.2}", ms(run.saturated.p50)),
        format!("{:.2}", ms(run.saturated.p99)),
        cell(fixed.map(LoadStats::rps), 0),
        cell(fixed.map(|f| ms(f.p50)), 2),
        cell(fixed.map(|f| ms(f.p99)), 2),
        cell(run.upstream_per_req, 3),
        errors.to_string(),
        cell(run.peak_rss_mb, 1),
        percent(run.cpu.server),
        percent(run.cpu.tenants),
        percent(run.cpu.loadgen),
        percent(run.cpu.interrupts),
        percent(run.cpu.other),
        percent(run.ceiling_fraction),
    ]
}

fn ceiling_cells(ceiling: &CeilingResult) -> Vec<String> {
    let s = &ceiling.saturated;
    let none = || "-".to_owned();
    vec![
        "ceiling".to_owned(),
        none(),
        format!("{:.0}", s.rps()),
        format!("{:.2}", ms(s.p50)),
        format!("{:.2}", ms(s.p99)),
        none(),
        none(),
        none(),
        none(),
        s.errors.to_string(),
        none(),
        percent(ceiling.cpu.server),
        percent(ceiling.cpu.tenants),
        percent(ceiling.cpu.loadgen),
        percent(ceiling.cpu.interrupts),
        percent(ceiling.cpu.other),
        "100%".to_owned(),
    ]
}

#[allow(clippy::print_stdout)]
fn print_table(report: &Report) {
    let headers: Vec<String> = COLUMNS.iter().map(|(h, _)| (*h).to_owned()).collect();
    println!("{}", table_row(&headers));
    for run in &report.runs {
        println!("{}", table_row(&run_cells(run)));
    }
    if let Some(ceiling) = &report.ceiling {
        println!("{}", table_row(&ceiling_cells(ceiling)));
    }
    println!(
        "req/s, p50, p99: closed loop at saturation; @30%: open loop at 30% of that rate; \
         rss: the gateway's peak;\ngw/ten/load/irq/other: CPU of the gateway (or ceiling), \
         tenants, load generator, kernel interrupts (loopback TCP, overlapping\nthe processes) \
         and at least what other processes took, as a share of all cores; ceiling: req/s over \
         the ceiling's ({}-byte\nfixed answers).",
        report.ceiling.as_ref().map_or(0, |c| c.body_bytes)
    );
    let busiest = report
        .runs
        .iter()
        .filter_map(|r| r.cpu.other)
        .chain(report.ceiling.as_ref().and_then(|c| c.cpu.other))
        .fold(0.0, f64::max);
    if busiest > 0.1 {
        println!(
            "WARNING: other processes took up to {:.0}% of the machine during a run: these \
             figures are below what an idle machine gives.",
            busiest * 100.0
        );
    }
}

#[allow(clippy::print_stdout)]
fn print_memory(memory: &MemoryResult) {
    let cached = &memory.cached;
    println!(
        "memory: {} profiles cached in {:.1} s ({} errors): RSS {} MB before, {} MB after \
         (peak {} MB) → {} bytes per profile; {} of a sample answered from the cache; {}",
        memory.profiles,
        cached.fill.as_secs_f64(),
        cached.errors,
        cell(cached.rss_before_mb, 1),
        cell(cached.rss_after_mb, 1),
        cell(cached.peak_rss_mb, 1),
        cell(memory.bytes_per_profile(), 0),
        percent(cached.resident_share),
        match cached.peak_rss_mb {
            Some(peak) if peak < MEMORY_TARGET_MB => format!("under {MEMORY_TARGET_MB} MB"),
            Some(_) => format!("OVER {MEMORY_TARGET_MB} MB"),
            None => "RSS unknown".to_owned(),
        }
    );
    if let Some(uncached) = &memory.uncached {
        println!(
            "        the same fill with the cache off: RSS {} MB before, {} MB after (grew {} MB: \
             what the allocator kept from the requests, not the cache)",
            cell(uncached.rss_before_mb, 1),
            cell(uncached.rss_after_mb, 1),
            cell(uncached.growth_mb(), 1),
        );
    }
}

fn json_lines(report: &Report) -> Vec<String> {
    let opt = |v: Option<f64>, digits: i32| v.map(|v| round(v, digits));
    let mut lines: Vec<String> = report
        .runs
        .iter()
        .map(|run| {
            let fixed = run.fixed.as_ref();
            json!({
                "workload": run.workload.name(),
                "cache": on_off(run.cache),
                "rps": round(run.saturated.rps(), 1),
                "p50_ms": round(ms(run.saturated.p50), 3),
                "p99_ms": round(ms(run.saturated.p99), 3),
                "upstream_per_req": opt(run.upstream_per_req, 4),
                "rss_mb": opt(run.peak_rss_mb, 1),
                "errors": run.saturated.errors,
                "requests": run.saturated.ok,
                "max_ms": round(ms(run.saturated.max), 3),
                "fixed_rate_rps": fixed.map(|f| round(f.rps(), 1)),
                "p50_fixed_rate_ms": fixed.map(|f| round(ms(f.p50), 3)),
                "p99_fixed_rate_ms": fixed.map(|f| round(ms(f.p99), 3)),
                "errors_fixed_rate": fixed.map(|f| f.errors),
                "cpu_gateway": opt(run.cpu.server, 3),
                "cpu_tenants": opt(run.cpu.tenants, 3),
                "cpu_loadgen": opt(run.cpu.loadgen, 3),
                "cpu_irq": opt(run.cpu.interrupts, 3),
                "cpu_other": opt(run.cpu.other, 3),
                "ceiling_fraction": opt(run.ceiling_fraction, 3),
                "rss_now_mb": opt(run.rss_mb, 1),
            })
            .to_string()
        })
        .collect();
    if let Some(ceiling) = &report.ceiling {
        let s = &ceiling.saturated;
        lines.push(
            json!({
                "workload": "ceiling",
                "rps": round(s.rps(), 1),
                "p50_ms": round(ms(s.p50), 3),
                "p99_ms": round(ms(s.p99), 3),
                "errors": s.errors,
                "body_bytes": ceiling.body_bytes,
                "cpu_server": opt(ceiling.cpu.server, 3),
                "cpu_loadgen": opt(ceiling.cpu.loadgen, 3),
                "cpu_irq": opt(ceiling.cpu.interrupts, 3),
                "cpu_other": opt(ceiling.cpu.other, 3),
            })
            .to_string(),
        );
    }
    if let Some(memory) = &report.memory {
        let cached = &memory.cached;
        let uncached = memory.uncached.as_ref();
        lines.push(
            json!({
                "step": "memory",
                "profiles": memory.profiles,
                "errors": cached.errors,
                "fill_s": round(cached.fill.as_secs_f64(), 2),
                "rss_before_mb": opt(cached.rss_before_mb, 1),
                "rss_after_mb": opt(cached.rss_after_mb, 1),
                "rss_mb": opt(cached.peak_rss_mb, 1),
                "bytes_per_profile": opt(memory.bytes_per_profile(), 0),
                "resident_share": opt(cached.resident_share, 3),
                "under_150_mb": cached.peak_rss_mb.map(|p| p < MEMORY_TARGET_MB),
                "cache_off_rss_growth_mb": opt(uncached.and_then(FillFigures::growth_mb), 1),
            })
            .to_string(),
        );
    }
    lines
}
