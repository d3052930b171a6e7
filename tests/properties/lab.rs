//! The gateways the properties run against, each built once per test binary on the shared
//! runtime:
//!
//! - [`lab`]: emulated tenants (20 users each) and an emulated operator issuer, as
//!   `tenantgraph::demo::Environment` starts them, with a gateway serving them over HTTP; its
//!   `Verifier` is also used directly.
//! - [`dead`]: a gateway whose tenants all point at a closed loopback port, never served: it runs
//!   documents in-process, fast, and every upstream call fails at once. It trusts `lab`'s
//!   operator issuer, so operator tokens minted there are verified as any would be; end users'
//!   keys are out of its reach, so their tokens are refused.

use std::net::{SocketAddr, TcpListener};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};
use tenant_emulator::{KeyChoice, MintRequest};
use tenantgraph::demo::{AUDIENCE, Environment, TENANTS, TENANTS_CLAIM};
use tenantgraph::{Config, Gateway};
use test_kit::{RunningGateway, fast_failing, start_gateway};

use crate::support::runtime;

pub struct Lab {
    pub env: Environment,
    /// `http://…/graphql` of the gateway in front of `env`.
    pub url: String,
    pub client: reqwest::Client,
    /// The gateway, in-process (its verifier: same issuers, audience, leeway, key cache).
    pub gateway: Gateway,
    /// A seeded acme-eu user, for end-user tokens and documents that name a real user.
    pub real_user: String,
    _running: RunningGateway,
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
    fast_failing(&mut config);
    // Hundreds of requests from one address and a few subjects: the per-caller budget would
    // turn most of them into RATE_LIMITED, a valid answer that tests nothing else.
    config.limits.caller_rate.per_second = 1e6;
    config.limits.caller_rate.burst = 1_000_000;
    let running = start_gateway(config).await;
    let url = running.url();
    let gateway = running.gateway.clone();
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
        gateway,
        real_user,
        _running: running,
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
/// in-process: no emulated tenant, no network wait, and every resolver's failure path taken.
pub fn dead() -> &'static Gateway {
    static DEAD: OnceLock<(tenantgraph::Application, Gateway)> = OnceLock::new();
    &DEAD.get_or_init(|| runtime().block_on(start_dead())).1
}

async fn start_dead() -> (tenantgraph::Application, Gateway) {
    let operators = &lab().env.operators;
    // A port that was free a moment ago and is closed now: connecting is refused at once.
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    // Through TOML, so settings added later keep their defaults here too.
    let mut toml = format!(
        "[auth]\naudience = \"{AUDIENCE}\"\noperator_issuer = \"{issuer}\"\n\
         operator_jwks_url = \"{jwks}/.well-known/jwks.json\"\ntenants_claim = \"{TENANTS_CLAIM}\"\n",
        issuer = operators.issuer(),
        jwks = operators.base_url(),
    );
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
    config.limits.caller_rate.per_second = 1e6;
    config.limits.caller_rate.burst = 1_000_000;
    let app = tenantgraph::Application::build(config).await.unwrap();
    let gateway = app.gateway();
    (app, gateway)
}
