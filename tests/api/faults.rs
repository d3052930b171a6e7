//! Upstream faults, each injected into one tenant: the others' data is served, the error is
//! typed and names the tenant, nothing internal leaks, retries are bounded, the tenant's budget
//! is respected, and the tenant is used again once it recovers. Also stale-if-error.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenant_emulator::Faults;

use test_kit::{Options, TestApp, spawn, spawn_with};

const SEARCH: &str = "{ searchUsers(first: 30) { totalCount edges { node { tenant { id } } } } }";

fn tenants_of(answer: &Value) -> Vec<String> {
    let mut tenants: Vec<String> = answer["data"]["searchUsers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["tenant"]["id"].as_str().unwrap().to_owned())
        .collect();
    tenants.sort();
    tenants.dedup();
    tenants
}

/// Nothing of the transport, the tenant's answer or the credentials reaches the client.
fn assert_no_internals(answer: &Value, app: &TestApp) {
    let text = answer["errors"].to_string();
    for leak in [
        "127.0.0.1",
        "http",
        "eyJ",
        "injected",
        "secret",
        "Bearer",
        "connection",
        "500",
        "503",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked: {text}");
    }
    assert!(!text.contains(&app.tokens.global_admin));
}

async fn check_fault(name: &str, faults: Faults, code: &str, max_calls: u64) {
    let app = spawn().await;
    let globex = app.tenant("globex");
    // The gateway holds a management token already, as a running one would.
    let warm = "{ user(tenant: \"globex\", id: \"auth0|warm-up\") { id } }";
    assert_eq!(
        app.query(&app.tokens.global_admin, warm, json!({})).await["data"]["user"],
        Value::Null
    );
    globex.control().set_faults(faults).unwrap();
    globex.control().reset_stats();
    let answer = app.query(&app.tokens.global_admin, SEARCH, json!({})).await;
    assert_eq!(
        tenants_of(&answer),
        ["acme-eu", "acme-us"],
        "{name}: the others are served"
    );
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{name}: {answer:#}");
    assert_eq!(errors[0]["extensions"]["code"], code, "{name}");
    assert_eq!(errors[0]["extensions"]["tenant"], "globex", "{name}");
    assert_no_internals(&answer, &app);
    let calls = globex
        .control()
        .stats()
        .routes
        .get("GET /api/v2/users")
        .copied()
        .unwrap_or(0);
    assert!(
        (1..=max_calls).contains(&calls),
        "{name}: {calls} calls, at most {max_calls}"
    );

    globex.control().clear_faults();
    tokio::time::sleep(Duration::from_millis(350)).await; // the test breaker's cool-down
    let answer = app.query(&app.tokens.global_admin, SEARCH, json!({})).await;
    assert!(
        answer.get("errors").is_none(),
        "{name}: recovered: {answer:#}"
    );
    assert_eq!(
        tenants_of(&answer),
        ["acme-eu", "acme-us", "globex"],
        "{name}"
    );
}

/// Reads are tried at most 1 + `retries` (2) times.
const READ_ATTEMPTS: u64 = 3;

#[tokio::test]
async fn server_errors() {
    let faults = Faults {
        error_rate: 1.0,
        error_status: Some(503),
        ..Faults::default()
    };
    check_fault("5xx", faults, "TENANT_UNAVAILABLE", READ_ATTEMPTS).await;
}

#[tokio::test]
async fn garbage_answers() {
    check_fault(
        "garbage",
        Faults {
            garbage_body: true,
            ..Faults::default()
        },
        "TENANT_UNAVAILABLE",
        READ_ATTEMPTS,
    )
    .await;
}

#[tokio::test]
async fn connection_resets() {
    check_fault(
        "reset",
        Faults {
            down: true,
            ..Faults::default()
        },
        "TENANT_UNAVAILABLE",
        READ_ATTEMPTS,
    )
    .await;
}

#[tokio::test]
async fn a_rate_limit_storm() {
    let faults = Faults {
        rate_limit_storm: true,
        ..Faults::default()
    };
    check_fault("429 storm", faults, "TENANT_RATE_LIMITED", READ_ATTEMPTS).await;
}

#[tokio::test]
async fn a_hung_tenant() {
    let started = Instant::now();
    check_fault(
        "hung",
        Faults {
            latency_ms: 30_000,
            ..Faults::default()
        },
        "TENANT_TIMEOUT",
        1,
    )
    .await;
    // The test tenants' deadline is 2 s: the whole check takes far less than the 30 s hang.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_tenant_that_is_gone_entirely() {
    let app = spawn().await;
    let globex = &app.env.tenants[2];
    assert_eq!(globex.tenant(), "globex");
    // Drop the emulated tenant: its port now refuses connections.
    let mut env = app;
    let gone = env.env.tenants.remove(2);
    gone.shutdown().await;
    let answer = env.query(&env.tokens.global_admin, SEARCH, json!({})).await;
    assert_eq!(tenants_of(&answer), ["acme-eu", "acme-us"]);
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "TENANT_UNAVAILABLE"
    );
    assert_eq!(answer["errors"][0]["extensions"]["tenant"], "globex");
    assert_no_internals(&answer, &env);
}

#[tokio::test]
async fn the_tenants_budget_is_respected_under_a_burst() {
    let app = spawn_with(Options::default().gateway(|c| {
        let acme = c.tenants.iter_mut().find(|t| t.id == "acme-eu").unwrap();
        acme.rate_limit.per_second = 10.0;
        acme.rate_limit.burst = 5;
        acme.timeout = Duration::from_secs(3);
    }))
    .await;
    let users = app.users_of("acme-eu");
    let started = Instant::now();
    let lookups = users.iter().take(25).map(|u| {
        app.query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id } }",
            json!({"id": u.user_id}),
        )
    });
    let answers = futures::future::join_all(lookups).await;
    let elapsed = started.elapsed().as_secs_f64();
    let calls = app
        .tenant("acme-eu")
        .control()
        .stats()
        .routes
        .get("GET /api/v2/users/{id}")
        .copied()
        .unwrap_or(0);
    // A token bucket of 5 refilled at 10/s allows at most 5 + 10·t calls in t seconds.
    let allowed = 5.0 + 10.0 * elapsed;
    assert!(
        (calls as f64) <= allowed + 1.0,
        "{calls} calls in {elapsed:.2} s, budget {allowed:.1}"
    );
    let served = answers
        .iter()
        .filter(|a| a["data"]["user"].is_object())
        .count();
    let limited = answers
        .iter()
        .filter(|a| a["errors"][0]["extensions"]["code"] == "TENANT_RATE_LIMITED")
        .count();
    assert_eq!(
        served + limited,
        25,
        "each lookup is served or refused as rate limited"
    );
    assert!(served >= 5, "{served}");
}

#[tokio::test]
async fn a_cached_profile_is_served_stale_while_its_tenant_fails() {
    let app = spawn_with(Options::default().gateway(|c| {
        c.cache.profile_ttl = Duration::from_millis(300);
        c.cache.stale_if_error = Duration::from_secs(60);
    }))
    .await;
    let user = &app.users_of("globex")[0];
    let query = "query($id: ID!) { user(tenant: \"globex\", id: $id) { id email } }";
    let fresh = app
        .query(&app.tokens.global_admin, query, json!({"id": user.user_id}))
        .await;
    assert!(
        fresh
            .get("extensions")
            .is_none_or(|e| e.get("stale").is_none())
    );
    tokio::time::sleep(Duration::from_millis(400)).await; // past the TTL
    app.take_down("globex");
    let stale = app
        .query(&app.tokens.global_admin, query, json!({"id": user.user_id}))
        .await;
    assert_eq!(stale["data"]["user"], fresh["data"]["user"]);
    assert!(stale.get("errors").is_none(), "{stale:#}");
    let marks = stale["extensions"]["stale"].as_array().unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0]["tenant"], "globex");
    assert_eq!(marks[0]["id"], user.user_id.as_str());

    // A user never read before has nothing stale to fall back on.
    let other = &app.users_of("globex")[1];
    let missing = app
        .query(
            &app.tokens.global_admin,
            query,
            json!({"id": other.user_id}),
        )
        .await;
    assert_eq!(
        missing["errors"][0]["extensions"]["code"],
        "TENANT_UNAVAILABLE"
    );
}

#[tokio::test]
async fn stale_copies_are_bounded() {
    let app = spawn_with(Options::default().gateway(|c| {
        c.cache.profile_ttl = Duration::from_millis(200);
        c.cache.stale_if_error = Duration::from_millis(200);
    }))
    .await;
    let user = &app.users_of("globex")[0];
    let query = "query($id: ID!) { user(tenant: \"globex\", id: $id) { id } }";
    app.query(&app.tokens.global_admin, query, json!({"id": user.user_id}))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await; // past TTL + stale bound
    app.take_down("globex");
    let answer = app
        .query(&app.tokens.global_admin, query, json!({"id": user.user_id}))
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "TENANT_UNAVAILABLE",
        "{answer:#}"
    );
}
