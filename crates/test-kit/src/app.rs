//! A test environment: emulated tenants, the operator issuer and a gateway on free ports, with
//! the demo personas' tokens, and a small GraphQL client.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::{Value, json};
use tenant_emulator::{EmulatorConfig, EmulatorHandle};
use tenantgraph::Config;
use tenantgraph::demo::{Environment, SignIn, Tokens};

use crate::gateway::{RunningGateway, fast_failing, start_gateway_on};

pub struct TestApp {
    pub env: Environment,
    pub tokens: Tokens,
    /// How each persona signs in on the login pages (the portal's tests use them).
    pub sign_ins: Vec<SignIn>,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub gateway: RunningGateway,
}

/// How to build a test environment.
pub struct Options {
    pub users: usize,
    pub seed: u64,
    pub tune_emulator: fn(&mut EmulatorConfig),
    pub tune_gateway: Box<dyn FnOnce(&mut Config) + Send>,
    /// The persona whose token the explorer page opens with, as in the demo; none by default.
    pub explorer_as: Option<fn(&Tokens) -> &str>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            users: 120,
            seed: 7,
            tune_emulator: |_| {},
            tune_gateway: Box::new(|_| {}),
            explorer_as: None,
        }
    }
}

impl Options {
    pub fn gateway(mut self, tune: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tune_gateway = Box::new(tune);
        self
    }

    /// Opens the explorer with a persona's token, as the demo does: `|t| &t.global_admin`.
    pub fn explorer_as(mut self, persona: fn(&Tokens) -> &str) -> Self {
        self.explorer_as = Some(persona);
        self
    }
}

/// [`TestApp::spawn`].
pub async fn spawn() -> TestApp {
    TestApp::spawn().await
}

/// [`TestApp::spawn_with`].
pub async fn spawn_with(options: Options) -> TestApp {
    TestApp::spawn_with(options).await
}

impl TestApp {
    /// The demo's environment (120 users per tenant) and a gateway in front of it.
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        // Bound first, so that the issuers know the portal's address.
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let env = Environment::start_for(
            options.users,
            options.seed,
            options.tune_emulator,
            Some(&base),
        )
        .await
        .unwrap();
        let (tokens, sign_ins) = env.personas_and_sign_ins().await.unwrap();
        let mut config = env.gateway_config(addr);
        env.with_portal(&mut config);
        fast_failing(&mut config);
        (options.tune_gateway)(&mut config);
        let explorer_token = options.explorer_as.map(|persona| persona(&tokens));
        let gateway = start_gateway_on(config, listener, explorer_token).await;
        // The personas signed in already; the upstream counts start from here.
        for tenant in &env.tenants {
            tenant.control().reset_stats();
        }
        Self {
            env,
            tokens,
            sign_ins,
            addr: gateway.addr,
            client: reqwest::Client::new(),
            gateway,
        }
    }

    pub fn url(&self) -> String {
        self.gateway.url()
    }

    /// The text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        self.gateway.metrics().await
    }

    /// `http://127.0.0.1:PORT`: where the portal is.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn tenant(&self, id: &str) -> &EmulatorHandle {
        self.env.tenant(id).unwrap()
    }

    /// Posts a query with a bearer token (or none) and returns the whole JSON answer.
    pub async fn query_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        post(&self.client, &self.url(), token, query, variables).await
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
        for tenant in &self.env.tenants {
            tenant.control().reset_stats();
        }
    }

    /// Every user of a tenant, straight from the emulator.
    pub fn users_of(&self, tenant: &str) -> Vec<tenant_emulator::UserSummary> {
        self.tenant(tenant).control().users(100_000, 0).users
    }

    /// A management token for a tenant, to reach it directly (the truth to compare with, and
    /// fixtures the gateway must not have made itself).
    pub async fn management_token(&self, tenant: &str) -> String {
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

    /// Any Management API request made directly to a tenant: (status, JSON body or null).
    pub async fn management(
        &self,
        tenant: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let handle = self.tenant(tenant);
        let token = self.management_token(tenant).await;
        let mut request = self
            .client
            .request(method, format!("{}{}", handle.base_url(), path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// The members of an organization of `tenant` as the emulator holds them now.
    pub fn members_of(&self, tenant: &str, organization: &str) -> Vec<String> {
        self.tenant(tenant)
            .control()
            .organizations()
            .into_iter()
            .find(|o| o.id == organization)
            .map(|o| o.members)
            .unwrap_or_default()
    }

    /// The first user of `tenant` who is not among `members`.
    pub fn first_non_member(&self, tenant: &str, members: &[String]) -> String {
        self.users_of(tenant)
            .into_iter()
            .find(|u| !members.contains(&u.user_id))
            .expect("a user outside the organization")
            .user_id
    }

    /// Makes `tenant` refuse every connection until its faults are set again.
    pub fn take_down(&self, tenant: &str) {
        self.tenant(tenant)
            .control()
            .set_faults(tenant_emulator::Faults {
                down: true,
                ..Default::default()
            })
            .unwrap();
    }

    /// A fresh database user made directly in a tenant (optionally in an organization), with an
    /// unverified email; returns its id.
    pub async fn fixture_user(
        &self,
        tenant: &str,
        email: &str,
        organization: Option<&str>,
    ) -> String {
        self.make_fixture(tenant, email, organization, false).await
    }

    /// As [`Self::fixture_user`], with the email verified.
    pub async fn verified_fixture_user(
        &self,
        tenant: &str,
        email: &str,
        organization: Option<&str>,
    ) -> String {
        self.make_fixture(tenant, email, organization, true).await
    }

    async fn make_fixture(
        &self,
        tenant: &str,
        email: &str,
        organization: Option<&str>,
        verified: bool,
    ) -> String {
        let created = self
            .management_post(
                tenant,
                "/api/v2/users",
                json!({"connection": "Username-Password-Authentication", "email": email,
                       "password": "Fixture-Passw0rd", "email_verified": verified, "verify_email": false}),
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

/// Posts a GraphQL request with a bearer token (or none) and returns the whole JSON answer.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(url)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
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
