//! What each persona may read: tenants, organizations, app metadata, and hostile searches.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use test_kit::{TestApp, data, error_codes, spawn};

fn org_admin_organization(app: &TestApp) -> tenant_emulator::OrganizationSummary {
    let id = app.env.demo_organization().unwrap();
    app.tenant("acme-us")
        .control()
        .organizations()
        .into_iter()
        .find(|o| o.id == id)
        .unwrap()
}

async fn all_search_ids(
    app: &TestApp,
    token: &str,
    query: Option<&str>,
) -> (BTreeSet<String>, i64) {
    let mut ids = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let answer = app
            .query(
                token,
                "query($q: String, $after: String) { searchUsers(query: $q, first: 100, after: $after) {
                    totalCount edges { node { id tenant { id } } } pageInfo { hasNextPage endCursor } } }",
                json!({"q": query, "after": after}),
            )
            .await;
        let page = &data(&answer)["searchUsers"];
        let total = page["totalCount"].as_i64().unwrap();
        for edge in page["edges"].as_array().unwrap() {
            ids.insert(format!(
                "{}/{}",
                edge["node"]["tenant"]["id"].as_str().unwrap(),
                edge["node"]["id"].as_str().unwrap()
            ));
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (ids, total);
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

#[tokio::test]
async fn a_tenant_admin_sees_only_its_tenant() {
    let app = spawn().await;
    let token = &app.tokens.tenant_admin;
    assert_eq!(
        data(&app.query(token, "{ tenants { id } }", json!({})).await)["tenants"],
        json!([{"id": "acme-eu"}])
    );
    let outsider = &app.users_of("acme-us")[0];
    let answer = app
        .query(
            token,
            "query($id: ID!) { user(tenant: \"acme-us\", id: $id) { id } }",
            json!({"id": outsider.user_id}),
        )
        .await;
    let unknown = app
        .query(
            token,
            "query($id: ID!) { user(tenant: \"acme-zz\", id: $id) { id } }",
            json!({"id": outsider.user_id}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
    assert_eq!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("acme-us", "_"),
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("acme-zz", "_"),
        "a tenant out of reach looks like an unknown one"
    );
    assert_eq!(answer["data"]["user"], Value::Null);
    let (ids, total) = all_search_ids(&app, token, None).await;
    assert!(ids.iter().all(|id| id.starts_with("acme-eu/")));
    assert_eq!(ids.len(), app.users_of("acme-eu").len());
    assert_eq!(total as usize, ids.len());
    let answer = app
        .query(
            token,
            "{ searchUsers(tenants: [\"acme-us\"]) { totalCount } }",
            json!({}),
        )
        .await;
    let unknown = app
        .query(
            token,
            "{ searchUsers(tenants: [\"nowhere\"]) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
    assert_eq!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("acme-us", "X"),
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace("nowhere", "X"),
        "a tenant out of reach is refused exactly like one that does not exist"
    );
}

#[tokio::test]
async fn an_organization_admin_sees_only_members_of_its_organization() {
    let app = spawn().await;
    let token = &app.tokens.org_admin;
    let organization = org_admin_organization(&app);
    let members: BTreeSet<String> = organization
        .members
        .iter()
        .map(|m| format!("acme-us/{m}"))
        .collect();
    let outsider = app
        .users_of("acme-us")
        .into_iter()
        .find(|u| !organization.members.contains(&u.user_id))
        .unwrap();

    let query = "query($id: ID!) { user(tenant: \"acme-us\", id: $id) { id appMetadata } }";
    let inside = app
        .query(token, query, json!({"id": organization.members[0]}))
        .await;
    assert_eq!(data(&inside)["user"]["id"], organization.members[0]);
    assert_eq!(
        data(&inside)["user"]["appMetadata"],
        Value::Null,
        "no read:users_app_metadata"
    );
    let outside = app
        .query(token, query, json!({"id": outsider.user_id}))
        .await;
    let missing = app
        .query(
            token,
            query,
            json!({"id": "auth0|000000000000000000000000"}),
        )
        .await;
    assert_eq!(
        outside, missing,
        "an outsider looks exactly like a missing user"
    );

    let (ids, total) = all_search_ids(&app, token, None).await;
    assert_eq!(ids, members);
    assert_eq!(total as usize, members.len());

    let email = outsider.email.unwrap();
    let answer = app
        .query(
            token,
            "query($e: String!) { usersByEmail(email: $e) { id } person(email: $e) { email } }",
            json!({"e": email}),
        )
        .await;
    assert_eq!(data(&answer), &json!({"usersByEmail": [], "person": null}));

    let refs = json!([{"tenant": "acme-us", "id": outsider.user_id}, {"tenant": "acme-us", "id": organization.members[0]}]);
    let answer = app
        .query(
            token,
            "query($r: [UserRef!]!) { users(refs: $r) { id } }",
            json!({"r": refs}),
        )
        .await;
    assert_eq!(
        data(&answer)["users"],
        json!([null, {"id": organization.members[0]}])
    );
}

#[tokio::test]
async fn hostile_searches_cannot_widen_an_organization_admins_scope() {
    let app = spawn().await;
    let token = &app.tokens.org_admin;
    let organization = org_admin_organization(&app);
    let members: BTreeSet<String> = organization
        .members
        .iter()
        .map(|m| format!("acme-us/{m}"))
        .collect();
    for hostile in [
        "*) OR (user_id:*",
        "email:\"x\") OR (_exists_:email",
        "x\\) OR (user_id:*",
        "(((",
        "user_id:* )",
    ] {
        let answer = app
            .query(
                token,
                "query($q: String) { searchUsers(query: $q) { totalCount } }",
                json!({"q": hostile}),
            )
            .await;
        assert_eq!(
            error_codes(&answer),
            ["BAD_USER_INPUT"],
            "{hostile}: {answer}"
        );
    }
    for widening in [
        "user_id:*",
        "NOT user_id:\"nobody\"",
        "_exists_:email OR NOT _exists_:email",
        "*:*",
        "email:* OR name:*",
    ] {
        let (ids, _) = all_search_ids(&app, token, Some(widening)).await;
        assert!(
            ids.is_subset(&members),
            "{widening} reached non-members: {:?}",
            ids.difference(&members).collect::<Vec<_>>()
        );
        assert!(!ids.is_empty(), "{widening}");
    }
}

#[tokio::test]
async fn app_metadata_needs_its_permission() {
    let app = spawn().await;
    let user = &app.users_of("acme-eu")[0];
    let query = "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { appMetadata } }";
    let auditor = app
        .query(&app.tokens.auditor, query, json!({"id": user.user_id}))
        .await;
    assert_eq!(data(&auditor)["user"]["appMetadata"], Value::Null);
    let admin = app
        .query(&app.tokens.global_admin, query, json!({"id": user.user_id}))
        .await;
    assert!(data(&admin)["user"]["appMetadata"].is_object());
}

#[tokio::test]
async fn logs_need_read_logs() {
    let app = spawn().await;
    let no_logs = app
        .env
        .operator_token("Reader", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let user = &app.users_of("acme-eu")[0];
    let answer = app
        .query(
            &no_logs,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id logs { id } } }",
            json!({"id": user.user_id}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
    // Null with the error, never an empty list (which would read as "no activity").
    assert_eq!(answer["data"]["user"]["logs"], Value::Null);
    assert_eq!(answer["data"]["user"]["id"], user.user_id.as_str());
    assert_eq!(answer["errors"][0]["path"], json!(["user", "logs"]));
}
