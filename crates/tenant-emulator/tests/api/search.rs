//! `GET /api/v2/users` with `q`: each syntax element, case rules, sort, fields, paging, totals,
//! the 1000-result window, per_page, 414, malformed queries and the search engine parameter.

use std::collections::BTreeSet;

use rand::{Rng as _, SeedableRng as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tenant_emulator::{EmulatorConfig, ExtraUser};

use crate::helpers::{Tenant, assert_error, config, spawn, spawn_with};

fn person(email: &str, name: &str, verified: bool, app: Value, user: Value) -> ExtraUser {
    let mut extra = ExtraUser::new(email, "pw");
    extra.name = Some(name.into());
    extra.email_verified = verified;
    extra.app_metadata = app;
    extra.user_metadata = user;
    extra
}

/// A tenant with five known people and nobody else.
async fn known() -> Tenant {
    let mut config: EmulatorConfig = config(0);
    config.extra_users = vec![
        person(
            "alice@alpha.example",
            "Alice Anderson",
            true,
            json!({"plan": "gold", "roles": ["admin", "support"]}),
            json!({"language": "fr", "address": {"city": "Paris"}}),
        ),
        person(
            "bob@beta.example",
            "Bob Brown",
            false,
            json!({"plan": "silver"}),
            json!({"language": "en"}),
        ),
        person(
            "carol@alpha.example",
            "Carol Carlson",
            true,
            json!({"plan": "gold"}),
            json!({"address": {"city": "Berlin"}}),
        ),
        person(
            "jon@gamma.example",
            "Jonathan Johnson",
            true,
            json!({"plan": "free"}),
            Value::Null,
        ),
        person(
            "dora@beta.example",
            "Dora Dawson",
            true,
            Value::Null,
            Value::Null,
        ),
    ];
    spawn_with(config).await
}

fn names(users: &[Value]) -> BTreeSet<String> {
    users
        .iter()
        .map(|u| u["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn terms_phrases_and_case_rules() {
    let t = known().await;
    assert_eq!(
        names(&t.search("email:\"alice@alpha.example\"", &[]).await),
        set(&["Alice Anderson"])
    );
    // email and name match case-insensitively; values are whole keywords, not tokens.
    assert_eq!(
        names(&t.search("email:ALICE@ALPHA.EXAMPLE", &[]).await),
        set(&["Alice Anderson"])
    );
    assert_eq!(
        names(&t.search("name:\"ALICE ANDERSON\"", &[]).await),
        set(&["Alice Anderson"])
    );
    assert!(t.search("name:alice", &[]).await.is_empty());
    // Metadata is case-sensitive.
    assert_eq!(t.search("app_metadata.plan:gold", &[]).await.len(), 2);
    assert!(t.search("app_metadata.plan:\"GOLD\"", &[]).await.is_empty());
    assert_eq!(
        names(&t.search("email_verified:false", &[]).await),
        set(&["Bob Brown"])
    );
}

#[tokio::test]
async fn or_groups_boolean_operators_and_parentheses() {
    let t = known().await;
    let all = t.search("email:*example", &[]).await;
    let ids: Vec<&str> = all
        .iter()
        .take(2)
        .map(|u| u["user_id"].as_str().expect("id"))
        .collect();
    let q = format!("user_id:(\"{}\" OR \"{}\")", ids[0], ids[1]);
    assert_eq!(t.search(&q, &[]).await.len(), 2);
    assert_eq!(
        names(
            &t.search(
                "app_metadata.plan:\"gold\" AND NOT name:\"Carol Carlson\"",
                &[]
            )
            .await
        ),
        set(&["Alice Anderson"])
    );
    assert_eq!(
        names(
            &t.search(
                "(app_metadata.plan:gold OR app_metadata.plan:silver) AND email_verified:false",
                &[]
            )
            .await
        ),
        set(&["Bob Brown"])
    );
    assert_eq!(
        names(
            &t.search("name:\"Bob Brown\" OR name:\"Dora Dawson\"", &[])
                .await
        ),
        set(&["Bob Brown", "Dora Dawson"])
    );
}

#[tokio::test]
async fn exists_wildcards_nested_metadata_and_arrays() {
    let t = known().await;
    assert_eq!(
        names(&t.search("_exists_:user_metadata.address", &[]).await),
        set(&["Alice Anderson", "Carol Carlson"])
    );
    assert_eq!(
        names(&t.search("name:jo*", &[]).await),
        set(&["Jonathan Johnson"])
    );
    assert_eq!(
        names(&t.search("name:*son", &[]).await),
        set(&[
            "Alice Anderson",
            "Carol Carlson",
            "Jonathan Johnson",
            "Dora Dawson"
        ])
    );
    assert_eq!(
        names(&t.search("user_metadata.address.city:\"Paris\"", &[]).await),
        set(&["Alice Anderson"])
    );
    assert_eq!(
        names(&t.search("app_metadata.roles:\"admin\"", &[]).await),
        set(&["Alice Anderson"])
    );
    // A leading wildcard needs three literal characters; none on metadata.
    for bad in ["name:*on", "app_metadata.plan:go*"] {
        let (status, body) = t.get_json("/api/v2/users", &[("q", bad)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_error(&body, 400, "invalid_query_string");
    }
}

/// Every user of a tenant, through the API.
async fn everyone(t: &Tenant) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 0.. {
        let page = page.to_string();
        let (_, body) = t
            .get_json("/api/v2/users", &[("per_page", "100"), ("page", &page)])
            .await;
        let users = body.as_array().cloned().expect("array");
        if users.is_empty() {
            break;
        }
        all.extend(users);
    }
    all
}

fn ids(users: &[Value]) -> BTreeSet<String> {
    users
        .iter()
        .map(|u| u["user_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every match of `q`, through as many pages as it takes.
async fn matches(t: &Tenant, q: &str) -> BTreeSet<String> {
    let mut found = Vec::new();
    for page in 0..10 {
        let page = page.to_string();
        let batch = t.search(q, &[("page", &page)]).await;
        let done = batch.len() < 100;
        found.extend(batch);
        if done {
            break;
        }
    }
    ids(&found)
}

#[tokio::test]
async fn ranges_on_numbers_and_dates_match_what_the_profiles_say() {
    let t = spawn(250).await;
    let all = everyone(&t).await;
    assert_eq!(all.len(), 250);
    let count = |u: &Value| u["logins_count"].as_i64().unwrap_or(0);
    let created = |u: &Value| u["created_at"].as_str().unwrap_or_default().to_owned();
    type Predicate = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, Predicate)> = vec![
        (
            "logins_count:[5 TO 10]",
            Box::new(move |u| (5..=10).contains(&count(u))),
        ),
        ("logins_count:{20 TO *]", Box::new(move |u| count(u) > 20)),
        (
            "created_at:[2024-01-01 TO 2024-03-01}",
            Box::new(move |u| {
                created(u).as_str() >= "2024-01-01" && created(u).as_str() < "2024-03-01"
            }),
        ),
    ];
    for (q, predicate) in cases {
        let expected: Vec<Value> = all.iter().filter(|u| predicate(u)).cloned().collect();
        assert!(!expected.is_empty(), "{q} matches nobody");
        let (found, expected) = (matches(&t, q).await, ids(&expected));
        let differ: Vec<&String> = found.symmetric_difference(&expected).collect();
        assert!(differ.is_empty(), "{q}: {differ:?}");
    }
}

#[tokio::test]
async fn sort_puts_missing_values_last_both_ways_and_breaks_ties_by_user_id() {
    let t = known().await;
    let asc = t
        .search(
            "email:*example",
            &[("sort", "user_metadata.address.city:1")],
        )
        .await;
    let desc = t
        .search(
            "email:*example",
            &[("sort", "user_metadata.address.city:-1")],
        )
        .await;
    let first_names = |users: &[Value]| -> Vec<String> {
        users
            .iter()
            .map(|u| u["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(&first_names(&asc)[..2], ["Carol Carlson", "Alice Anderson"]);
    assert_eq!(
        &first_names(&desc)[..2],
        ["Alice Anderson", "Carol Carlson"]
    );
    // The three without a city follow, in user_id order, in both directions.
    let tail = |users: &[Value]| -> Vec<String> {
        users[2..]
            .iter()
            .map(|u| u["user_id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let mut sorted_tail = tail(&asc);
    sorted_tail.sort();
    assert_eq!(tail(&asc), sorted_tail);
    assert_eq!(tail(&desc), sorted_tail);
    let by_name = t.search("email:*example", &[("sort", "name:-1")]).await;
    assert_eq!(by_name[0]["name"], "Jonathan Johnson");
    let (status, body) = t.get_json("/api/v2/users", &[("sort", "name")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&body, 400, "invalid_query_string").contains("on property sort"));
}

#[tokio::test]
async fn fields_paging_and_totals_apply_to_search_results() {
    let t = known().await;
    let found = t
        .search(
            "email:*example",
            &[("fields", "user_id,name"), ("include_fields", "true")],
        )
        .await;
    assert!(
        found
            .iter()
            .all(|u| u.as_object().expect("object").len() == 2)
    );
    let (status, page) = t
        .get_json(
            "/api/v2/users",
            &[
                ("q", "email:*example"),
                ("per_page", "2"),
                ("page", "2"),
                ("include_totals", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["start"], 4);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["length"], 1);
    assert_eq!(page["total"], 5);
    assert_eq!(page["users"].as_array().expect("users").len(), 1);
}

#[tokio::test]
async fn the_1000_result_window_and_per_page_bound() {
    let t = spawn(20).await;
    let (status, _) = t
        .get_json("/api/v2/users", &[("page", "9"), ("per_page", "100")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = t
        .get_json("/api/v2/users", &[("page", "10"), ("per_page", "100")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        assert_error(&body, 400, "invalid_paging")
            .starts_with("You can only page through the first 1000 records")
    );
    let (status, body) = t
        .get_json(
            "/api/v2/users",
            &[("q", "email:*example"), ("page", "20"), ("per_page", "50")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = t.get_json("/api/v2/users", &[("per_page", "101")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&body, 400, "invalid_query_string").contains("per_page"));
    for (name, value) in [("page", "-1"), ("page", "x"), ("include_totals", "yes")] {
        let (status, body) = t.get_json("/api/v2/users", &[(name, value)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}={value}");
        assert_error(&body, 400, "invalid_query_string");
    }
}

#[tokio::test]
async fn an_over_long_query_string_is_414() {
    let t = spawn(5).await;
    let ids: Vec<String> = (0..400).map(|i| format!("\"auth0|{i:024x}\"")).collect();
    let q = format!("user_id:({})", ids.join(" OR "));
    let (status, body) = t.get_json("/api/v2/users", &[("q", &q)]).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert_error(&body, 414, "uri_too_long");
    // A 100-id batch fits.
    let q = format!("user_id:({})", ids[..100].join(" OR "));
    let (status, _) = t
        .get_json("/api/v2/users", &[("q", &q), ("search_engine", "v3")])
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_queries_are_400_never_500() {
    let t = spawn(5).await;
    let bad = [
        "name:(",
        ")",
        "AND",
        "name:\"open",
        "name:[a TO",
        "logins_count:[x TO 3]",
        "user_id:*abc",
        "name:jo~",
        "name:/re/",
        "((((((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))))",
        "name:",
        ":value",
        "  ",
        "NOT",
        "a AND",
        "created_at:[2024-13-45 TO *]",
    ];
    for q in bad {
        let (status, body) = t.get_json("/api/v2/users", &[("q", q)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q:?}: {body}");
        assert_error(&body, 400, "invalid_query_string");
    }
    // Random input: a 200 or a 400, whatever it is.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let alphabet: Vec<char> = "ab:\"()[]{}*~^/\\!&|+- ORANDNOT_.$@0123456789é"
        .chars()
        .collect();
    for _ in 0..300 {
        let len = rng.gen_range(1..30);
        let q: String = (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        let (status, body) = t.get_json("/api/v2/users", &[("q", &q)]).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{q:?}: {status} {body}"
        );
    }
}

#[tokio::test]
async fn search_engine_v3_only_and_unknown_parameters_refused() {
    let t = spawn(5).await;
    let (status, _) = t
        .get_json(
            "/api/v2/users",
            &[("q", "email:*example"), ("search_engine", "v3")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for engine in ["v1", "v2", "v4"] {
        let (status, body) = t
            .get_json("/api/v2/users", &[("search_engine", engine)])
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{engine}: {body}");
    }
    let (status, body) = t.get_json("/api/v2/users", &[("frobnicate", "1")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        assert_error(&body, 400, "invalid_query_string")
            .contains("Additional properties not allowed: frobnicate")
    );
}
