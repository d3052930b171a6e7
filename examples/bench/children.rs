//! Child processes, seen from the parent: starting them, waiting until they are ready, stopping
//! or killing them, and where their logs go.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::de::DeserializeOwned;

use crate::config::{CLIENT_SECRET, GatewayTuning, SECRET_VARIABLE, gateway_toml};
use crate::roles::{ServerReady, TenantsReady};

/// How long a child may take to start (34,000 users × 3 tenants seed in a few seconds).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Proxy settings would send the children's loopback calls elsewhere.
const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// A child started from this executable; killed when dropped (also on a panic or Ctrl-C,
/// which drop the run). std's process API: tokio's is a feature the workspace does not enable.
pub struct ChildProcess {
    name: String,
    child: std::process::Child,
    pub pid: u32,
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
    pub async fn stop(mut self) {
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

pub async fn start_tenants(
    workdir: &Path,
    http: &reqwest::Client,
    name: &str,
    users: usize,
    seed: u64,
) -> anyhow::Result<(ChildProcess, TenantsReady)> {
    start_many_tenants(workdir, http, name, users, seed, 3).await
}

/// As [`start_tenants`], with `count` tenants (`t01`, `t02`, … unless it is the demo's three).
pub async fn start_many_tenants(
    workdir: &Path,
    http: &reqwest::Client,
    name: &str,
    users: usize,
    seed: u64,
    count: usize,
) -> anyhow::Result<(ChildProcess, TenantsReady)> {
    let args = [
        "--role".to_owned(),
        "tenants".to_owned(),
        "--users".to_owned(),
        users.to_string(),
        "--seed".to_owned(),
        seed.to_string(),
        "--tenants".to_owned(),
        count.to_string(),
    ];
    let (process, ready): (ChildProcess, TenantsReady) =
        ChildProcess::start(workdir, name, &args, &[]).await?;
    for tenant in &ready.tenants {
        let url = format!("{}/__emulator/stats", tenant.base_url);
        wait_ready(http, &format!("tenant {}", tenant.id), &url, START_TIMEOUT).await?;
    }
    Ok((process, ready))
}

pub async fn start_gateway(
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

pub async fn start_ceiling(
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

/// A directory for the children's logs and configuration, kept after the run for inspection.
pub fn work_directory() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tenantgraph-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
