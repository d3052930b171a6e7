//! A gateway on a free port, in this process, stopped when its handle drops.

use std::net::SocketAddr;
use std::time::Duration;

use tenantgraph::{Config, Gateway};

/// A serving gateway.
pub struct RunningGateway {
    pub addr: SocketAddr,
    /// `server.ops_listen`'s address, when configured.
    pub ops_addr: Option<SocketAddr>,
    /// The wired gateway, to run requests in-process.
    pub gateway: Gateway,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RunningGateway {
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// The text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.addr))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Tests fail fast: a dead tenant should not cost seconds, and the tenants' own budget is never
/// the bottleneck unless a test makes it one.
pub fn fast_failing(config: &mut Config) {
    for tenant in &mut config.tenants {
        tenant.timeout = Duration::from_secs(2);
        tenant.breaker.cooldown = Duration::from_millis(300);
        tenant.rate_limit.per_second = 1000.0;
        tenant.rate_limit.burst = 1000;
    }
}

/// Builds and serves a gateway from `config` (which should listen on port 0).
pub async fn start_gateway(config: Config) -> RunningGateway {
    start_gateway_with(config, None).await
}

/// As [`start_gateway`], with the explorer opening on `explorer_token` as the demo's does.
pub async fn start_gateway_with(config: Config, explorer_token: Option<&str>) -> RunningGateway {
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .unwrap();
    start_gateway_on(config, listener, explorer_token).await
}

/// As [`start_gateway_with`], on a listener bound already (the portal's address must be known
/// before the issuers start).
pub async fn start_gateway_on(
    config: Config,
    listener: tokio::net::TcpListener,
    explorer_token: Option<&str>,
) -> RunningGateway {
    let app = tenantgraph::Application::build_on(config, listener, explorer_token)
        .await
        .unwrap();
    let addr = app.local_addr();
    let ops_addr = app.ops_addr();
    let gateway = app.gateway();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    RunningGateway {
        addr,
        ops_addr,
        gateway,
        stop: Some(stop),
    }
}
