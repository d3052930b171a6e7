//! The audit trail read back (`auditEvents`, `read:audit`): each operator sees the events of its
//! reach, filtered and paged; others are refused.

use serde_json::{Value, json};

use test_kit::{TestApp, data, error_codes, spawn};

const EVENTS: &str = "query($f: AuditFilter, $first: Int, $after: String) {
    auditEvents(filter: $f, first: $first, after: $after) {
        nodes { id time action actorSubject tenant targetUser fields outcome code }
        pageInfo { hasNextPage endCursor } shared } }";

async fn events(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let answer = app
        .query(token, EVENTS, json!({"f": filter, "first": 200}))
        .await;
    data(&answer)["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

async fn block(app: &TestApp, token: &str, tenant: &str, id: &str) -> Value {
    app.query(
        token,
        "mutation($t: ID!, $id: ID!) { blockUser(tenant: $t, id: $id) { id } }",
        json!({"t": tenant, "id": id}),
    )
    .await
}

fn targets(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| e["targetUser"].as_str())
        .collect()
}

#[tokio::test]
async fn each_operator_reads_the_events_of_its_reach_only() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let eu = app
        .fixture_user("acme-eu", "audit.eu@trail.example", None)
        .await;
    let us = app
        .fixture_user("acme-us", "audit.us@trail.example", None)
        .await;
    let member = app
        .fixture_user("acme-us", "audit.member@trail.example", Some(&organization))
        .await;
    for (tenant, id) in [("acme-eu", &eu), ("acme-us", &us), ("acme-us", &member)] {
        data(&block(&app, &app.tokens.global_admin, tenant, id).await);
    }
    // A refusal is audited too.
    let refused = block(&app, &app.tokens.auditor, "acme-eu", &eu).await;
    assert_eq!(error_codes(&refused), ["FORBIDDEN"]);

    let all = events(&app, &app.tokens.auditor, json!({"action": "blockUser"})).await;
    assert_eq!(
        targets(&all),
        [eu.as_str(), member.as_str(), us.as_str(), eu.as_str()]
    );
    assert_eq!(all[0]["outcome"], json!("REFUSED"));
    assert_eq!(all[0]["code"], json!("FORBIDDEN"));
    assert_eq!(all[1]["outcome"], json!("SUCCEEDED"));
    assert_eq!(all[1]["fields"], json!(["blocked"]));
    assert!(
        all.windows(2)
            .all(|w| w[0]["time"].as_str() >= w[1]["time"].as_str())
    );

    // The tenant admin reaches acme-eu only.
    let eu_only = events(
        &app,
        &app.tokens.tenant_admin,
        json!({"action": "blockUser"}),
    )
    .await;
    assert_eq!(targets(&eu_only), [eu.as_str(), eu.as_str()]);
    let other = app
        .query(
            &app.tokens.tenant_admin,
            EVENTS,
            json!({"f": {"tenant": "acme-us"}}),
        )
        .await;
    assert_eq!(error_codes(&other), ["BAD_USER_INPUT"]);

    // An organization's administrator sees what happened to its members only.
    let org_auditor = app
        .env
        .operator_token(
            "Org Auditor",
            &["read:users", "read:audit"],
            json!(["acme-us"]),
            Some(&organization),
        )
        .await
        .unwrap();
    let members_only = events(&app, &org_auditor, json!({})).await;
    assert_eq!(targets(&members_only), [member.as_str()]);

    for token in [&app.tokens.org_admin, &app.tokens.user] {
        let answer = app.query(token, EVENTS, json!({})).await;
        assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
    }
}

#[tokio::test]
async fn events_are_filtered_and_paged_newest_first() {
    let app = spawn().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let id = app
            .fixture_user("globex", &format!("page.{n}@trail.example"), None)
            .await;
        data(&block(&app, &app.tokens.global_admin, "globex", &id).await);
        ids.push(id);
    }
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer = app
            .query(
                &app.tokens.global_admin,
                EVENTS,
                json!({"f": {"tenant": "globex", "outcome": "SUCCEEDED"}, "first": 2, "after": after}),
            )
            .await;
        let page = &data(&answer)["auditEvents"];
        assert_eq!(
            page["shared"],
            json!(false),
            "no Redis: this replica's events"
        );
        for node in page["nodes"].as_array().unwrap() {
            seen.push(node["targetUser"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    ids.reverse();
    assert_eq!(seen, ids);

    let one = events(&app, &app.tokens.global_admin, json!({"target": ids[0]})).await;
    assert_eq!(one.len(), 1);
    let none = events(
        &app,
        &app.tokens.global_admin,
        json!({"since": "2999-01-01T00:00:00Z"}),
    )
    .await;
    assert!(none.is_empty());
    let bad = app
        .query(
            &app.tokens.global_admin,
            EVENTS,
            json!({"after": "not-a-cursor"}),
        )
        .await;
    assert_eq!(error_codes(&bad), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn the_viewer_describes_the_caller() {
    let app = spawn().await;
    let query = "{ viewer { kind permissions organization allTenants } }";
    let admin = app.query(&app.tokens.org_admin, query, json!({})).await;
    let viewer = &data(&admin)["viewer"];
    assert_eq!(viewer["kind"], json!("OPERATOR"));
    assert_eq!(
        viewer["organization"],
        json!(app.env.demo_organization().unwrap())
    );
    assert_eq!(viewer["allTenants"], json!(false));
    assert!(
        viewer["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("block:users"))
    );
    let user = app.query(&app.tokens.user, query, json!({})).await;
    assert_eq!(data(&user)["viewer"]["kind"], json!("END_USER"));
    assert_eq!(data(&user)["viewer"]["permissions"], json!([]));
}
