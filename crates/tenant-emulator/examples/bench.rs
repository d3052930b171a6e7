//! Closed-loop load on one emulated tenant of 10,000 users over real HTTP on loopback:
//! get-by-id, a 50-id `user_id` OR-search and an email search, each for a few seconds, printing
//! requests/s and p50/p99 latency. Run with
//! `cargo run --release -p tenant-emulator --example emulator-bench` (client and server share
//! the machine, so the figures are a floor for the emulator alone).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;
use serde_json::{Value, json};
use tenant_emulator::{Emulator, EmulatorConfig};

const USERS: usize = 10_000;
const CLIENTS: usize = 8;
const DURATION: Duration = Duration::from_secs(8);
const WARM_UP: Duration = Duration::from_secs(1);

#[derive(Clone, Copy)]
enum Workload {
    GetById,
    OrSearch50,
    EmailSearch,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Self::GetById => "GET /api/v2/users/{id}",
            Self::OrSearch50 => "user_id:(50 ids) search",
            Self::EmailSearch => "email:\"…\" search",
        }
    }
}

struct Targets {
    ids: Vec<String>,
    emails: Vec<String>,
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn request_url(
    base: &str,
    workload: Workload,
    targets: &Targets,
    rng: &mut impl rand::Rng,
) -> String {
    match workload {
        Workload::GetById => {
            let id = &targets.ids[rng.gen_range(0..targets.ids.len())];
            format!("{base}/api/v2/users/{}", encode(id))
        }
        Workload::OrSearch50 => {
            let ids: Vec<String> = targets
                .ids
                .choose_multiple(rng, 50)
                .map(|id| format!("\"{id}\""))
                .collect();
            let q = format!("user_id:({})", ids.join(" OR "));
            format!(
                "{base}/api/v2/users?search_engine=v3&per_page=100&q={}",
                encode(&q)
            )
        }
        Workload::EmailSearch => {
            let email = &targets.emails[rng.gen_range(0..targets.emails.len())];
            let q = format!("email:\"{email}\"");
            format!("{base}/api/v2/users?search_engine=v3&q={}", encode(&q))
        }
    }
}

/// Runs `CLIENTS` closed loops for `DURATION` and returns every latency.
async fn run(
    base: &str,
    token: &str,
    workload: Workload,
    targets: Arc<Targets>,
) -> anyhow::Result<Vec<Duration>> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (base, token, stop, targets) = (
            base.to_owned(),
            token.to_owned(),
            Arc::clone(&stop),
            Arc::clone(&targets),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().no_proxy().build()?;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(client as u64);
            let mut latencies = Vec::new();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let url = request_url(&base, workload, &targets, &mut rng);
                let sent = Instant::now();
                let response = http.get(&url).bearer_auth(&token).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                anyhow::ensure!(
                    status.is_success(),
                    "{status}: {}",
                    String::from_utf8_lossy(&body)
                );
                if started.elapsed() > WARM_UP {
                    latencies.push(sent.elapsed());
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    tokio::time::sleep(WARM_UP + DURATION).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = EmulatorConfig::new("bench");
    config.users = USERS;
    let seeding = Instant::now();
    let tenant = Emulator::start(config).await?;
    println!(
        "tenant of {USERS} users up in {:?} (key generation included)",
        seeding.elapsed()
    );

    let page = tenant.control().users(USERS, 0);
    let targets = Arc::new(Targets {
        ids: page.users.iter().map(|u| u.user_id.clone()).collect(),
        emails: page.users.iter().filter_map(|u| u.email.clone()).collect(),
    });
    let http = reqwest::Client::builder().no_proxy().build()?;
    let answer: Value = http
        .post(format!("{}/oauth/token", tenant.base_url()))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": "tenantgraph",
            "client_secret": "tenantgraph-secret",
            "audience": tenant.management_audience(),
        }))
        .send()
        .await?
        .json()
        .await?;
    let token = answer["access_token"]
        .as_str()
        .context("no access token")?
        .to_owned();

    println!("{CLIENTS} concurrent clients, {DURATION:?} per workload\n");
    println!(
        "{:<26} {:>10} {:>10} {:>10}",
        "workload", "req/s", "p50", "p99"
    );
    for workload in [
        Workload::GetById,
        Workload::OrSearch50,
        Workload::EmailSearch,
    ] {
        let mut latencies = run(&tenant.base_url(), &token, workload, Arc::clone(&targets)).await?;
        latencies.sort_unstable();
        let rate = latencies.len() as f64 / DURATION.as_secs_f64();
        println!(
            "{:<26} {:>10.0} {:>10.2?} {:>10.2?}",
            workload.name(),
            rate,
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
        );
    }
    tenant.shutdown().await;
    Ok(())
}
