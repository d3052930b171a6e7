//! tenantgraph: one GraphQL endpoint over many Auth0 tenants.
//!
//! Auth0 keeps each tenant's user profiles to itself. tenantgraph calls each tenant's
//! Management API on the caller's behalf, batches those calls, caches what it reads, enforces
//! who may see and change what, and answers as one graph, with partial results when a tenant
//! is down. `docs/ARCHITECTURE.md` tells the design; this is the map.
//!
//! # Layout
//! From the request down; each layer uses only those below it.
//! - [`server`]: the axum router: `/graphql` (and its explorer), `/healthz`, `/readyz`,
//!   `/metrics`.
//! - [`graphql`]: the schema and its resolvers, which reach data only through a scope.
//! - [`scope`]: a caller's reach: which tenants, users and fields; every read and write.
//! - [`auth`]: bearer tokens verified against each issuer's JWKS into a [`auth::Caller`].
//! - `store`: the caches and the only road to Auth0, reads and writes alike.
//! - `tenant`: one Auth0 tenant: Management API client, token, budget, retries, breaker.
//! - `shared`: the connection to Redis, through which replicas share a cache, invalidations
//!   and each tenant's budget (optional).
//! - [`telemetry`]: OpenTelemetry traces over OTLP/HTTP (optional): a span per GraphQL
//!   operation and per call to a tenant, W3C trace context in and out.
//! - [`config`], [`error`] (the client-facing codes), `metrics`, `audit`, `validate`, `keys`,
//!   `request` (what a request's task carries): the ground floor.
//! - `portal` (with `[portal]`): the admin portal (`/admin/`) and the self-service page
//!   (`/account/`), server-rendered over the same schema through [`Gateway::execute`].
//! - [`demo`] (feature `demo`, on by default): emulated tenants, operator issuer, personas.
//!
//! [`Application::build`] binds and wires everything from a [`Config`]; tests use it with port 0.

// What is `pub` is the library's API: everything else says `pub(crate)`, so dead code shows.
#![warn(unreachable_pub)]

mod audit;
pub mod auth;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod graphql;
mod keys;
mod metrics;
mod portal;
mod request;
pub mod scope;
pub mod server;
mod shared;
mod store;
pub mod telemetry;
mod tenant;
mod validate;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use config::Config;
pub use server::Gateway;

use crate::auth::Verifier;
use crate::graphql::build_schema;
use crate::metrics::Metrics;
use crate::scope::Access;
use crate::server::{AppState, CallerLimiter, Explorer, OpsAccess};
use crate::store::Store;

/// A configured gateway, bound to its address, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    /// `server.ops_listen`, when set: metrics and the detailed readiness.
    ops_listener: Option<tokio::net::TcpListener>,
    state: Arc<AppState>,
    server: config::ServerConfig,
    /// The admin portal and self-service page, when `[portal]` is set.
    portal: Option<Arc<portal::Portal>>,
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

    /// As [`Application::build`], with the explorer opening on `explorer_token` (the demo's).
    pub async fn build_with(config: Config, explorer_token: Option<&str>) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
        Self::build_on(config, listener, explorer_token).await
    }

    /// As [`Application::build_with`], serving on `listener`, bound already (so that the
    /// address is known before the configuration is made: the portal's redirect URIs name it).
    pub async fn build_on(
        config: Config,
        listener: tokio::net::TcpListener,
        explorer_token: Option<&str>,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let http = http_client()?;
        let metrics = Metrics::new();
        let shared = match &config.redis {
            Some(redis) => Some(shared::Shared::start(redis.clone(), metrics.clone())?),
            None => None,
        };
        let tenants = tenant::clients(&config.tenants, &http, &metrics, shared.as_ref());
        let auditor = audit::Auditor::new(&config.audit, shared.clone(), metrics.clone())
            .map_err(|e| anyhow::anyhow!("cannot open the audit file: {e}"))?;
        // Wrong or placeholder credentials are said at once, and the tenant is DOWN, rather
        // than every tenant looking UP until a caller's request fails.
        tenant::probe::check_all(&tenants, tenant::probe::STARTUP_LIMIT).await;
        let store = Store::new(tenants, config.cache.clone(), metrics.clone(), shared);
        let verifier = Arc::new(Verifier::new(&config.auth, &config.tenants, &http));
        let access = Access::new(
            store,
            Arc::new(auditor),
            config.limits.clone(),
            config.self_service.clone(),
        );
        let schema = build_schema(&config.server, &config.limits);
        let explorer = config
            .server
            .graphiql
            .then(|| Explorer::new(explorer_token));
        let state = AppState {
            schema,
            verifier,
            access,
            metrics,
            explorer,
            limits: Arc::new(config.limits.clone()),
            caller_limit: Arc::new(CallerLimiter::new(config.limits.caller_rate)),
            failed_auth: Arc::new(CallerLimiter::new(config.limits.caller_rate)),
            ops: OpsAccess::of(&config.server),
        };
        let state = Arc::new(state);
        let portal = match &config.portal {
            Some(settings) => Some(Arc::new(portal::Portal::new(
                &config,
                settings,
                Gateway::new(state.clone()),
                &http,
            )?)),
            None => None,
        };
        let ops_listener = match config.server.ops_listen {
            Some(address) => Some(
                tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?,
            ),
            None => None,
        };
        Ok(Self {
            listener,
            ops_listener,
            state,
            server: config.server,
            portal,
        })
    }

    /// The wired gateway, to drive in-process as `POST /graphql` does (see [`Gateway`]).
    pub fn gateway(&self) -> Gateway {
        Gateway::new(self.state.clone())
    }

    /// The address of `server.ops_listen`, when set.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops_listener.as_ref().and_then(|l| l.local_addr().ok())
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
        if let Some(listener) = self.ops_listener {
            let router = server::ops_router(self.state.clone());
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, router).await {
                    tracing::error!(%error, "the operations listener stopped");
                }
            });
        }
        let mut router = server::router(self.state, &self.server);
        if let Some(portal) = self.portal {
            router = router.merge(portal::router(portal));
        }
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
