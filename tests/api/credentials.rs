//! Each tenant's credentials are tried at start-up: wrong or placeholder ones make the tenant
//! DOWN with the reason before any caller asks anything (on `/readyz`, in `tenants { status
//! statusReason }`, in the credentials gauge), and its calls then fail at once; a tenant that
//! does not answer is DEGRADED, not refused; and start-up waits for no tenant longer than its
//! deadline.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenant_emulator::Faults;
use tenantgraph::Config;
use tenantgraph::demo::Environment;
use test_kit::{RunningGateway, data, error_codes, fast_failing, post, start_gateway};

const WRONG_SECRET: &str = "not-the-applications-secret";
const PLACEHOLDER: &str = "REPLACE_WITH_THE_M2M_CLIENT_ID";
const STATUS: &str = "{ tenants { id status statusReason } }";

async fn environment(seed: u64) -> (Environment, Config) {
    let env = Environment::start(20, seed, |_| {}).await.unwrap();
    let mut config = env.gateway_config(SocketAddr::from(([127, 0, 0, 1], 0)));
    fast_failing(&mut config);
    (env, config)
}

async fn readyz(gateway: &RunningGateway) -> Value {
    reqwest::get(format!("http://{}/readyz", gateway.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Token requests each emulated tenant has answered so far.
fn token_requests(env: &Environment, tenant: &str) -> u64 {
    env.tenant(tenant)
        .unwrap()
        .control()
        .stats()
        .routes
        .get("POST /oauth/token")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn wrong_and_placeholder_credentials_are_down_with_their_reason_from_the_start() {
    let (env, mut config) = environment(31).await;
    config.tenants[1].client_secret = Some(WRONG_SECRET.to_owned().into());
    config.tenants[2].client_id = PLACEHOLDER.to_owned();
    let gateway = start_gateway(config).await;

    // Nobody has asked anything yet.
    let ready = readyz(&gateway).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        ready["tenants"],
        json!({"acme-eu": "UP", "acme-us": "DOWN", "globex": "DOWN"})
    );
    assert_eq!(
        ready["reasons"]["acme-us"],
        "credentials refused: the token endpoint answered 401 access_denied \"Unauthorized\": wrong client_id or client secret, or a secret rotated since"
    );
    let globex = ready["reasons"]["globex"].as_str().unwrap();
    assert!(
        globex.starts_with(&format!(
            "credentials refused: client_id \"{PLACEHOLDER}\" is a placeholder"
        )),
        "{globex}"
    );
    assert!(
        ready["reasons"].get("acme-eu").is_none(),
        "{}",
        ready["reasons"]
    );
    assert!(
        !ready.to_string().contains(WRONG_SECRET),
        "never the secret"
    );
    // One token request each, made at start-up and kept; none with a placeholder.
    assert_eq!(token_requests(&env, "acme-eu"), 1);
    assert_eq!(token_requests(&env, "acme-us"), 1);
    assert_eq!(token_requests(&env, "globex"), 0);

    let token = env
        .operator_token("Ops", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let status = post(&client, &gateway.url(), Some(&token), STATUS, json!({})).await;
    assert_eq!(
        data(&status)["tenants"],
        json!([
            {"id": "acme-eu", "status": "UP", "statusReason": null},
            {"id": "acme-us", "status": "DOWN", "statusReason": ready["reasons"]["acme-us"]},
            {"id": "globex", "status": "DOWN", "statusReason": globex},
        ])
    );

    // Calls to a refused tenant fail at once, without asking its token endpoint again.
    let search = post(
        &client,
        &gateway.url(),
        Some(&token),
        "{ searchUsers(tenants: [\"acme-us\"]) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(error_codes(&search), ["TENANT_UNAVAILABLE"], "{search}");
    assert!(!search.to_string().contains("Unauthorized"), "{search}");
    assert_eq!(token_requests(&env, "acme-us"), 1);

    let metrics = gateway.metrics().await;
    for (tenant, refused) in [("acme-eu", 0), ("acme-us", 1), ("globex", 1)] {
        let line =
            format!("tenantgraph_tenant_credentials_refused{{tenant=\"{tenant}\"}} {refused}");
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_tenant_that_does_not_answer_at_start_up_is_degraded_not_refused() {
    let (env, config) = environment(32).await;
    env.tenant("globex")
        .unwrap()
        .control()
        .set_faults(Faults {
            down: true,
            ..Faults::default()
        })
        .unwrap();
    let gateway = start_gateway(config).await;
    let ready = readyz(&gateway).await;
    assert_eq!(
        ready["tenants"],
        json!({"acme-eu": "UP", "acme-us": "UP", "globex": "DEGRADED"}),
        "{ready}"
    );
    let reason = ready["reasons"]["globex"].as_str().unwrap();
    assert!(!reason.contains("credentials"), "{reason}");

    // Back up, it answers and is UP: nothing was held against its credentials.
    env.tenant("globex").unwrap().control().clear_faults();
    let token = env
        .operator_token("Ops", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let search = post(
        &reqwest::Client::new(),
        &gateway.url(),
        Some(&token),
        "{ searchUsers(tenants: [\"globex\"]) { totalCount } }",
        json!({}),
    )
    .await;
    assert!(search.get("errors").is_none(), "{search}");
    assert_eq!(readyz(&gateway).await["tenants"]["globex"], "UP");
}

#[tokio::test]
async fn start_up_waits_no_longer_than_a_tenants_deadline() {
    let (env, config) = environment(33).await;
    env.tenant("acme-us")
        .unwrap()
        .control()
        .set_faults(Faults {
            latency_ms: 30_000,
            paths: vec!["/oauth/token".into()],
            ..Faults::default()
        })
        .unwrap();
    let started = Instant::now();
    let gateway = start_gateway(config).await;
    // fast_failing's deadline is 2 s; the token endpoint would take 30.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let ready = readyz(&gateway).await;
    assert_eq!(ready["tenants"]["acme-us"], "DEGRADED", "{ready}");
    assert_eq!(ready["tenants"]["acme-eu"], "UP", "{ready}");
}
