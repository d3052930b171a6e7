//! The gateways the properties run against, each built once per test binary on the shared
//! runtime:
//!
//! - [`lab`]: emulated tenants (20 users each) and an emulated operator issuer, as
//!   `tenantgraph::demo::Environment` starts them, with a gateway serving them over HTTP; its
//!   `Verifier` is also used directly.
//! - [`dead`]: a gateway whose tenants all point at a closed loopback port, never served: its
//!   schema runs documents in-process, fast, and every upstream call fails at once.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tenant_emulator::{KeyChoice, MintRequest};
use tenantgraph::Config;
use tenantgraph::auth::Verifier;
use tenantgraph::demo::{AUDIENCE, Environment, TENANTS, TENANTS_CLAIM};

use crate::support::runtime;

pub struct Lab {
    pub env: Environment,
    /// `http://…/graphql` of the gateway in front of `env`.
    pub url: String,
    pub client: reqwest::Client,
    /// The gateway's own verifier (same issuers, audience, leeway, key cache).
    pub verifier: Arc<Verifier>,
    /// A seeded acme-eu user, for end-user tokens and documents that name a real user.
    pub real_user: String,
}

/// The emulated tenants, operator issuer and gateway, started on first use.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| runtime().block_on(start_lab()))
}

async fn start_lab() -> Lab {
    let env = Environment::start(20, 11, |_| {}).await.unwrap();
    let mut config = env.gateway_config(SocketAddr::from(([127, 0, 0, 1], 0)));
    // As tests/api does: fail fast, and let the tenants' own budget never be the bottleneck.
    for tenant in &mut config.tenants {
        tenant.timeout = Duration::from_secs(2);
        tenant.breaker.cooldown = Duration::from_millis(300);
        tenant.rate_limit.per_second = 1000.0;
        tenant.rate_limit.burst = 1000;
    }
    // Hundreds of requests from one address and a few subjects: the per-caller budget would
    // turn most of them into RATE_LIMITED, a valid answer that tests nothing else.
    config.limits.caller_rate.per_second = 1e6;
    config.limits.caller_rate.burst = 1_000_000;
    let app = tenantgraph::Application::build(config).await.unwrap();
    let verifier = app.state().verifier.clone();
    let url = format!("http://{}/graphql", app.local_addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let real_user = env
        .tenant("acme-eu")
        .unwrap()
        .control()
        .users(1, 0)
        .users
        .first()
        .map(|u| u.user_id.clone())
        .unwrap();
    Lab {
        env,
        url,
        client: tenantgraph::http_client().unwrap(),
        verifier,
        real_user,
    }
}

impl Lab {
    /// Claims of a valid operator token: issuer, subject, audience, permissions, tenants.
    pub fn operator_claims(
        &self,
        subject: &str,
        permissions: &[&str],
        tenants: Value,
    ) -> Map<String, Value> {
        let claims = json!({
            "iss": self.env.operators.issuer(),
            "sub": subject,
            "aud": AUDIENCE,
            "permissions": permissions,
            TENANTS_CLAIM: tenants,
        });
        claims.as_object().cloned().unwrap_or_default()
    }

    /// An operator token signed by the operator issuer (`KeyChoice::Tenant`: its published key).
    pub fn operator_token(
        &self,
        claims: Map<String, Value>,
        key: KeyChoice,
        kid: Option<String>,
    ) -> String {
        self.env
            .operators
            .control()
            .mint_token(MintRequest { claims, key, kid })
            .unwrap()
    }

    /// An acme-eu end user's token, signed by acme-eu's published key.
    pub fn end_user_token(&self, subject: &str) -> String {
        let claims = json!({"sub": subject, "aud": AUDIENCE});
        self.env
            .tenant("acme-eu")
            .unwrap()
            .control()
            .mint_token(MintRequest {
                claims: claims.as_object().cloned().unwrap_or_default(),
                key: KeyChoice::Tenant,
                kid: None,
            })
            .unwrap()
    }
}

/// A gateway whose tenants are unreachable (connection refused), for running documents
/// in-process: no emulator, no network wait, and every resolver's failure path taken.
pub fn dead() -> &'static tenantgraph::Application {
    static DEAD: OnceLock<tenantgraph::Application> = OnceLock::new();
    DEAD.get_or_init(|| runtime().block_on(start_dead()))
}

async fn start_dead() -> tenantgraph::Application {
    // A port that was free a moment ago and is closed now: connecting is refused at once.
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    // Through TOML, so settings added later keep their defaults here too.
    let mut toml = format!("[auth]\naudience = \"{AUDIENCE}\"\n");
    for (id, name) in TENANTS {
        toml.push_str(&format!(
            "[[tenants]]\nid = \"{id}\"\nname = \"{name}\"\ndomain = \"{id}.auth0.test\"\n\
             base_url = \"http://127.0.0.1:{closed}\"\nclient_id = \"tenantgraph\"\n\
             timeout = \"300ms\"\nretries = 0\n\
             # One failure opens the circuit for the whole run: later calls fail at once.\n\
             breaker = {{ failures = 1, cooldown = \"1h\" }}\n"
        ));
    }
    let mut config = Config::from_toml(&toml, |_| Some("secret".to_owned())).unwrap();
    config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    tenantgraph::Application::build(config).await.unwrap()
}
