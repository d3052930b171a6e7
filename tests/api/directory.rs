//! Large directories: a user's organizations and roles past Auth0's 100-item pages, through the
//! per-user lists and through the tenant's membership index; a tenant at Auth0's limit of 1000
//! roles; a user in more organizations than Auth0's offset window reaches.

use std::collections::BTreeMap;

use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenantgraph::config::TenantRateLimit;

use test_kit::{Options, TestApp, data, spawn_with};

const TENANT: &str = "acme-eu";

/// A gateway whose budget never paces the hundreds of calls an index of a large tenant takes,
/// indexing tenants with up to `max_index_groups` organizations or roles.
async fn app_indexing(max_index_groups: usize) -> TestApp {
    spawn_with(Options::default().gateway(move |config| {
        config.cache.max_index_groups = max_index_groups;
        for tenant in &mut config.tenants {
            tenant.rate_limit = TenantRateLimit {
                per_second: 100_000.0,
                burst: 100_000,
                caller_share: 1.0,
            };
        }
    }))
    .await
}

/// Sends Management API writes straight to the tenant, 16 at a time, each expected to succeed;
/// their answers in the order given.
async fn upstream_writes(app: &TestApp, requests: Vec<(Method, String, Value)>) -> Vec<Value> {
    let token = app.management_token(TENANT).await;
    let base = app.tenant(TENANT).base_url();
    let token = &token;
    let base = &base;
    futures::stream::iter(requests)
        .map(|(method, path, body)| async move {
            let answer = app
                .client
                .request(method, format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            let text = answer.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
        .buffered(16)
        .collect()
        .await
}

/// The name of the `n`th of `count` groups: created in the reverse of name order, so that a
/// list in Auth0's order (creation) is not sorted by name already.
fn group_name(prefix: &str, n: usize, count: usize) -> String {
    format!("{prefix}-{:04}", count - 1 - n)
}

/// Creates `count` organizations and returns their ids.
async fn create_organizations(app: &TestApp, prefix: &str, count: usize) -> Vec<String> {
    let requests = (0..count)
        .map(|n| {
            let body = json!({ "name": group_name(prefix, n, count), "display_name": format!("{prefix} {n}") });
            (Method::POST, "/api/v2/organizations".to_owned(), body)
        })
        .collect();
    upstream_writes(app, requests)
        .await
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Creates `count` roles and returns their ids.
async fn create_roles(app: &TestApp, prefix: &str, count: usize) -> Vec<String> {
    let requests = (0..count)
        .map(|n| {
            let body = json!({ "name": group_name(prefix, n, count) });
            (Method::POST, "/api/v2/roles".to_owned(), body)
        })
        .collect();
    upstream_writes(app, requests)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn join(app: &TestApp, user: &str, organizations: &[String]) {
    let requests = organizations
        .iter()
        .map(|org| {
            let path = format!("/api/v2/organizations/{org}/members");
            (Method::POST, path, json!({ "members": [user] }))
        })
        .collect();
    upstream_writes(app, requests).await;
}

async fn assign_roles(app: &TestApp, user: &str, roles: &[String]) {
    let path = format!("/api/v2/users/{}/roles", user.replace('|', "%7C"));
    let requests = roles
        .chunks(10)
        .map(|chunk| (Method::POST, path.clone(), json!({ "roles": chunk })))
        .collect();
    upstream_writes(app, requests).await;
}

/// `user { organizations { id name } roles { id name } }` through the gateway: the two lists.
async fn memberships(app: &TestApp, user: &str) -> (Vec<Value>, Vec<Value>) {
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($t: ID!, $id: ID!) { user(tenant: $t, id: $id) { \
               organizations { id name } roles { id name } } }",
            json!({ "t": TENANT, "id": user }),
        )
        .await;
    let user = &data(&answer)["user"];
    let list = |key: &str| user[key].as_array().unwrap().clone();
    (list("organizations"), list("roles"))
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["name"].as_str().unwrap()).collect()
}

fn assert_sorted_by_name(items: &[Value]) {
    let names = names(items);
    let mut expected = names.clone();
    expected.sort_unstable();
    assert_eq!(names, expected, "sorted by name");
}

/// The Management API calls the gateway made to the tenant, without the tenant's own answers to
/// the fixtures (counts were reset after them).
fn calls(app: &TestApp) -> BTreeMap<String, u64> {
    app.tenant_calls(TENANT)
}

/// A fresh user in 130 new organizations holding 50 new roles (Auth0's most) in a tenant of 135
/// roles: its id, organization ids and role ids.
async fn large_directory(app: &TestApp) -> (String, Vec<String>, Vec<String>) {
    let user = app
        .fixture_user(TENANT, "many.groups@example.com", None)
        .await;
    let organizations = create_organizations(app, "dir", 130).await;
    join(app, &user, &organizations).await;
    let roles = create_roles(app, "dir", 130).await;
    assign_roles(app, &user, &roles[..50]).await;
    app.reset_counts();
    (user, organizations, roles[..50].to_vec())
}

#[tokio::test]
async fn a_user_in_130_organizations_is_read_per_user_past_the_first_page() {
    // 136 organizations and 135 roles: more than `max_index_groups`, so each user is asked.
    let app = app_indexing(100).await;
    let (user, organizations, roles) = large_directory(&app).await;

    let (got_organizations, got_roles) = memberships(&app, &user).await;
    assert_eq!(ids(&got_organizations), sorted(organizations));
    assert_eq!(ids(&got_roles), sorted(roles));
    assert_sorted_by_name(&got_organizations);
    assert_sorted_by_name(&got_roles);

    let expected: BTreeMap<String, u64> = [
        // The profile, by id.
        ("GET /api/v2/users/{id}", 1),
        // Enough of the tenant's lists to learn they exceed max_index_groups (101 of each).
        ("GET /api/v2/organizations", 2),
        ("GET /api/v2/roles", 2),
        // The user's own lists: 130 organizations in pages of 100, 50 roles in one.
        ("GET /api/v2/users/{id}/organizations", 2),
        ("GET /api/v2/users/{id}/roles", 1),
    ]
    .into_iter()
    .map(|(route, n)| (route.to_owned(), n))
    .collect();
    assert_eq!(calls(&app), expected);

    // Cached: asking again costs nothing.
    memberships(&app, &user).await;
    assert_eq!(calls(&app), expected);
}

#[tokio::test]
async fn a_user_in_130_organizations_is_read_from_the_tenant_index() {
    // max_index_groups above the tenant's 136 organizations and 135 roles: indexed.
    let app = app_indexing(200).await;
    let (user, organizations, roles) = large_directory(&app).await;

    let (got_organizations, got_roles) = memberships(&app, &user).await;
    assert_eq!(ids(&got_organizations), sorted(organizations));
    assert_eq!(ids(&got_roles), sorted(roles));
    assert_sorted_by_name(&got_organizations);
    assert_sorted_by_name(&got_roles);

    let calls = calls(&app);
    assert_eq!(calls["GET /api/v2/organizations"], 2, "136 in pages of 100");
    assert_eq!(calls["GET /api/v2/roles"], 2, "135 in pages of 100");
    // One page of members per organization and of users per role (none has 100).
    assert_eq!(calls["GET /api/v2/organizations/{id}/members"], 136);
    assert_eq!(calls["GET /api/v2/roles/{id}/users"], 135);
    assert!(!calls.contains_key("GET /api/v2/users/{id}/organizations"));
    assert!(!calls.contains_key("GET /api/v2/users/{id}/roles"));
}

/// Fills the tenant to Auth0's limit of 1000 roles; a fresh user holds the 50 created last
/// (the last page of the list). The 1001st role is refused. Returns the user and its roles.
async fn tenant_of_1000_roles(app: &TestApp) -> (String, Vec<String>) {
    let (status, listed) = app
        .management(
            TENANT,
            Method::GET,
            "/api/v2/roles?per_page=100&include_totals=true",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let existing = usize::try_from(listed["total"].as_u64().unwrap()).unwrap();
    let roles = create_roles(app, "limit", 1000 - existing).await;
    let (status, refused) = app
        .management(
            TENANT,
            Method::POST,
            "/api/v2/roles",
            Some(json!({ "name": "one-too-many" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let user = app
        .fixture_user(TENANT, "last.roles@example.com", None)
        .await;
    let held = roles[roles.len() - 50..].to_vec();
    assign_roles(app, &user, &held).await;
    app.reset_counts();
    (user, held)
}

#[tokio::test]
async fn a_tenant_at_the_1000_role_limit_answers_roles_per_user() {
    let app = app_indexing(100).await;
    let (user, held) = tenant_of_1000_roles(&app).await;

    let (_, got) = memberships(&app, &user).await;
    assert_eq!(ids(&got), sorted(held));
    let calls = calls(&app);
    assert_eq!(
        calls["GET /api/v2/roles"], 2,
        "101 roles tell the tenant is large"
    );
    assert_eq!(calls["GET /api/v2/users/{id}/roles"], 1);
}

#[tokio::test]
async fn a_tenant_at_the_1000_role_limit_is_indexed_whole() {
    // An index allowed 1000 roles reads every page the offset window allows, and no further.
    let app = app_indexing(1000).await;
    let (user, held) = tenant_of_1000_roles(&app).await;

    let (_, got) = memberships(&app, &user).await;
    assert_eq!(ids(&got), sorted(held));
    let calls = calls(&app);
    assert_eq!(
        calls["GET /api/v2/roles"], 10,
        "pages 0 to 9, never page 10 (refused)"
    );
    assert_eq!(calls["GET /api/v2/roles/{id}/users"], 1000);
    assert!(!calls.contains_key("GET /api/v2/users/{id}/roles"));
}

#[tokio::test]
async fn a_user_in_more_organizations_than_the_window_shows_the_first_1000() {
    let app = app_indexing(100).await;
    let user = app
        .fixture_user(TENANT, "everywhere@example.com", None)
        .await;
    let organizations = create_organizations(&app, "wide", 1050).await;
    join(&app, &user, &organizations).await;
    app.reset_counts();

    // No error: the 1000 organizations Auth0 pages to, as the field documents.
    let (got, _) = memberships(&app, &user).await;
    assert_eq!(got.len(), 1000);
    assert_sorted_by_name(&got);
    let known: std::collections::BTreeSet<&String> = organizations.iter().collect();
    assert!(
        got.iter()
            .all(|o| known.contains(&o["id"].as_str().unwrap().to_owned()))
    );
    let calls = calls(&app);
    assert_eq!(
        calls["GET /api/v2/users/{id}/organizations"], 10,
        "pages 0 to 9; page 10 would be refused"
    );
}
