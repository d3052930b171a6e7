//! Test harness: emulated tenants, the operator issuer and a gateway on free ports, with the
//! demo personas' tokens and a small GraphQL client.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use tenant_emulator::{EmulatorConfig, EmulatorHandle};
use tenantgraph::Config;
use tenantgraph::demo::{Environment, Tokens};

pub struct TestApp {
    pub env: Environment,
    pub tokens: Tokens,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// How to build a test environment.
pub struct Options {
    pub users: usize,
    pub seed: u64,
    pub tune_emulator: fn(&mut EmulatorConfig),
    pub tune_gateway: Box<dyn FnOnce(&mut Config) + Send>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            users: 120,
            seed: 7,
            tune_emulator: |_| {},
            tune_gateway: Box::new(|_| {}),
        }
    }
}

impl Options {
    pub fn gateway(mut self, tune: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tune_gateway = Box::new(tune);
        self
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    let env = Environment::start(options.users, options.seed, options.tune_emulator)
        .await
        .unwrap();
    let tokens = env.personas().await.unwrap();
    let mut config = env.gateway_config(SocketAddr::from(([127, 0, 0, 1], 0)));
    // Fail fast in tests: a dead tenant should not cost seconds.
    for tenant in &mut config.tenants {
        tenant.timeout = Duration::from_secs(2);
        tenant.breaker.cooldown = Duration::from_millis(300);
        tenant.rate_limit.per_second = 1000.0;
        tenant.rate_limit.burst = 1000;
    }
    (options.tune_gateway)(&mut config);
    let app = tenantgraph::Application::build(config).await.unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    // The personas signed in already; the upstream counts start from here.
    reset_counts(&env);
    TestApp {
        env,
        tokens,
        addr,
        client: reqwest::Client::new(),
        stop: Some(stop),
    }
}

pub fn reset_counts(env: &Environment) {
    for tenant in &env.tenants {
        tenant.control().reset_stats();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    pub fn tenant(&self, id: &str) -> &EmulatorHandle {
        self.env.tenant(id).unwrap()
    }

    /// Posts a query with a bearer token (or none) and returns the whole JSON answer.
    pub async fn query_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url())
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    pub async fn query(&self, token: &str, query: &str, variables: Value) -> Value {
        self.query_as(Some(token), query, variables).await
    }

    /// Upstream calls per route template, summed over the three tenants.
    pub fn upstream_calls(&self) -> BTreeMap<String, u64> {
        let mut calls = BTreeMap::new();
        for tenant in &self.env.tenants {
            for (route, count) in tenant.control().stats().routes {
                if route != "POST /oauth/token" {
                    *calls.entry(route).or_insert(0) += count;
                }
            }
        }
        calls
    }

    /// Upstream Management API calls of one tenant, per route.
    pub fn tenant_calls(&self, tenant: &str) -> BTreeMap<String, u64> {
        self.tenant(tenant)
            .control()
            .stats()
            .routes
            .into_iter()
            .filter(|(route, _)| route != "POST /oauth/token")
            .collect()
    }

    pub fn total_calls(&self) -> u64 {
        self.upstream_calls().values().sum()
    }

    pub fn reset_counts(&self) {
        reset_counts(&self.env);
    }

    /// Every user of a tenant, straight from the emulator.
    pub fn users_of(&self, tenant: &str) -> Vec<tenant_emulator::UserSummary> {
        self.tenant(tenant).control().users(100_000, 0).users
    }

    /// A management token for a tenant, to reach it directly (the truth to compare with, and
    /// fixtures the gateway must not have made itself).
    async fn management_token(&self, tenant: &str) -> String {
        let handle = self.tenant(tenant);
        let token: Value = self
            .client
            .post(format!("{}/oauth/token", handle.base_url()))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": "tenantgraph",
                "client_secret": "tenantgraph-secret",
                "audience": handle.management_audience(),
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        token["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn management_get(&self, tenant: &str, path_and_query: &str) -> Value {
        let handle = self.tenant(tenant);
        let token = self.management_token(tenant).await;
        let answer = self
            .client
            .get(format!("{}{}", handle.base_url(), path_and_query))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_success(),
            "{path_and_query}: {}",
            answer.status()
        );
        answer.json().await.unwrap()
    }

    pub async fn management_post(&self, tenant: &str, path: &str, body: Value) -> Value {
        let handle = self.tenant(tenant);
        let token = self.management_token(tenant).await;
        let answer = self
            .client
            .post(format!("{}{}", handle.base_url(), path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap_or(Value::Null)
    }

    /// A fresh database user made directly in a tenant (optionally in an organization), with an
    /// unverified email; returns its id.
    pub async fn fixture_user(
        &self,
        tenant: &str,
        email: &str,
        organization: Option<&str>,
    ) -> String {
        let created = self
            .management_post(
                tenant,
                "/api/v2/users",
                json!({"connection": "Username-Password-Authentication", "email": email,
                       "password": "Fixture-Passw0rd", "email_verified": false, "verify_email": false}),
            )
            .await;
        let id = created["user_id"].as_str().unwrap().to_owned();
        if let Some(organization) = organization {
            self.management_post(
                tenant,
                &format!("/api/v2/organizations/{organization}/members"),
                json!({"members": [id]}),
            )
            .await;
        }
        id
    }
}

/// The `extensions.code` of every error of an answer.
pub fn error_codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts an answer has no errors and returns its data.
pub fn data(answer: &Value) -> &Value {
    assert!(
        answer.get("errors").is_none(),
        "unexpected errors: {answer:#}"
    );
    &answer["data"]
}
