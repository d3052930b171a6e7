//! Compiled plans answer exactly as async-graphql does: every document is sent twice under a
//! text of its own, first answered by async-graphql (a document is validated in full the first
//! time it is seen), then by its plan, and the two answers must be the same for every persona,
//! variables of every shape, unknown tenants, missing users, other organizations' members and
//! a failing tenant. The plans answered (their counter moved) and held no caller's answer for
//! another.

use serde_json::{Value, json};

use test_kit::{TestApp, spawn};

const PROFILE: &str = "query Profile($tenant: ID!, $id: ID!) { user(tenant: $tenant, id: $id) { \
    __typename id email emailVerified username phoneNumber name nickname givenName familyName \
    picture createdAt updatedAt lastLogin lastIp loginsCount blocked userMetadata appMetadata \
    tenant { __typename id name domain customDomain } } }";
const ALIASED: &str = "query($t: ID!, $i: ID!) { who: user(tenant: $t, id: $i) { key: id mail: \
    email meta: appMetadata ip: lastIp } }";
const LIST: &str = "query List($refs: [UserRef!]!) { users(refs: $refs) { id tenant { id } email \
    name emailVerified blocked lastLogin loginsCount lastIp appMetadata } }";

async fn planned_count(app: &TestApp) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix("tenantgraph_graphql_planned_total "))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Sends `body` (a GraphQL request with `query` in it) twice under a text no other case uses;
/// answers both answers.
async fn twice(app: &TestApp, token: &str, case: usize, mut body: Value) -> (Value, Value) {
    let text = format!("# case {case}\n{}", body["query"].as_str().unwrap());
    body["query"] = json!(text);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = app
            .client
            .post(app.url())
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        answers.push(response.json::<Value>().await.unwrap());
    }
    let second = answers.pop().unwrap();
    (answers.pop().unwrap(), second)
}

/// Requests of every shape the plans take and some they leave to async-graphql; `own` is the
/// end user persona's id (its own profile, read by key).
fn bodies(app: &TestApp, own: &str) -> Vec<Value> {
    let eu = app.users_of("acme-eu");
    let globex = app.users_of("globex");
    let us = app.users_of("acme-us");
    let members = app.members_of("acme-us", &app.env.demo_organization().unwrap());
    let member = members[0].clone();
    let outsider = us
        .iter()
        .find(|u| !members.contains(&u.user_id))
        .unwrap()
        .user_id
        .clone();
    let one = |tenant: &str, id: &str| json!({"tenant": tenant, "id": id});
    let mut bodies = Vec::new();
    for (tenant, id) in [
        ("acme-eu", own),
        ("acme-eu", eu[0].user_id.as_str()),
        ("acme-us", member.as_str()),
        ("acme-us", outsider.as_str()),
        ("globex", globex[1].user_id.as_str()),
        ("acme-eu", "auth0|nobody"),
        ("nope", "auth0|1"),
        ("acme-eu", ""),
    ] {
        bodies.push(json!({"query": PROFILE, "variables": one(tenant, id)}));
        bodies.push(json!({"query": ALIASED, "variables": {"t": tenant, "i": id}}));
    }
    // Shapes async-graphql coerces or refuses: a number, a null, a missing variable, another
    // operation's name.
    bodies.push(json!({"query": PROFILE, "variables": {"tenant": "acme-eu", "id": 5}}));
    bodies.push(json!({"query": PROFILE, "variables": {"tenant": "acme-eu", "id": null}}));
    bodies.push(json!({"query": PROFILE, "variables": {"tenant": "acme-eu"}}));
    bodies.push(json!({"query": PROFILE, "operationName": "Other", "variables": one("acme-eu", &eu[0].user_id)}));
    bodies.push(json!({"query": format!("{{ user(tenant: \"acme-eu\", id: \"{}\") {{ id email }} }}", eu[2].user_id)}));
    let refs: Vec<Value> = vec![
        one("acme-eu", own),
        one("acme-eu", &eu[3].user_id),
        one("globex", &globex[4].user_id),
        one("acme-us", &member),
        one("acme-us", &outsider),
        one("acme-eu", "auth0|nobody"),
        one("acme-us", &us[5].user_id),
        one("acme-eu", &eu[3].user_id),
    ];
    bodies.push(json!({"query": LIST, "variables": {"refs": refs}}));
    bodies.push(json!({"query": LIST, "variables": {"refs": [one("nope", "x")]}}));
    bodies.push(json!({"query": LIST, "variables": {"refs": []}}));
    bodies.push(json!({"query": LIST, "variables": {"refs": one("acme-eu", &eu[3].user_id)}}));
    bodies.push(json!({"query": LIST, "variables": {"refs": [{"tenant": "acme-eu", "id": "x", "extra": 1}]}}));
    let many: Vec<Value> = eu
        .iter()
        .cycle()
        .take(501)
        .map(|u| one("acme-eu", &u.user_id))
        .collect();
    bodies.push(json!({"query": LIST, "variables": {"refs": many}}));
    bodies
}

#[tokio::test]
async fn plans_answer_as_async_graphql_does_for_every_persona() {
    let app = spawn().await;
    let tokens = &app.tokens;
    // Besides the demo's personas: an operator who may read profiles but neither logs nor
    // app_metadata (hidden fields answered null), and one who may not read profiles at all
    // (hidden fields answered FORBIDDEN).
    let reader = app
        .env
        .operator_token("Reader", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let counter = app
        .env
        .operator_token("Counter", &["read:stats"], json!("*"), None)
        .await
        .unwrap();
    let me = app.query(&tokens.user, "{ me { id } }", json!({})).await;
    let own = me["data"]["me"]["id"].as_str().unwrap().to_owned();
    let personas = [
        ("global_admin", &tokens.global_admin),
        ("tenant_admin", &tokens.tenant_admin),
        ("org_admin", &tokens.org_admin),
        ("auditor", &tokens.auditor),
        ("user", &tokens.user),
        ("read:users only", &reader),
        ("read:stats only", &counter),
    ];
    let before = planned_count(&app).await;
    let mut case = 0;
    for (persona, token) in personas {
        for body in bodies(&app, &own) {
            case += 1;
            let (executed, planned) = twice(&app, token, case, body.clone()).await;
            assert_eq!(
                planned, executed,
                "{persona}, case {case}: {body}\nasync-graphql: {executed:#}\nplan: {planned:#}"
            );
        }
    }
    let planned = planned_count(&app).await - before;
    assert!(planned >= 40, "only {planned} answers came from plans");
}

#[tokio::test]
async fn a_failing_tenant_is_reported_once_by_a_plan_too() {
    let app = spawn().await;
    app.take_down("globex");
    let refs: Vec<Value> = [("acme-eu", 0), ("globex", 1), ("globex", 2), ("acme-eu", 3)]
        .iter()
        .map(|(tenant, i)| json!({"tenant": tenant, "id": app.users_of(tenant)[*i].user_id}))
        .collect();
    let body = json!({"query": LIST, "variables": {"refs": refs}});
    let (executed, planned) = twice(&app, &app.tokens.global_admin, 1, body).await;
    assert_eq!(planned, executed);
    assert_eq!(
        planned["errors"].as_array().unwrap().len(),
        1,
        "{planned:#}"
    );
    assert_eq!(planned["errors"][0]["extensions"]["tenant"], "globex");
    let id = &app.users_of("globex")[1].user_id;
    let body = json!({"query": PROFILE, "variables": {"tenant": "globex", "id": id}});
    let (executed, planned) = twice(&app, &app.tokens.global_admin, 2, body).await;
    assert_eq!(planned, executed);
    assert_eq!(planned["data"]["user"], Value::Null);
}

#[tokio::test]
async fn one_plan_serves_callers_who_see_different_fields_each_their_own() {
    let app = spawn().await;
    let user = &app.users_of("acme-eu")[0].user_id;
    let variables = json!({"tenant": "acme-eu", "id": user});
    // Warm the document (validated) and the profile cache with the widest caller.
    for _ in 0..2 {
        app.query(&app.tokens.global_admin, PROFILE, variables.clone())
            .await;
    }
    let admin = app
        .query(&app.tokens.global_admin, PROFILE, variables.clone())
        .await;
    let auditor = app
        .query(&app.tokens.auditor, PROFILE, variables.clone())
        .await;
    assert!(
        admin["data"]["user"]["appMetadata"].is_object(),
        "{admin:#}"
    );
    assert_eq!(
        auditor["data"]["user"]["appMetadata"],
        Value::Null,
        "{auditor:#}"
    );
    assert!(
        auditor["data"]["user"]["lastIp"].is_string()
            || auditor["data"]["user"]["lastIp"].is_null()
    );
    let end_user = app.query(&app.tokens.user, PROFILE, variables).await;
    assert_eq!(end_user["data"]["user"], Value::Null);
    assert_eq!(end_user["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn a_batch_mixes_planned_and_executed_answers_in_order() {
    let app = spawn().await;
    let eu = app.users_of("acme-eu");
    let batch = json!([
        {"query": PROFILE, "variables": {"tenant": "acme-eu", "id": eu[0].user_id}},
        {"query": "{ tenants { id } }"},
        {"query": LIST, "variables": {"refs": [{"tenant": "nope", "id": "x"}, {"tenant": "acme-eu", "id": eu[1].user_id}]}},
    ]);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = app
            .client
            .post(app.url())
            .bearer_auth(&app.tokens.tenant_admin)
            .json(&batch)
            .send()
            .await
            .unwrap();
        answers.push(response.json::<Value>().await.unwrap());
    }
    let planned = planned_count(&app).await;
    assert_eq!(answers[1], answers[0], "{:#}", answers[1]);
    assert_eq!(answers[1].as_array().unwrap().len(), 3);
    assert_eq!(answers[1][1]["data"]["tenants"], json!([{"id": "acme-eu"}]));
    assert_eq!(planned, 2, "the second batch's user reads come from plans");
}
