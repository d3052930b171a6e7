//! The report printed at the end: the table of runs, the memory step, and one JSON line per run.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::json;

use crate::cost::CostPoint;
use crate::load::{FIXED_RATE_SHARE, LoadStats};
use crate::memory::{FillFigures, MEMORY_TARGET_MB, MemoryResult};
use crate::plan::Plan;
use crate::runs::{CeilingResult, RunResult};

/// Everything measured.
#[derive(Debug, Default)]
pub struct Report {
    pub runs: Vec<RunResult>,
    pub ceiling: Option<CeilingResult>,
    pub memory: Option<MemoryResult>,
    pub cost: Vec<CostPoint>,
    pub elapsed: Duration,
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub fn on_off(cache: bool) -> &'static str {
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
pub fn print_report(plan: &Plan, report: &Report) {
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
    if !report.cost.is_empty() {
        println!();
        print_cost(&report.cost);
    }
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

/// The cost step: per axis, the gateway's CPU per request at each size, with the cache on and
/// off, and per unit (ref or tenant).
#[allow(clippy::print_stdout)]
fn print_cost(points: &[CostPoint]) {
    println!("cost: the gateway's CPU per request (ms), and per ref or tenant (µs)");
    for axis in ["refs", "tenants"] {
        let label = if axis == "refs" {
            "users(refs:)"
        } else {
            "searchUsers"
        };
        for cache in [true, false] {
            let cells: Vec<String> = points
                .iter()
                .filter(|p| p.axis == axis && p.cache == cache)
                .map(|p| {
                    let per_unit = p.cpu_ms_per_req.map(|c| c * 1000.0 / p.size as f64);
                    format!(
                        "{} {axis}: {} ms ({} µs each, {:.0} req/s{})",
                        p.size,
                        cell(p.cpu_ms_per_req, 3),
                        cell(per_unit, 1),
                        p.rps,
                        if p.errors > 0 {
                            format!(", {} errors", p.errors)
                        } else {
                            String::new()
                        }
                    )
                })
                .collect();
            if !cells.is_empty() {
                println!(
                    "  {label:<13} cache {:<3} {}",
                    on_off(cache),
                    cells.join(" │ ")
                );
            }
        }
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
    for point in &report.cost {
        lines.push(
            json!({
                "step": "cost",
                "axis": point.axis,
                "size": point.size,
                "cache": on_off(point.cache),
                "rps": round(point.rps, 1),
                "errors": point.errors,
                "cpu_ms_per_req": opt(point.cpu_ms_per_req, 4),
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
