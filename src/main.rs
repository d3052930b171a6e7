//! The `tenantgraph` command: `serve`, `demo`, `schema [--federation]`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tenantgraph::config::{Config, LogFormat, TelemetryConfig};
#[cfg(feature = "demo")]
use tenantgraph::demo::{DemoOptions, run};
use tenantgraph::telemetry::{self, Settings, Telemetry};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Parser)]
#[command(version, about = "One GraphQL endpoint over many Auth0 tenants")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the tenants of a configuration file (see examples/tenantgraph.toml).
    Serve {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Start three emulated tenants, an operator issuer and the gateway, and print tokens.
    #[cfg(feature = "demo")]
    Demo {
        #[arg(long, default_value_t = 4000)]
        port: u16,
        /// The gateway's address (loopback only by default; its port overrides --port).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// A browser origin allowed to call the API (a frontend on another port); repeatable.
        #[arg(long = "cors-origin")]
        cors_origins: Vec<String>,
        /// Users seeded per tenant.
        #[arg(long, default_value_t = 1000)]
        users: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the tokens, tenant URLs and GraphQL URL to this JSON file.
        #[arg(long)]
        tokens_file: Option<PathBuf>,
        /// Log as JSON lines.
        #[arg(long)]
        json_logs: bool,
    },
    /// Print the GraphQL schema (SDL) that the server serves.
    Schema {
        /// Print the subgraph schema for a federation supergraph instead (what `_service { sdl }`
        /// answers: Federation 2 `@link`, `@key` and `@shareable`).
        #[arg(long)]
        federation: bool,
    },
}

/// Logs to stdout and, when `telemetry` runs, exports its spans: each output has a filter of
/// its own, so `RUST_LOG` decides what is logged and nothing else is exported.
fn init_logs(format: LogFormat, filter: &str, telemetry: Option<&Telemetry>) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    // Colour codes only on a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let logs = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_ansi(ansi)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_ansi(ansi).boxed(),
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(telemetry::keep_out_of_logs(filter)))
        .with(telemetry.map(Telemetry::layer))
        .init();
}

/// The trace pipeline `config` and the `OTEL_*` variables ask for, if any.
fn start_telemetry(config: &TelemetryConfig) -> anyhow::Result<Option<Telemetry>> {
    match Settings::resolve(config, |name| std::env::var(name).ok())? {
        Some(settings) => Ok(Some(Telemetry::start(&settings)?)),
        None => Ok(None),
    }
}

/// Exports the spans still waiting, before the process exits.
async fn stop_telemetry(telemetry: Option<Telemetry>) {
    if let Some(telemetry) = telemetry
        && let Err(error) = telemetry.shutdown().await
    {
        tracing::warn!(%error, "the last spans could not be exported");
    }
}

fn log_telemetry(telemetry: Option<&Telemetry>) {
    if let Some(telemetry) = telemetry {
        tracing::info!(
            endpoint = telemetry.endpoint(),
            "exporting traces over OTLP/HTTP"
        );
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { config } => {
            let config = Config::load(Some(&config))?;
            let telemetry = start_telemetry(&config.telemetry)?;
            init_logs(config.log.format, &config.log.filter, telemetry.as_ref());
            log_telemetry(telemetry.as_ref());
            let served = serve(config).await;
            stop_telemetry(telemetry).await;
            served?;
        }
        #[cfg(feature = "demo")]
        Command::Demo {
            port,
            listen,
            cors_origins,
            users,
            seed,
            tokens_file,
            json_logs,
        } => {
            let format = if json_logs {
                LogFormat::Json
            } else {
                LogFormat::Text
            };
            let telemetry = start_telemetry(&TelemetryConfig::default())?;
            // Audit events are logged under their own target: the demo shows them.
            init_logs(
                format,
                "warn,tenantgraph=info,audit=info",
                telemetry.as_ref(),
            );
            log_telemetry(telemetry.as_ref());
            let ran = run(DemoOptions {
                listen: listen
                    .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], port))),
                cors_origins,
                users,
                seed,
                tokens_file,
            })
            .await;
            stop_telemetry(telemetry).await;
            ran?;
        }
        Command::Schema { federation } => {
            let sdl = if federation {
                tenantgraph::graphql::subgraph_sdl()
            } else {
                tenantgraph::graphql::sdl()
            };
            #[allow(clippy::print_stdout)]
            {
                print!("{sdl}");
            }
        }
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = tenantgraph::Application::build(config).await?;
    tracing::info!(addr = %app.local_addr(), "serving");
    app.run_until_stopped(tenantgraph::shutdown_signal())
        .await?;
    Ok(())
}
