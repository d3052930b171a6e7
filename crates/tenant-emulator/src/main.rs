//! `tenant-emulator`: serves one emulated Auth0 tenant per `--tenant`, on consecutive ports.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tenant_emulator::{ClientConfig, Emulator, EmulatorConfig, Persona, RateLimit};
use tracing_subscriber::EnvFilter;

/// A local emulator of Auth0 tenants (Authentication and Management API).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// First port; each further tenant takes the next one. 0: a free port for each.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on (loopback unless you mean to expose it).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    listen: IpAddr,
    /// Tenant slug; repeat for several tenants in one process.
    #[arg(long = "tenant", default_values_t = [String::from("dev")])]
    tenants: Vec<String>,
    /// Domain suffix: a tenant `acme` gets the domain `acme.<suffix>`.
    #[arg(long, default_value = "auth0.test")]
    domain_suffix: String,
    /// Seeded users per tenant.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Seed of all generated data; tenants with the same seed share people.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Client id of the application allowed to get tokens (with every scope).
    #[arg(long, default_value = "tenantgraph")]
    client_id: String,
    /// Its secret.
    #[arg(
        long,
        env = "TENANT_EMULATOR_CLIENT_SECRET",
        default_value = "tenantgraph-secret",
        hide_env_values = true
    )]
    client_secret: String,
    /// Management API rate limit (token bucket refill per second); unlimited when unset.
    #[arg(long)]
    rate_limit_per_second: Option<f64>,
    /// Management API burst size (default: the per-second rate, at least 1).
    #[arg(long)]
    rate_limit_burst: Option<u32>,
    /// How long search keeps seeing users as they were before a write.
    #[arg(long, default_value_t = 0)]
    search_lag_ms: u64,
    /// How long the organization members list keeps showing members as before a write.
    #[arg(long, default_value_t = 0)]
    membership_lag_ms: u64,
    /// How many days log events stay readable (Auth0 keeps 1 to 30 by plan).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    log_retention_days: u64,
    /// Password of every seeded database user.
    #[arg(long, default_value = tenant_emulator::DEFAULT_PASSWORD)]
    password: String,
    /// An allowed callback URL of the client, for `/authorize` (repeatable).
    #[arg(long = "callback-url")]
    callback_urls: Vec<String>,
    /// An allowed logout URL of the client (repeatable).
    #[arg(long = "logout-url")]
    logout_urls: Vec<String>,
    /// A login-page persona, `LABEL=EMAIL` (repeatable).
    #[arg(long = "persona", value_parser = parse_persona)]
    personas: Vec<Persona>,
}

fn parse_persona(text: &str) -> Result<Persona, String> {
    match text.split_once('=') {
        Some((label, email)) if !label.is_empty() && !email.is_empty() => {
            Ok(Persona::new(label, email))
        }
        _ => Err(format!("expected LABEL=EMAIL, got {text:?}")),
    }
}

impl Args {
    fn rate_limit(&self) -> Option<RateLimit> {
        match (self.rate_limit_per_second, self.rate_limit_burst) {
            (None, None) => None,
            (per_second, burst) => {
                let per_second = per_second.unwrap_or_else(|| f64::from(burst.unwrap_or(1)));
                let burst = burst.unwrap_or_else(|| (per_second.ceil() as u32).max(1));
                Some(RateLimit { per_second, burst })
            }
        }
    }

    fn config(&self, index: usize, tenant: &str) -> anyhow::Result<EmulatorConfig> {
        let port = if self.port == 0 {
            0
        } else {
            u16::try_from(usize::from(self.port) + index).context("port out of range")?
        };
        let mut config = EmulatorConfig::new(tenant);
        config.domain = format!("{tenant}.{}", self.domain_suffix);
        config.listen = SocketAddr::new(self.listen, port);
        config.users = self.users;
        config.seed = self.seed;
        config.password.clone_from(&self.password);
        config.clients = vec![ClientConfig {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            callbacks: self.callback_urls.clone(),
            allowed_logout_urls: self.logout_urls.clone(),
            ..ClientConfig::default()
        }];
        config.personas.clone_from(&self.personas);
        config.rate_limit = self.rate_limit();
        config.search_lag = Duration::from_millis(self.search_lag_ms);
        config.membership_lag = Duration::from_millis(self.membership_lag_ms);
        config.log_retention = Duration::from_secs(self.log_retention_days.saturating_mul(86_400));
        Ok(config)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut handles = Vec::new();
    for (index, tenant) in args.tenants.iter().enumerate() {
        let handle = Emulator::start(args.config(index, tenant)?).await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "tenant {} {} domain {}",
            handle.tenant(),
            handle.base_url(),
            handle.domain()
        )?;
        out.flush()?;
        handles.push(handle);
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    for handle in handles {
        handle.shutdown().await;
    }
    Ok(())
}
