//! What is read from outside the load generator: CPU times and resident memory from `/proc`,
//! the Management API calls the tenants received, and the gateway's cache counters.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::roles::TenantsReady;

/// Linux reports process CPU times in clock ticks of 1/100 s (USER_HZ, fixed by the ABI).
const TICKS_PER_SECOND: f64 = 100.0;

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
pub fn status_mb(pid: u32, key: &str) -> Option<f64> {
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
pub struct CpuSnapshot {
    at: Instant,
    server: Option<u64>,
    tenants: Option<u64>,
    loadgen: Option<u64>,
    machine: Option<MachineTicks>,
}

impl CpuSnapshot {
    pub fn take(server: u32, tenants: u32) -> Self {
        Self {
            at: Instant::now(),
            server: cpu_ticks(server),
            tenants: cpu_ticks(tenants),
            loadgen: cpu_ticks(std::process::id()),
            machine: machine_ticks(),
        }
    }
}

impl CpuSnapshot {
    /// The server's CPU seconds from `before` to this snapshot.
    pub fn server_seconds_since(&self, before: &Self) -> Option<f64> {
        let ticks = self.server?.checked_sub(before.server?)?;
        Some(ticks as f64 / TICKS_PER_SECOND)
    }
}

/// Each process's share of the machine between two snapshots (1.0 = every core busy), the
/// kernel's interrupt work, and the rest of the busy time: at least what the machine's other
/// processes (a compiler, say) took. Figures measured while that is high are not the best.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuShares {
    pub server: Option<f64>,
    pub tenants: Option<f64>,
    pub loadgen: Option<f64>,
    pub interrupts: Option<f64>,
    pub other: Option<f64>,
}

impl CpuShares {
    pub fn between(before: CpuSnapshot, after: CpuSnapshot) -> Self {
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
pub async fn upstream_calls(http: &reqwest::Client, tenants: &TenantsReady) -> Option<u64> {
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
pub async fn profile_cache_lookups(
    http: &reqwest::Client,
    gateway: SocketAddr,
) -> Option<(f64, f64)> {
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
