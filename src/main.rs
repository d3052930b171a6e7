//! The `tenantgraph` command: `serve`, `demo`, `schema`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tenantgraph::config::{Config, LogFormat};
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
    Demo {
        #[arg(long, default_value_t = 4000)]
        port: u16,
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
    Schema,
}

fn init_logs(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
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
        Command::Demo {
            port,
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
            init_logs(format, "warn,tenantgraph=info");
            run(DemoOptions {
                port,
                users,
                seed,
                tokens_file,
            })
            .await?;
        }
        Command::Schema => {
            #[allow(clippy::print_stdout)]
            {
                print!("{}", tenantgraph::graphql::sdl());
            }
        }
    }
    Ok(())
}
