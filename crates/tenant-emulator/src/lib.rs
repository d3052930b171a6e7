//! A faithful local Auth0 tenant: the Authentication API (`/oauth/token` with client credentials,
//! password-realm and authorization codes, `/userinfo`, the JWKS and discovery, password-reset
//! requests), Universal Login's sign-in with the authorization code flow and PKCE (`/authorize`,
//! a server-rendered login page, logout), and the user, search, ticket, job, block, log,
//! organization, role and stats endpoints of the Management API, with Auth0's shapes, errors,
//! limits, merge rules, rate-limit headers, eventual consistency of search and of organization
//! members, log retention, a custom domain, and a deterministic seed of realistic users. A
//! control API under `/__emulator/` counts requests and injects faults.
//!
//! Faithful is the point: a client that works against it should work against Auth0, so Auth0's
//! awkward behaviour (the 1000-result window, search lag, 429s, error shapes) is reproduced, not
//! simplified away. `README.md` lists every endpoint, its scope, and the choices made where Auth0's
//! documentation is silent.
//!
//! # Use
//! As a library (tests, demos), one tenant per call, each on its own port:
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use tenant_emulator::{Emulator, EmulatorConfig};
//! let mut config = EmulatorConfig::new("acme-eu");
//! config.users = 200;
//! let tenant = Emulator::start(config).await?;
//! println!("{} serves {}", tenant.base_url(), tenant.issuer());
//! let first = tenant.control().users(1, 0);
//! tenant.shutdown().await;
//! # Ok(()) }
//! ```
//! As a binary: `tenant-emulator --tenant acme-eu --tenant globex --users 1000` prints one line
//! per tenant with its URL. Over HTTP, any Auth0 SDK pointed at that URL as its domain.
//!
//! # Layout
//! - `config`: [`EmulatorConfig`] and what it is made of.
//! - `server`: the router, the layers every API request passes, the accept loop.
//! - `state`: what handlers share; `clock`: the tenant's time.
//! - `store`: users with hash indexes and the lagging search view; logs kept for the retention;
//!   organizations with the lagging members list; roles, blocks, jobs.
//! - `seed`: the deterministic seed; `profile`: profile construction; `extra_users`: named users.
//! - `keys`: RSA keys, JWKS, signing, rotation.
//! - `auth_api`: `/oauth/token`, `/userinfo`, `/.well-known/*`,
//!   `/dbconnections/change_password`; the password check every login shares
//!   (`auth_api::authenticate`) and the claims of end-user tokens.
//! - `universal_login`: `/authorize`, the login page (`/u/login`) with its persona buttons, the
//!   logout endpoints, and the HTML they render. `login_state`: what that flow keeps on the
//!   server (login transactions, authorization codes, login sessions, personas).
//! - `mgmt`: the Management API, one module per area, with the token check (`mgmt::auth`),
//!   parameter parsing (`mgmt::params`), field selection and sort (`mgmt::projection`) and the
//!   write rules (`mgmt::validate`).
//! - `api_caller`: a verified Management API caller, and the cache of verified tokens.
//! - `errors`: Auth0's two error shapes. `ratelimit`: the Management API's token bucket and its
//!   headers, and the Authentication API's buckets per key (password resets per email and IP).
//! - `faults`: fault injection. `layers`: the layers that apply faults and the rate limit to
//!   requests. `stats`: request counts. `control`: the control API.

mod api_caller;
mod auth_api;
mod clock;
mod config;
mod control;
mod errors;
mod extra_users;
mod faults;
mod keys;
mod layers;
mod login_state;
mod mgmt;
mod profile;
mod ratelimit;
mod seed;
mod server;
mod state;
mod stats;
mod store;
mod universal_login;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{
    ALL_SCOPES, CHANGE_PASSWORD_LIMIT, ClientConfig, DATABASE_CONNECTION, DEFAULT_LOG_RETENTION,
    DEFAULT_PASSWORD, EmulatorConfig, ExtraUser, Persona, RateLimit, SOCIAL_CONNECTION,
    TokenEndpointAuthMethod,
};
pub use control::{Control, KeyChoice, MintRequest, OrganizationSummary, UserSummary, UsersPage};
pub use faults::Faults;
pub use ratelimit::NOMINAL_LIMIT;
pub use server::MAX_REQUEST_TARGET;
pub use stats::{RecordedRequest, Stats};

use crate::clock::Clock;
use crate::keys::KeyRing;
use crate::ratelimit::{KeyedRateLimiter, RateLimiter};
use crate::state::{AppState, CustomDomain, Tenant};

/// Starts emulated tenants.
pub struct Emulator;

impl Emulator {
    /// Seeds the tenant, binds its listener and serves it until the handle is shut down or
    /// dropped.
    pub async fn start(config: EmulatorConfig) -> anyhow::Result<EmulatorHandle> {
        validate(&config)?;
        let reference = config.now.unwrap_or_else(Utc::now);
        // Key generation and seeding are CPU work: keep them off the async workers.
        let (seed, tenant) = (config.seed, config.tenant.clone());
        let keys = tokio::task::spawn_blocking(move || KeyRing::new(seed, &tenant))
            .await
            .context("key generation task")??;
        let seeding = Instant::now();
        let seed_config = config.clone();
        let store = tokio::task::spawn_blocking(move || seed::build(&seed_config, reference))
            .await
            .context("seeding task")??;
        let elapsed_ms = seeding.elapsed().as_millis();
        tracing::debug!(tenant = %config.tenant, users = config.users, elapsed_ms, "seeded");

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let tenant = Tenant {
            issuer: format!("https://{}/", config.domain),
            management_audience: format!("https://{}/api/v2/", config.domain),
            custom: config.custom_domain.as_ref().map(|domain| CustomDomain {
                domain: domain.clone(),
                issuer: format!("https://{domain}/"),
            }),
            name: config.tenant.clone(),
            domain: config.domain.clone(),
            clients: config.clients.clone(),
            token_ttl: config.token_ttl,
            seed: config.seed,
        };
        let state = Arc::new(AppState::new(
            tenant,
            Clock::new(reference),
            store,
            keys,
            RateLimiter::new(config.rate_limit),
            KeyedRateLimiter::new(config.change_password_limit),
            config.personas.clone(),
        ));
        let (shutdown, signal) = watch::channel(false);
        let app = server::router(Arc::clone(&state));
        let task = tokio::spawn(server::serve(listener, app, signal));
        tracing::info!(tenant = %config.tenant, %addr, domain = %config.domain, "listening");
        Ok(EmulatorHandle {
            addr,
            control: Control::new(Arc::clone(&state)),
            state,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

fn validate(config: &EmulatorConfig) -> anyhow::Result<()> {
    if config.tenant.is_empty() || config.domain.is_empty() {
        bail!("a tenant needs a name and a domain");
    }
    for limit in [config.rate_limit, config.change_password_limit]
        .into_iter()
        .flatten()
    {
        if !(limit.per_second > 0.0 && limit.per_second.is_finite()) || limit.burst == 0 {
            bail!("a rate limit needs per_second > 0 and burst > 0");
        }
    }
    if config.clients.is_empty() {
        bail!("a tenant needs at least one client");
    }
    if let Some(custom) = &config.custom_domain
        && (custom.is_empty() || custom.eq_ignore_ascii_case(&config.domain))
    {
        bail!("a custom domain must be a name other than the tenant's domain");
    }
    if config.log_retention.is_zero() {
        bail!("a log retention must be longer than zero");
    }
    Ok(())
}

/// A running tenant. Dropping it stops the server; [`EmulatorHandle::shutdown`] also waits.
pub struct EmulatorHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    control: Control,
    /// Dropping or sending on it stops the accept loop and closes connections.
    shutdown: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn tenant(&self) -> &str {
        &self.state.tenant.name
    }

    pub fn domain(&self) -> &str {
        &self.state.tenant.domain
    }

    /// `https://{domain}/`, the `iss` of every token the tenant issues through its canonical
    /// domain.
    pub fn issuer(&self) -> String {
        self.state.tenant.issuer.clone()
    }

    /// The custom domain, if the tenant has one.
    pub fn custom_domain(&self) -> Option<&str> {
        self.state.tenant.custom.as_ref().map(|c| c.domain.as_str())
    }

    /// `https://{custom domain}/`, the `iss` of tokens requested through the custom domain.
    pub fn custom_issuer(&self) -> Option<String> {
        self.state.tenant.custom.as_ref().map(|c| c.issuer.clone())
    }

    /// `https://{domain}/api/v2/`, the audience of management tokens.
    pub fn management_audience(&self) -> String {
        self.state.tenant.management_audience.clone()
    }

    /// The in-process twin of the `/__emulator/` API.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops serving and waits until the server task has finished.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
    }
}
