//! The child roles: the emulated tenants, the gateway and the ceiling server, each run by this
//! executable re-executed with a hidden `--role`, and the ready lines they print to the parent.

use std::net::SocketAddr;
use std::path::Path;

use hyper::body::Bytes;
use hyper::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::json;

use tenantgraph::demo::{ALL_PERMISSIONS, Environment, TENANTS};

/// What the tenants child tells the parent, as one JSON line on stdout.
#[derive(Debug, Serialize, Deserialize)]
pub struct TenantsReady {
    pub tenants: Vec<TenantInfo>,
    pub operator_issuer: String,
    pub operator_jwks_url: String,
    /// A global admin's token: every permission, every tenant.
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub base_url: String,
    /// Every user id of the tenant, in user-id order.
    pub users: Vec<String>,
}

/// What the gateway and ceiling children print once listening.
#[derive(Debug, Serialize, Deserialize)]
pub struct ServerReady {
    pub addr: SocketAddr,
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

/// The tenants of a benchmark of `count` tenants: the demo's three, or `t01`, `t02`, ….
fn tenant_ids(count: usize) -> Vec<String> {
    if count == TENANTS.len() {
        TENANTS.iter().map(|(id, _)| (*id).to_owned()).collect()
    } else {
        (1..=count).map(|i| format!("t{i:02}")).collect()
    }
}

pub async fn role_tenants(users: usize, seed: u64, count: usize) -> anyhow::Result<()> {
    init_child_logs("warn");
    let result = async {
        let ids = tenant_ids(count);
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let environment = Environment::start_named(&ids, users, seed, |_| {}).await?;
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

pub async fn role_gateway(config: &Path) -> anyhow::Result<()> {
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

pub async fn role_ceiling(body_bytes: usize) -> anyhow::Result<()> {
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
