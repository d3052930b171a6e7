//! What to run, from the command line: the workloads, the cache variants, the connections and
//! the windows of each run.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::bail;

use crate::Cli;
use crate::workloads::Workload;

/// Windows of one run.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub warmup: Duration,
    pub window: Duration,
    pub fixed_warmup: Duration,
    pub fixed_window: Duration,
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

#[derive(Debug)]
pub struct Plan {
    pub quick: bool,
    pub connections: usize,
    pub timing: Timing,
    pub workloads: Vec<Workload>,
    pub caches: Vec<bool>,
    pub memory: bool,
    pub cost: bool,
    pub users: usize,
    pub seed: u64,
}

impl Plan {
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
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
            cost: !cli.skip_cost,
            users: cli.users,
            seed: cli.seed,
        })
    }
}
