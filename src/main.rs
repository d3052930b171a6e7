//! The `tenantgraph` command: `serve`, `demo`, `schema [--federation]`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tenantgraph::config::{Config, LogFormat};
#[cfg(feature = "demo")]
use tenantgraph::demo::{DemoOptions, run};
use tracing_subscriber::EnvFilter;

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

fn init_logs(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    // Colour codes only on a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { config } => {
            let config = Config::load(Some(&config))?;
            init_logs(config.log.format, &config.log.filter);
            let app = tenantgraph::Application::build(config).await?;
            tracing::info!(addr = %app.local_addr(), "serving");
            app.run_until_stopped(tenantgraph::shutdown_signal())
                .await?;
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
            // Audit events are logged under their own target: the demo shows them.
            init_logs(format, "warn,tenantgraph=info,audit=info");
            run(DemoOptions {
                listen: listen
                    .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], port))),
                cors_origins,
                users,
                seed,
                tokens_file,
            })
            .await?;
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
