//! tenantgraph: one GraphQL endpoint over many Auth0 tenants.
//!
//! Auth0 keeps each tenant's user profiles to itself. tenantgraph calls each tenant's
//! Management API on the caller's behalf, batches those calls, caches what it reads, enforces
//! who may see and change what, and answers as one graph, with partial results when a tenant
//! is down.
//!
//! # Layout
//! - [`config`]: typed configuration (defaults → TOML → `TENANTGRAPH__*` environment).
//! - [`server`]: the axum router: `/graphql`, `/healthz`, `/readyz`, `/metrics`.
//! - [`auth`]: bearer tokens verified against each issuer's JWKS into a caller and its scope.
//! - [`tenant`]: one Auth0 tenant: Management API client, token cache, retries, limits, breaker.
//! - [`cache`]: the shared moka caches; [`store`]: reads through them, batched per tenant.
//! - [`shared`]: what replicas share through Redis (optional): cache, invalidations, budget.
//! - [`graphql`]: the schema and its resolvers, the per-request loaders, error reporting.
//! - [`validate`]: input checks made before any upstream call; [`audit`]: the audit trail.
//! - [`error`]: the client-facing error codes; [`metrics`]: Prometheus metrics.
//! - [`demo`]: the embedded demo (emulated tenants, operator issuer, personas).
//!
//! [`Application::build`] binds and wires everything from a [`Config`]; tests use it with port 0.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod config;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod metrics;
pub mod server;
pub mod shared;
pub mod store;
pub mod tenant;
pub mod validate;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use config::Config;

use crate::auth::Verifier;
use crate::cache::Caches;
use crate::graphql::{Services, build_schema};
use crate::metrics::Metrics;
use crate::server::AppState;
use crate::store::Store;
use crate::tenant::Tenants;

/// A configured gateway, bound to its address, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    server: config::ServerConfig,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

/// The HTTP client for every tenant and issuer: rustls with the ring provider.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    // Installing twice (tests build many gateways in one process) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("tenantgraph/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

impl Application {
    /// Wires the gateway from `config` and binds `config.server.listen`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, None).await
    }

    /// As [`Application::build`], with GraphiQL opening on `graphiql_token` (the demo's).
    pub async fn build_with(config: Config, graphiql_token: Option<&str>) -> anyhow::Result<Self> {
        config.validate()?;
        let http = http_client()?;
        let metrics = Metrics::new();
        let caches = Caches::new(&config.cache, metrics.clone());
        let shared = match &config.redis {
            Some(redis) => Some(shared::Shared::start(
                redis.clone(),
                caches.clone(),
                metrics.clone(),
            )?),
            None => None,
        };
        let tenants = Arc::new(Tenants::new(
            &config.tenants,
            &http,
            &metrics,
            shared.as_ref(),
        ));
        let store = Store::new(tenants.clone(), caches, config.cache.clone(), shared);
        let verifier = Arc::new(Verifier::new(&config.auth, &tenants, &http));
        let auditor = audit::Auditor::new(config.audit.path.as_deref())
            .map_err(|e| anyhow::anyhow!("cannot open the audit file: {e}"))?;
        let services = Services {
            store: store.clone(),
            metrics: metrics.clone(),
            auditor: Arc::new(auditor),
            limits: config.limits.clone(),
        };
        let schema = build_schema(services, &config.server, &config.limits);
        let graphiql = config
            .server
            .graphiql
            .then(|| Arc::from(server::graphiql_page(graphiql_token)));
        let state = AppState {
            schema,
            verifier,
            store,
            metrics,
            graphiql,
            limits: Arc::new(config.limits.clone()),
            caller_limit: Arc::new(server::caller_limit::CallerLimiter::new(
                config.limits.caller_rate,
            )),
        };
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
        Ok(Self {
            listener,
            state,
            server: config.server,
        })
    }

    /// The wired gateway (schema, store, verifier), to drive in-process: the property tests
    /// run documents through its schema as `POST /graphql` does, and tokens through its verifier.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` completes; then stops accepting, lets in-flight requests finish
    /// for at most `server.shutdown_grace`, and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = server::router(Arc::new(self.state), &self.server);
        let grace = self.server.shutdown_grace;
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signalled = stopping.clone();
        let serving = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("stopping: no new connections; finishing requests in flight");
            signalled.notify_one();
        });
        tokio::select! {
            served = serving => served,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(?grace, "requests still in flight after the grace period; stopping anyway");
                Ok(())
            }
        }
    }
}

/// Completes on Ctrl-C or SIGTERM: the signal to stop accepting and drain.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
