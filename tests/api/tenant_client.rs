//! The tenant client against misbehaving tenants: a tenant back after an outage answers the
//! first request whatever it fans out to; a client hanging up hands back what its calls held;
//! retries wait longer each time; log events carrying both ids are read; a free tenant's
//! budget is learnt and kept to; the Authentication API's limits stay its own; refused
//! credentials put the tenant DOWN without asking for a token on every request; custom
//! domains; reads, searches and writes right after a write, while Auth0's lists lag; emails of
//! any case.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenant_emulator::{EmulatorConfig, ExtraUser, Faults, RateLimit, SOCIAL_CONNECTION};
use tenantgraph::config::TenantRateLimit;
use tenantgraph::demo::AUDIENCE;

use test_kit::{Options, TestApp, data, error_codes, spawn, spawn_with};

const GLOBEX: &str = "globex";

/// The longest any wait for the gateway to reach a state may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(8);

fn down() -> Faults {
    Faults {
        down: true,
        ..Faults::default()
    }
}

/// `Tenant.status` and `Tenant.statusReason` of one tenant (costs no upstream call).
async fn status_of(app: &TestApp, tenant: &str) -> (String, Value) {
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ tenants { id status statusReason } }",
            json!({}),
        )
        .await;
    let entry = data(&answer)["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tenant)
        .unwrap()
        .clone();
    (
        entry["status"].as_str().unwrap().to_owned(),
        entry["statusReason"].clone(),
    )
}

async fn readiness(app: &TestApp) -> Value {
    app.client
        .get(format!("http://{}/readyz", app.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Takes `tenant` down and makes requests until its circuit is open.
async fn open_circuit(app: &TestApp, tenant: &str) {
    app.tenant(tenant).control().set_faults(down()).unwrap();
    let started = Instant::now();
    loop {
        app.query(
            &app.tokens.global_admin,
            "query($t: ID!) { searchUsers(tenants: [$t], first: 1) { totalCount } }",
            json!({"t": tenant}),
        )
        .await;
        if status_of(app, tenant).await.0 == "DOWN" {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{tenant}'s circuit never opened"
        );
    }
}

/// Brings `tenant` back and waits, without calling it, until the breaker's cool-down is over.
async fn bring_back(app: &TestApp, tenant: &str) {
    app.tenant(tenant).control().clear_faults();
    wait_for_cool_down(app, tenant).await;
}

async fn wait_for_cool_down(app: &TestApp, tenant: &str) {
    let started = Instant::now();
    while status_of(app, tenant).await.0 == "DOWN" {
        assert!(started.elapsed() < PATIENCE, "{tenant} stayed DOWN");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Opens `tenant`'s circuit, brings it back, and answers `query` as the first request after the
/// cool-down, with the tenant's upstream calls counted from there.
async fn first_answer_after_an_outage(
    app: &TestApp,
    tenant: &str,
    query: &str,
    variables: Value,
) -> Value {
    open_circuit(app, tenant).await;
    bring_back(app, tenant).await;
    app.tenant(tenant).control().reset_stats();
    app.query(&app.tokens.global_admin, query, variables).await
}

/// Reads `ids` of `tenant` through the gateway once, so that their profiles are cached.
async fn cache_profiles(app: &TestApp, tenant: &str, ids: &[String]) {
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [UserRef!]!) { users(refs: $r) { id } }",
            json!({"r": refs(tenant, ids)}),
        )
        .await;
    assert!(
        data(&answer)["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_object)
    );
}

fn ids_of(app: &TestApp, tenant: &str, count: usize) -> Vec<String> {
    app.users_of(tenant)
        .into_iter()
        .take(count)
        .map(|u| u.user_id)
        .collect()
}

fn refs(tenant: &str, ids: &[String]) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| json!({"tenant": tenant, "id": id}))
            .collect(),
    )
}

/// The calls `tenant` received on one route template since its counts were last reset.
fn calls_to(app: &TestApp, tenant: &str, route: &str) -> u64 {
    app.tenant(tenant)
        .control()
        .stats()
        .routes
        .get(route)
        .copied()
        .unwrap_or(0)
}

// 1. No wedge: the first request after an outage is answered, whatever it fans out to.

#[tokio::test]
async fn stats_are_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    // Five calls to the tenant at once, one of which is the breaker's trial.
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "{ stats(tenants: [\"globex\"], days: 7) { users partial failedTenants tenants { tenant { id } users } } }",
        json!({}),
    )
    .await;
    let stats = &data(&answer)["stats"];
    assert_eq!(stats["partial"], false);
    assert_eq!(stats["users"], app.users_of(GLOBEX).len());
    assert_eq!(stats["tenants"][0]["tenant"]["id"], GLOBEX);
    assert_eq!(calls_to(&app, GLOBEX, "GET /api/v2/users"), 3);
}

#[tokio::test]
async fn searches_are_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    // Two searches of the tenant at once, as a dashboard's two lists would make.
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "{ verified: searchUsers(tenants: [\"globex\"], query: \"email_verified:true\", first: 5) { totalCount edges { node { id } } }
           unverified: searchUsers(tenants: [\"globex\"], query: \"email_verified:false\", first: 5) { totalCount edges { node { id } } } }",
        json!({}),
    )
    .await;
    let found = data(&answer);
    let truth = app.users_of(GLOBEX);
    let verified = truth.iter().filter(|u| u.email_verified).count();
    assert_eq!(found["verified"]["totalCount"], verified);
    assert_eq!(found["unverified"]["totalCount"], truth.len() - verified);
    assert_eq!(found["verified"]["edges"].as_array().unwrap().len(), 5);
    assert_eq!(calls_to(&app, GLOBEX, "GET /api/v2/users"), 2);
}

#[tokio::test]
async fn pages_of_users_are_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    // Every user of the tenant: more ids than one search takes, so several searches at once.
    let ids = ids_of(&app, GLOBEX, usize::MAX);
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "query($r: [UserRef!]!) { users(refs: $r) { id } }",
        json!({"r": refs(GLOBEX, &ids)}),
    )
    .await;
    let found: Vec<&str> = data(&answer)["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, ids);
    assert!(calls_to(&app, GLOBEX, "GET /api/v2/users") >= 2);
}

#[tokio::test]
async fn a_users_page_is_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    let id = ids_of(&app, GLOBEX, 1).remove(0);
    // The profile was read before the outage; its nested fields are asked of the tenant, at once.
    cache_profiles(&app, GLOBEX, std::slice::from_ref(&id)).await;
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "query($id: ID!) { user(tenant: \"globex\", id: $id) { id organizations { id } roles { id } logs(first: 3) { id } bruteForceBlocks { identifier } } }",
        json!({"id": id}),
    )
    .await;
    let user = &data(&answer)["user"];
    assert_eq!(user["id"], id.as_str());
    for field in ["organizations", "roles", "logs", "bruteForceBlocks"] {
        assert!(user[field].is_array(), "{field}: {answer:#}");
    }
    for route in [
        "GET /api/v2/organizations",
        "GET /api/v2/roles",
        "GET /api/v2/users/{id}/logs",
        "GET /api/v2/user-blocks/{id}",
    ] {
        assert_eq!(calls_to(&app, GLOBEX, route), 1, "{route}");
    }
}

#[tokio::test]
async fn memberships_are_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    let ids = ids_of(&app, GLOBEX, 40);
    cache_profiles(&app, GLOBEX, &ids).await;
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "query($r: [UserRef!]!) { users(refs: $r) { id organizations { id } roles { id } } }",
        json!({"r": refs(GLOBEX, &ids)}),
    )
    .await;
    for user in data(&answer)["users"].as_array().unwrap() {
        let path = format!(
            "/api/v2/users/{}",
            user["id"].as_str().unwrap().replace('|', "%7C")
        );
        for field in ["organizations", "roles"] {
            let truth = app.management_get(GLOBEX, &format!("{path}/{field}")).await;
            assert_eq!(
                sorted_ids(&user[field]),
                sorted_ids(&truth),
                "{field} of {user}"
            );
        }
    }
}

/// The `id`s of a list of objects, sorted.
fn sorted_ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn logs_are_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    let ids = ids_of(&app, GLOBEX, 6);
    cache_profiles(&app, GLOBEX, &ids).await;
    // One call per user, all at once.
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "query($r: [UserRef!]!) { users(refs: $r) { id logs(first: 2) { id type } } }",
        json!({"r": refs(GLOBEX, &ids)}),
    )
    .await;
    for user in data(&answer)["users"].as_array().unwrap() {
        assert!(user["logs"].is_array(), "{user}");
    }
    assert_eq!(calls_to(&app, GLOBEX, "GET /api/v2/users/{id}/logs"), 6);
}

#[tokio::test]
async fn brute_force_blocks_are_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    let ids = ids_of(&app, GLOBEX, 6);
    cache_profiles(&app, GLOBEX, &ids).await;
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "query($r: [UserRef!]!) { users(refs: $r) { id bruteForceBlocks { identifier } } }",
        json!({"r": refs(GLOBEX, &ids)}),
    )
    .await;
    for user in data(&answer)["users"].as_array().unwrap() {
        assert!(user["bruteForceBlocks"].is_array(), "{user}");
    }
    assert_eq!(calls_to(&app, GLOBEX, "GET /api/v2/user-blocks/{id}"), 6);
}

#[tokio::test]
async fn lookups_by_email_are_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    // A page of 40 users with verified emails: their linked accounts take two searches of the
    // recovering tenant at once (30 emails a search), beside a lookup and a person.
    let acme: Vec<_> = app
        .users_of("acme-eu")
        .into_iter()
        .filter(|u| u.email_verified && u.email.is_some())
        .take(40)
        .collect();
    let ids: Vec<String> = acme.iter().map(|u| u.user_id.clone()).collect();
    let globex = app.users_of(GLOBEX);
    let person = globex
        .iter()
        .find(|u| u.email_verified && u.email.is_some())
        .unwrap();
    let email = person.email.clone().unwrap();
    cache_profiles(&app, "acme-eu", &ids).await;
    let answer = first_answer_after_an_outage(
        &app,
        GLOBEX,
        "query($r: [UserRef!]!, $e: String!) {
           users(refs: $r) { id linkedAccounts { id tenant { id } } }
           usersByEmail(email: $e) { id tenant { id } }
           person(email: $e) { accounts { id tenant { id } } } }",
        json!({"r": refs("acme-eu", &ids), "e": email}),
    )
    .await;
    let found = data(&answer);
    let in_globex = |accounts: &Value| -> Vec<String> {
        accounts
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["tenant"]["id"] == GLOBEX)
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let expected = vec![person.user_id.clone()];
    assert_eq!(in_globex(&found["usersByEmail"]), expected);
    assert_eq!(in_globex(&found["person"]["accounts"]), expected);
    for (user, summary) in found["users"].as_array().unwrap().iter().zip(&acme) {
        let lower = summary.email.as_deref().unwrap().to_lowercase();
        let expected: Vec<String> = globex
            .iter()
            .filter(|g| {
                g.email_verified
                    && g.email.as_deref().map(str::to_lowercase).as_deref() == Some(&*lower)
            })
            .map(|g| g.user_id.clone())
            .collect();
        assert_eq!(in_globex(&user["linkedAccounts"]), expected, "{user}");
    }
    assert!(calls_to(&app, GLOBEX, "GET /api/v2/users") >= 2);
}

#[tokio::test]
async fn a_data_subject_export_is_answered_by_the_first_request_after_an_outage() {
    let app = spawn().await;
    let person = app
        .users_of(GLOBEX)
        .into_iter()
        .find(|u| u.email_verified && u.email.is_some())
        .unwrap();
    let email = person.email.clone().unwrap();
    open_circuit(&app, GLOBEX).await;
    bring_back(&app, GLOBEX).await;
    // Its reads are joined (`try_join!`): one failing would drop the others, trial included.
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($e: String!) { exportPerson(email: $e) }",
            json!({"e": email}),
        )
        .await;
    let export = &data(&answer)["exportPerson"];
    let accounts = export["accounts"].as_array().unwrap();
    let exported = accounts
        .iter()
        .find(|a| a["tenant"] == GLOBEX)
        .unwrap_or_else(|| panic!("no globex account: {export:#}"));
    assert_eq!(exported["user_id"], person.user_id.as_str());
    assert!(exported["logs"].is_array() && exported["roles"].is_array());
}

// 1. No wedge: cancellation and reporting.

#[tokio::test]
async fn a_client_hanging_up_during_the_trial_call_does_not_wedge_the_tenant() {
    let app = spawn_with(Options::default().gateway(|config| {
        let globex = config.tenants.iter_mut().find(|t| t.id == GLOBEX).unwrap();
        globex.timeout = Duration::from_secs(5);
    }))
    .await;
    // The gateway holds globex's management token already, as a running one would.
    cache_profiles(&app, GLOBEX, &ids_of(&app, GLOBEX, 1)).await;
    open_circuit(&app, GLOBEX).await;
    // Back, but slow: the trial call will still be under way when its client hangs up.
    let globex = app.tenant(GLOBEX);
    globex
        .control()
        .set_faults(Faults {
            latency_ms: 3_000,
            ..Faults::default()
        })
        .unwrap();
    wait_for_cool_down(&app, GLOBEX).await;
    globex.control().reset_stats();
    let search = "{ searchUsers(tenants: [\"globex\"], first: 3) { totalCount } }";
    let hung_up = tokio::time::timeout(
        Duration::from_millis(300),
        app.query(&app.tokens.global_admin, search, json!({})),
    )
    .await;
    assert!(hung_up.is_err(), "the client gave up before the answer");
    assert_eq!(
        calls_to(&app, GLOBEX, "GET /api/v2/users"),
        1,
        "the trial call was made"
    );

    globex.control().clear_faults();
    let started = Instant::now();
    let answer = app.query(&app.tokens.global_admin, search, json!({})).await;
    assert_eq!(
        data(&answer)["searchUsers"]["totalCount"],
        app.users_of(GLOBEX).len()
    );
    // Not after the hung-up trial would have run its course (2.7 s more): its permit was
    // handed back.
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status_of(&app, GLOBEX).await.0, "UP");
}

#[tokio::test]
async fn a_client_hanging_up_while_its_calls_wait_for_budget_gives_the_budget_back() {
    let app = spawn_with(Options::default().gateway(|config| {
        let globex = config.tenants.iter_mut().find(|t| t.id == GLOBEX).unwrap();
        globex.rate_limit = TenantRateLimit {
            per_second: 4.0,
            burst: 2,
            caller_share: 1.0,
        };
        globex.timeout = Duration::from_secs(5);
    }))
    .await;
    let ids = ids_of(&app, GLOBEX, 24);
    cache_profiles(&app, GLOBEX, &ids).await;
    app.reset_counts();
    // 24 log reads: what the bucket holds goes at once, the next ones reserve the budget of
    // the coming 5 s (one every 250 ms) and wait for it, the rest are refused.
    let logs = "query($r: [UserRef!]!) { users(refs: $r) { id logs(first: 1) { id } } }";
    let started = Instant::now();
    let hung_up = tokio::time::timeout(
        Duration::from_millis(200),
        app.query(
            &app.tokens.global_admin,
            logs,
            json!({"r": refs(GLOBEX, &ids)}),
        ),
    )
    .await;
    assert!(hung_up.is_err());
    let made = calls_to(&app, GLOBEX, "GET /api/v2/users/{id}/logs");
    assert!((1..=3).contains(&made), "{made}");

    // The reservations went back with the request: the next call finds the budget at once
    // (kept, they would make it wait more than 4 s).
    let asked = Instant::now();
    let answer = app
        .query(
            &app.tokens.auditor,
            logs,
            json!({"r": refs(GLOBEX, &ids[..1])}),
        )
        .await;
    assert!(data(&answer)["users"][0]["logs"].is_array(), "{answer:#}");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    // And the calls that were waiting (seven of them due by now) are never made.
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(started.elapsed())).await;
    assert_eq!(
        calls_to(&app, GLOBEX, "GET /api/v2/users/{id}/logs"),
        made + 1
    );
}

#[tokio::test]
async fn a_tenant_that_does_not_recover_is_reported_down_with_its_reason() {
    let app = spawn().await;
    open_circuit(&app, GLOBEX).await;
    // Still down after the cool-down: the trial fails and the circuit opens again.
    wait_for_cool_down(&app, GLOBEX).await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ searchUsers(tenants: [\"globex\"]) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["TENANT_UNAVAILABLE"]);
    let reason = "unreachable: circuit open after repeated failures";
    assert_eq!(
        status_of(&app, GLOBEX).await,
        ("DOWN".to_owned(), json!(reason))
    );
    let ready = readiness(&app).await;
    assert_eq!(ready["status"], "ready", "the other tenants serve");
    assert_eq!(
        ready["tenants"],
        json!({"acme-eu": "UP", "acme-us": "UP", "globex": "DOWN"})
    );
    assert_eq!(ready["reasons"], json!({"globex": reason}));
    assert_eq!(ready["audit"]["ok"], true);
}

// 2. Backoff.

#[tokio::test]
async fn each_retry_of_a_failing_read_waits_longer_than_the_last() {
    let app = spawn().await;
    let ids = ids_of(&app, GLOBEX, 2);
    // The gateway holds globex's management token already, as a running one would.
    cache_profiles(&app, GLOBEX, &ids[..1]).await;
    let id = &ids[1];
    app.tenant(GLOBEX)
        .control()
        .set_faults(Faults {
            error_rate: 1.0,
            error_status: Some(503),
            ..Faults::default()
        })
        .unwrap();
    app.reset_counts();
    let started = Instant::now();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"globex\", id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    let elapsed = started.elapsed();
    assert_eq!(error_codes(&answer), ["TENANT_UNAVAILABLE"]);
    assert_eq!(calls_to(&app, GLOBEX, "GET /api/v2/users/{id}"), 3);
    // Two waits, 200 ms and 400 ms ± 10 %: at least 540 ms (two equal waits would be 440 at most).
    assert!(elapsed >= Duration::from_millis(540), "{elapsed:?}");
}

// 3. Log events as Auth0 sends them.

#[tokio::test]
async fn log_events_carrying_both_ids_are_read_and_never_open_the_circuit() {
    let app = spawn().await;
    let ids = ids_of(&app, GLOBEX, 12);
    app.reset_counts();
    let mut shown = Vec::new();
    for id in &ids {
        let answer = app
            .query(
                &app.tokens.auditor,
                "query($id: ID!) { user(tenant: \"globex\", id: $id) { logs(first: 5) { id date type } } }",
                json!({"id": id}),
            )
            .await;
        shown.push(data(&answer)["user"]["logs"].as_array().unwrap().clone());
    }
    assert_eq!(
        calls_to(&app, GLOBEX, "GET /api/v2/users/{id}/logs"),
        12,
        "each read once, never retried"
    );
    assert_eq!(status_of(&app, GLOBEX).await.0, "UP");

    for (id, logs) in ids.iter().zip(&shown) {
        let truth = app
            .management_get(
                GLOBEX,
                &format!(
                    "/api/v2/users/{}/logs?per_page=5&sort=date:-1",
                    id.replace('|', "%7C")
                ),
            )
            .await;
        let truth = truth.as_array().unwrap();
        assert!(truth.iter().all(|e| e["_id"] == e["log_id"]), "both ids");
        let expected: Vec<&Value> = truth.iter().map(|e| &e["log_id"]).collect();
        let ids: Vec<&Value> = logs.iter().map(|e| &e["id"]).collect();
        assert_eq!(ids, expected, "{id}");
    }
    assert!(
        shown.iter().any(|logs| !logs.is_empty()),
        "the seed gave these users log events"
    );
}

// 4. A free tenant's rate limit, learnt from its answers.

fn free_acme(config: &mut EmulatorConfig) {
    if config.tenant == "acme-eu" {
        config.rate_limit = Some(RateLimit {
            per_second: 2.0,
            burst: 10,
        });
    }
}

/// `tenantgraph_upstream_requests_total` of one tenant and status, summed over endpoints.
async fn upstream_answers(app: &TestApp, tenant: &str, status: &str) -> u64 {
    let text = app.metrics().await;
    let labels = (
        format!("tenant=\"{tenant}\""),
        format!("status=\"{status}\""),
    );
    text.lines()
        .filter(|l| l.starts_with("tenantgraph_upstream_requests_total{"))
        .filter(|l| l.contains(&labels.0) && l.contains(&labels.1))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
async fn a_burst_against_a_free_tenant_is_paced_to_its_rate_and_mostly_answered() {
    let app = spawn_with(
        Options {
            tune_emulator: free_acme,
            ..Options::default()
        }
        .gateway(|config| {
            let acme = config
                .tenants
                .iter_mut()
                .find(|t| t.id == "acme-eu")
                .unwrap();
            // What a gateway configured for a paid tenant brings to a free one: the default
            // budget (16/s) and deadline.
            acme.rate_limit = TenantRateLimit::default();
            acme.timeout = Duration::from_secs(5);
        }),
    )
    .await;
    const READS: usize = 24;
    let ids = ids_of(&app, "acme-eu", READS);
    // Two callers: each may spend only half the budget (`caller_share`).
    let callers = [&app.tokens.global_admin, &app.tokens.auditor];
    let started = Instant::now();
    let reads = ids.iter().enumerate().map(|(i, id)| {
        app.query(
            callers[i % callers.len()],
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id } }",
            json!({"id": id}),
        )
    });
    let answers = futures::future::join_all(reads).await;
    let elapsed = started.elapsed();
    let answered = answers
        .iter()
        .filter(|a| a["data"]["user"].is_object())
        .count();
    let limited = answers
        .iter()
        .filter(|a| error_codes(a) == ["TENANT_RATE_LIMITED"])
        .count();
    let refused = upstream_answers(&app, "acme-eu", "429").await;
    eprintln!(
        "{READS} reads in {elapsed:?}: {answered} answered, {limited} rate limited, {refused} upstream 429s"
    );
    assert_eq!(answered + limited, READS, "{answers:#?}");
    // The tenant's bucket lets at most 10 + 2/s × 5 s = 20 through within the deadline.
    assert!(answered * 3 >= READS * 2, "{answered} of {READS} answered");
    assert!(
        refused <= READS as u64 / 2,
        "{refused} 429s: the rate was learnt, not hammered"
    );
}

// 5. The Authentication API's own limits.

#[tokio::test]
async fn an_authentication_api_rate_limit_is_answered_with_auth0s_words_and_spares_the_management_api()
 {
    let app = spawn().await;
    // The gateway holds acme-eu's management token and key set already, as a running one would.
    let ids = ids_of(&app, "acme-eu", 2);
    cache_profiles(&app, "acme-eu", &ids[..1]).await;
    let me = app
        .query(&app.tokens.user, "{ me { id } }", json!({}))
        .await;
    assert!(data(&me)["me"].is_object());
    let acme = app.tenant("acme-eu");
    acme.control()
        .set_faults(Faults {
            auth_rate_limit_storm: true,
            ..Faults::default()
        })
        .unwrap();
    acme.control().reset_stats();
    let answer = app
        .query(
            &app.tokens.user,
            "mutation { requestPasswordReset }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["TENANT_RATE_LIMITED"], "{answer:#}");
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["tenant"], "acme-eu");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Too Many Requests"),
        "Auth0's error_description: {error}"
    );
    assert_eq!(
        calls_to(&app, "acme-eu", "POST /dbconnections/change_password"),
        1,
        "not retried"
    );

    let started = Instant::now();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id } }",
            json!({"id": ids[1]}),
        )
        .await;
    assert_eq!(data(&answer)["user"]["id"], ids[1].as_str());
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "no pause: {:?}",
        started.elapsed()
    );
    assert_eq!(status_of(&app, "acme-eu").await.0, "UP");
}

// 6. Refused credentials.

/// The test tenant's first pause before trying refused credentials again.
const CREDENTIALS_RETRY: Duration = Duration::from_millis(300);

#[tokio::test]
async fn refused_credentials_put_the_tenant_down_without_asking_for_a_token_every_time() {
    let app = spawn_with(Options::default().gateway(|config| {
        let globex = config.tenants.iter_mut().find(|t| t.id == GLOBEX).unwrap();
        globex.credentials_retry = CREDENTIALS_RETRY;
    }))
    .await;
    let ids = ids_of(&app, GLOBEX, 12);
    cache_profiles(&app, GLOBEX, &ids[..1]).await;
    let globex = app.tenant(GLOBEX);
    globex
        .control()
        .set_faults(Faults {
            revoked_credentials: true,
            ..Faults::default()
        })
        .unwrap();
    globex.control().reset_stats();
    let read = "query($id: ID!) { user(tenant: \"globex\", id: $id) { id } }";
    let started = Instant::now();
    for id in &ids[1..11] {
        let answer = app
            .query(&app.tokens.global_admin, read, json!({"id": id}))
            .await;
        assert_eq!(error_codes(&answer), ["TENANT_UNAVAILABLE"], "{answer:#}");
    }
    let elapsed = started.elapsed();
    let (status, reason) = status_of(&app, GLOBEX).await;
    assert_eq!(status, "DOWN");
    assert!(
        reason
            .as_str()
            .is_some_and(|r| r.starts_with("credentials refused: ")),
        "{reason}"
    );
    let ready = readiness(&app).await;
    assert_eq!(ready["tenants"][GLOBEX], "DOWN");
    assert_eq!(ready["reasons"][GLOBEX], reason);
    // Reads fail at once: the first one's call was refused, the others made none.
    assert_eq!(calls_to(&app, GLOBEX, "GET /api/v2/users/{id}"), 1);
    // One token request when the old token was refused, then one per pause passed (doubling).
    let mut pauses = 0;
    let mut waited = Duration::ZERO;
    let mut pause = CREDENTIALS_RETRY;
    while waited + pause <= elapsed {
        waited += pause;
        pause *= 2;
        pauses += 1;
    }
    let token_requests = calls_to(&app, GLOBEX, "POST /oauth/token");
    assert!(
        (1..=1 + pauses).contains(&token_requests),
        "{token_requests} token requests for 10 reads in {elapsed:?}"
    );

    globex.control().clear_faults();
    let started = Instant::now();
    loop {
        let answer = app
            .query(&app.tokens.global_admin, read, json!({"id": ids[11]}))
            .await;
        if answer.get("errors").is_none() {
            assert_eq!(data(&answer)["user"]["id"], ids[11].as_str());
            break;
        }
        assert_eq!(error_codes(&answer), ["TENANT_UNAVAILABLE"]);
        assert!(
            started.elapsed() < PATIENCE,
            "the tenant never served again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status_of(&app, GLOBEX).await,
        ("UP".to_owned(), Value::Null)
    );
}

// 7. Custom domains.

const CUSTOM_DOMAIN: &str = "login.globex.test";

fn globex_with_a_custom_domain(config: &mut EmulatorConfig) {
    if config.tenant == GLOBEX {
        config.custom_domain = Some(CUSTOM_DOMAIN.to_owned());
    }
}

/// The `iss` of a JWT, read without checking it (the gateway does that).
fn issuer_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["iss"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_tenant_with_a_custom_domain_is_managed_canonically_and_its_users_sign_in_through_either()
{
    let app = spawn_with(
        Options {
            tune_emulator: globex_with_a_custom_domain,
            ..Options::default()
        }
        .gateway(|config| {
            let globex = config.tenants.iter_mut().find(|t| t.id == GLOBEX).unwrap();
            globex.custom_domain = Some(CUSTOM_DOMAIN.to_owned());
            globex.auth_base_url = globex.base_url.clone();
        }),
    )
    .await;
    let handle = app.tenant(GLOBEX);

    // The Management API, through a token for its canonical audience (the tenant refuses one
    // for the custom domain's).
    let someone = ids_of(&app, GLOBEX, 1).remove(0);
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"globex\", id: $id) { id tenant { domain customDomain } } }",
            json!({"id": someone}),
        )
        .await;
    let user = &data(&answer)["user"];
    assert_eq!(user["id"], someone.as_str());
    assert_eq!(user["tenant"]["domain"], handle.domain());
    assert_eq!(user["tenant"]["customDomain"], CUSTOM_DOMAIN);

    // An end user signing in through the custom domain, then through the canonical one.
    let (id, canonical) = app.env.end_user(GLOBEX).await.unwrap();
    assert_eq!(issuer_of(&canonical), handle.issuer());
    let email = app
        .users_of(GLOBEX)
        .into_iter()
        .find(|u| u.user_id == id)
        .unwrap()
        .email
        .unwrap();
    let answer: Value = app
        .client
        .post(format!("{}/oauth/token", handle.base_url()))
        .header(reqwest::header::HOST, CUSTOM_DOMAIN)
        .json(&json!({
            "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
            "username": email,
            "password": tenant_emulator::DEFAULT_PASSWORD,
            "realm": "Username-Password-Authentication",
            "audience": AUDIENCE,
            "client_id": "tenantgraph",
            "client_secret": "tenantgraph-secret",
            "scope": "openid profile email",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let custom = answer["access_token"].as_str().unwrap().to_owned();
    assert_eq!(issuer_of(&custom), format!("https://{CUSTOM_DOMAIN}/"));
    for token in [&custom, &canonical] {
        let answer = app
            .query(token, "{ me { id tenant { id } } }", json!({}))
            .await;
        assert_eq!(
            data(&answer)["me"],
            json!({"id": id, "tenant": {"id": GLOBEX}}),
            "{}",
            issuer_of(token)
        );
    }
}

// 8. Right after a write, while Auth0's lists lag.

fn lagging_lists(config: &mut EmulatorConfig) {
    config.search_lag = Duration::from_secs(30);
    config.membership_lag = Duration::from_secs(30);
}

#[tokio::test]
async fn a_user_an_organization_admin_creates_is_readable_searchable_and_writable_at_once() {
    let app = spawn_with(Options {
        tune_emulator: lagging_lists,
        ..Options::default()
    })
    .await;
    let organization = app.env.demo_organization().unwrap();
    // The demo's organization admin may not create users; this one, of the same organization, may.
    let admin = app
        .env
        .operator_token(
            "Org Recruiter",
            &["read:users", "create:users", "update:users"],
            json!(["acme-us"]),
            Some(&organization),
        )
        .await
        .unwrap();
    // Its member list is read (and cached) before the write.
    let search =
        "{ searchUsers(tenants: [\"acme-us\"], first: 100) { totalCount edges { node { id } } } }";
    let before = app.query(&admin, search, json!({})).await;
    let members = data(&before)["searchUsers"]["totalCount"].as_u64().unwrap();

    let answer = app
        .query(
            &admin,
            "mutation { createUser(tenant: \"acme-us\", input: {connection: \"Username-Password-Authentication\",
               email: \"recruit@acme.example\", password: \"Correct-Horse-9\", name: \"Recruit\"}) { id } }",
            json!({}),
        )
        .await;
    let id = data(&answer)["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let answer = app
        .query(
            &admin,
            "query($id: ID!) { user(tenant: \"acme-us\", id: $id) { id name organizations { id } } }",
            json!({"id": id}),
        )
        .await;
    let user = &data(&answer)["user"];
    assert_eq!(user["name"], "Recruit");
    assert_eq!(user["organizations"], json!([{"id": organization}]));

    let answer = app.query(&admin, search, json!({})).await;
    let found = &data(&answer)["searchUsers"];
    assert_eq!(found["totalCount"], members + 1);
    assert!(
        found["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["id"] == id.as_str()),
        "{found:#}"
    );

    let answer = app
        .query(
            &admin,
            "mutation($id: ID!) { updateUser(tenant: \"acme-us\", id: $id, input: {name: \"Recruited\"}) { id name } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data(&answer)["updateUser"]["name"], "Recruited");
}

// 9. Emails of any case.

#[tokio::test]
async fn an_email_kept_in_upper_case_by_a_social_connection_is_found_by_its_lower_case() {
    let app = spawn().await;
    let mixed = "Jane.Mixed@Example.COM";
    let lower = mixed.to_lowercase();
    let mut social = ExtraUser::new(mixed, "");
    social.connection = Some(SOCIAL_CONNECTION.to_owned());
    social.email_verified = true;
    let created = app.tenant(GLOBEX).control().add_user(social).unwrap();
    let social_id = created["user_id"].as_str().unwrap().to_owned();
    assert_eq!(created["email"], mixed, "the provider's case is kept");
    let mut database = ExtraUser::new(&lower, "Fixture-Passw0rd");
    database.email_verified = true;
    let created = app.tenant("acme-eu").control().add_user(database).unwrap();
    let database_id = created["user_id"].as_str().unwrap().to_owned();

    // Alone.
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { usersByEmail(email: $e) { id tenant { id } } }",
            json!({"e": lower}),
        )
        .await;
    assert_eq!(
        data(&answer)["usersByEmail"],
        json!([{"id": database_id, "tenant": {"id": "acme-eu"}}, {"id": social_id, "tenant": {"id": GLOBEX}}])
    );

    // In a batch: a page of users whose linked accounts are looked up together.
    let mut page = ids_of(&app, "acme-eu", 9);
    page.push(database_id.clone());
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [UserRef!]!) { users(refs: $r) { id linkedAccounts { id } } }",
            json!({"r": refs("acme-eu", &page)}),
        )
        .await;
    let users = data(&answer)["users"].as_array().unwrap();
    let jane = users
        .iter()
        .find(|u| u["id"] == database_id.as_str())
        .unwrap();
    assert_eq!(jane["linkedAccounts"], json!([{"id": social_id}]));
}

#[tokio::test]
async fn an_email_kept_in_upper_case_is_found_right_after_the_address_was_written_here() {
    let app = spawn().await;
    let mixed = "Jane.Mixed@Example.COM";
    let lower = mixed.to_lowercase();
    let mut social = ExtraUser::new(mixed, "");
    social.connection = Some(SOCIAL_CONNECTION.to_owned());
    social.email_verified = true;
    let created = app.tenant(GLOBEX).control().add_user(social).unwrap();
    let social_id = created["user_id"].as_str().unwrap().to_owned();

    // The address is written through the gateway to another account of the same tenant: its
    // lookups are made consistently for a while, which must not lose the other spelling.
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($e: String!) { createUser(tenant: \"globex\", input: {connection: \"Username-Password-Authentication\",
               email: $e, password: \"Correct-Horse-9\"}) { id } }",
            json!({"e": lower}),
        )
        .await;
    let database_id = data(&answer)["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { usersByEmail(email: $e) { id } }",
            json!({"e": lower}),
        )
        .await;
    let mut expected = vec![json!({"id": database_id}), json!({"id": social_id})];
    expected.sort_by_key(|v| v["id"].as_str().unwrap().to_owned());
    assert_eq!(data(&answer)["usersByEmail"], Value::Array(expected));
}

// 9. Memberships beyond the first 100: not tested here. The emulator seeds six organizations
// and five roles and has no way to add more, so no user of it can hold over 100; the paging of
// `GET /users/{id}/organizations` and `/roles` is covered only by the tenant client's own code.
