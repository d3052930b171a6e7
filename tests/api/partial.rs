//! Partial results: a failing tenant leaves the others' data, adds one typed error naming it,
//! shows in `Tenant.status`, and is used again once it recovers.

use std::time::Duration;

use serde_json::{Value, json};

use test_kit::{TestApp, data, spawn};

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

async fn status_of(app: &TestApp, tenant: &str) -> String {
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ tenants { id status } }",
            json!({}),
        )
        .await;
    data(&answer)["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tenant)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_down_tenant_leaves_the_others_data_and_one_error_naming_it() {
    let app = spawn().await;
    app.take_down("globex");

    let answer = app.query(&app.tokens.global_admin, SEARCH, json!({})).await;
    assert_eq!(tenants_of(&answer), ["acme-eu", "acme-us"]);
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{answer:#}");
    assert_eq!(errors[0]["extensions"]["code"], "TENANT_UNAVAILABLE");
    assert_eq!(errors[0]["extensions"]["tenant"], "globex");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        !message.contains("127.0.0.1") && !message.contains("connection"),
        "no internals: {message}"
    );

    let refs: Vec<Value> = ["acme-eu", "globex", "globex"]
        .iter()
        .zip([0, 1, 2])
        .map(|(tenant, i)| json!({"tenant": tenant, "id": app.users_of(tenant)[i].user_id}))
        .collect();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [UserRef!]!) { users(refs: $r) { id } }",
            json!({"r": refs}),
        )
        .await;
    let users = answer["data"]["users"].as_array().unwrap();
    assert!(users[0].is_object());
    assert_eq!(users[1], Value::Null);
    assert_eq!(users[2], Value::Null);
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(
        errors.len(),
        1,
        "one error per tenant, not per user: {answer:#}"
    );
    assert_eq!(errors[0]["extensions"]["tenant"], "globex");
}

#[tokio::test]
async fn status_goes_down_after_failures_and_up_after_recovery() {
    let app = spawn().await;
    assert_eq!(status_of(&app, "globex").await, "UP");
    app.take_down("globex");
    let mut status = String::new();
    for _ in 0..10 {
        app.query(&app.tokens.global_admin, SEARCH, json!({})).await;
        status = status_of(&app, "globex").await;
        if status == "DOWN" {
            break;
        }
        assert_eq!(status, "DEGRADED");
    }
    assert_eq!(status, "DOWN");

    // While the circuit is open the dead tenant costs no call at all.
    app.reset_counts();
    let answer = app.query(&app.tokens.global_admin, SEARCH, json!({})).await;
    assert_eq!(answer["errors"][0]["extensions"]["tenant"], "globex");
    assert_eq!(app.tenant("globex").control().stats().total, 0);

    app.tenant("globex").control().clear_faults();
    tokio::time::sleep(Duration::from_millis(350)).await; // the test breaker's cool-down
    let answer = app.query(&app.tokens.global_admin, SEARCH, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer:#}");
    assert_eq!(tenants_of(&answer), ["acme-eu", "acme-us", "globex"]);
    assert_eq!(status_of(&app, "globex").await, "UP");
}
