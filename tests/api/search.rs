//! `searchUsers`: order and pagination against a brute-force merge of every tenant's users,
//! totals, query validation, cursors and Auth0's 1000-result window.

use std::cmp::Ordering;

use serde_json::{Value, json};

use test_kit::{Options, TestApp, data, error_codes, spawn, spawn_with};

/// Every user of a tenant as the Management API returns it (the truth to merge).
async fn all_users(app: &TestApp, tenant: &str) -> Vec<Value> {
    let mut users = Vec::new();
    for page in 0.. {
        let answer = app
            .management_get(
                tenant,
                &format!("/api/v2/users?per_page=100&page={page}&include_totals=true"),
            )
            .await;
        let batch = answer["users"].as_array().unwrap().clone();
        let done = batch.len() < 100;
        users.extend(batch);
        if done {
            break;
        }
    }
    users
}

fn key(user: &Value, field: &str) -> Option<String> {
    user.get(field).and_then(Value::as_str).map(|s| {
        if field == "email" {
            s.to_lowercase()
        } else {
            s.to_owned()
        }
    })
}

/// The order the gateway promises: the key (absent last), then tenant id, then user id.
fn brute_force(users: &[(String, Value)], field: &str, descending: bool) -> Vec<String> {
    let mut sorted: Vec<&(String, Value)> = users.iter().collect();
    sorted.sort_by(|(ta, a), (tb, b)| {
        let by_key = match (key(a, field), key(b, field)) {
            (Some(x), Some(y)) if descending => y.cmp(&x),
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_key
            .then_with(|| ta.cmp(tb))
            .then_with(|| a["user_id"].as_str().cmp(&b["user_id"].as_str()))
    });
    sorted
        .into_iter()
        .map(|(t, u)| format!("{t}/{}", u["user_id"].as_str().unwrap()))
        .collect()
}

async fn page_through(
    app: &TestApp,
    order: &str,
    first: usize,
    query: Option<&str>,
) -> (Vec<String>, i64) {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let answer = app
            .query(
                &app.tokens.global_admin,
                "query($o: UserOrder, $n: Int, $a: String, $q: String) { searchUsers(query: $q, orderBy: $o, first: $n, after: $a) {
                    totalCount edges { cursor node { id tenant { id } } } pageInfo { hasNextPage endCursor } } }",
                json!({"o": order, "n": first, "a": after, "q": query}),
            )
            .await;
        let page = &data(&answer)["searchUsers"];
        let total = page["totalCount"].as_i64().unwrap();
        let edges = page["edges"].as_array().unwrap();
        assert!(edges.len() <= first);
        for edge in edges {
            ids.push(format!(
                "{}/{}",
                edge["node"]["tenant"]["id"].as_str().unwrap(),
                edge["node"]["id"].as_str().unwrap()
            ));
        }
        if let Some(last) = edges.last() {
            assert_eq!(page["pageInfo"]["endCursor"], last["cursor"]);
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (ids, total);
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

#[tokio::test]
async fn every_order_pages_through_the_exact_brute_force_merge() {
    let app = spawn().await;
    let mut everyone = Vec::new();
    for tenant in ["acme-eu", "acme-us", "globex"] {
        everyone.extend(
            all_users(&app, tenant)
                .await
                .into_iter()
                .map(|u| (tenant.to_owned(), u)),
        );
    }
    for (order, field, descending, first) in [
        ("CREATED_AT_DESC", "created_at", true, 7),
        ("CREATED_AT_ASC", "created_at", false, 13),
        ("LAST_LOGIN_DESC", "last_login", true, 20),
        ("EMAIL_ASC", "email", false, 100),
    ] {
        let (got, total) = page_through(&app, order, first, None).await;
        let expected = brute_force(&everyone, field, descending);
        assert_eq!(total as usize, expected.len(), "{order}");
        assert_eq!(got, expected, "{order} with pages of {first}");
    }
}

#[tokio::test]
async fn a_query_is_run_in_every_tenant_and_merged() {
    let app = spawn().await;
    let mut verified = Vec::new();
    for tenant in ["acme-eu", "acme-us", "globex"] {
        verified.extend(
            all_users(&app, tenant)
                .await
                .into_iter()
                .filter(|u| u["email_verified"] == json!(false))
                .map(|u| (tenant.to_owned(), u)),
        );
    }
    let (got, total) = page_through(&app, "CREATED_AT_DESC", 9, Some("email_verified:false")).await;
    assert_eq!(got, brute_force(&verified, "created_at", true));
    assert_eq!(total as usize, verified.len());
}

#[tokio::test]
async fn bad_arguments_are_refused_with_advice() {
    let app = spawn().await;
    let token = &app.tokens.global_admin;
    for (args, fragment) in [
        ("query: \"name:(jo\"", "not valid"),
        ("query: \"name:*so\"", "not valid"),
        ("first: 0", "between 1 and 100"),
        ("first: 101", "between 1 and 100"),
        ("after: \"bm90IGEgY3Vyc29y\"", "cursor"),
    ] {
        let answer = app
            .query(
                token,
                &format!("{{ searchUsers({args}) {{ totalCount }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{args}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(fragment),
            "{args}: {answer}"
        );
    }
    let first = app
        .query(
            token,
            "{ searchUsers(first: 2) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = data(&first)["searchUsers"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app
        .query(token, "query($a: String) { searchUsers(first: 2, orderBy: EMAIL_ASC, after: $a) { totalCount } }", json!({"a": cursor}))
        .await;
    assert_eq!(
        error_codes(&other),
        ["BAD_USER_INPUT"],
        "a cursor is bound to its search"
    );
}

#[tokio::test]
async fn paging_past_auths_1000_result_window_is_refused_with_advice() {
    let app = spawn_with(Options {
        users: 1050,
        ..Options::default()
    })
    .await;
    let mut after: Option<String> = None;
    for page in 0..10 {
        let answer = app
            .query(
                &app.tokens.global_admin,
                "query($a: String) { searchUsers(tenants: [\"acme-eu\"], first: 100, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                json!({"a": after}),
            )
            .await;
        let page_data = &data(&answer)["searchUsers"];
        assert_eq!(
            page_data["edges"].as_array().unwrap().len(),
            100,
            "page {page}"
        );
        assert_eq!(page_data["pageInfo"]["hasNextPage"], true);
        after = page_data["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($a: String) { searchUsers(tenants: [\"acme-eu\"], first: 100, after: $a) { edges { node { id } } } }",
            json!({"a": after}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("1000") && message.contains("narrow"),
        "{message}"
    );
    assert_eq!(answer["errors"][0]["extensions"]["tenant"], "acme-eu");
}
