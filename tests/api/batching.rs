//! Upstream call counts: batching per tenant, the shared cache, single flight, and the bound on
//! memberships for a page of users.

use serde_json::{Value, json};

use test_kit::{data, spawn};

fn refs(app: &test_kit::TestApp, per_tenant: usize) -> Value {
    let mut refs = Vec::new();
    for tenant in ["acme-eu", "acme-us", "globex"] {
        for user in app.users_of(tenant).into_iter().skip(10).take(per_tenant) {
            refs.push(json!({"tenant": tenant, "id": user.user_id}));
        }
    }
    json!(refs)
}

const USERS: &str = "query($r: [UserRef!]!) { users(refs: $r) { id email } }";

/// Each tenant was called once, for one search of users, and for nothing else.
fn assert_one_search_per_tenant(app: &test_kit::TestApp, what: &str) {
    for tenant in ["acme-eu", "acme-us", "globex"] {
        let calls = app.tenant_calls(tenant);
        assert_eq!(
            calls.get("GET /api/v2/users").copied().unwrap_or(0),
            1,
            "{tenant}: {what}: {calls:?}"
        );
        assert_eq!(calls.values().sum::<u64>(), 1, "{tenant}: {calls:?}");
    }
}

#[tokio::test]
async fn sixty_cold_refs_cost_one_call_per_tenant_and_nothing_when_cached() {
    let app = spawn().await;
    let refs = refs(&app, 20);
    let answer = app
        .query(&app.tokens.global_admin, USERS, json!({"r": refs}))
        .await;
    let users = data(&answer)["users"].as_array().unwrap().clone();
    assert_eq!(users.len(), 60);
    assert!(
        users.iter().all(|u| u["id"].is_string()),
        "every ref resolves"
    );
    assert_one_search_per_tenant(&app, "every cold ref in one search");

    app.reset_counts();
    let again = app
        .query(&app.tokens.global_admin, USERS, json!({"r": refs}))
        .await;
    assert_eq!(data(&again)["users"], json!(users));
    assert_eq!(app.total_calls(), 0, "{:?}", app.upstream_calls());
}

#[tokio::test]
async fn concurrent_requests_for_one_missing_user_cost_one_call() {
    let app = spawn().await;
    let query = "{ user(tenant: \"globex\", id: \"auth0|ffffffffffffffffffffffff\") { id } }";
    let requests = (0..12).map(|_| app.query(&app.tokens.global_admin, query, json!({})));
    for answer in futures::future::join_all(requests).await {
        assert_eq!(data(&answer)["user"], Value::Null);
    }
    assert_eq!(
        app.upstream_calls(),
        [("GET /api/v2/users/{id}".to_owned(), 1)].into(),
        "single flight"
    );

    // The absence is remembered (briefly) too.
    app.query(&app.tokens.global_admin, query, json!({})).await;
    assert_eq!(app.total_calls(), 1);
}

#[tokio::test]
async fn a_lone_user_is_read_by_id_and_a_batch_by_search() {
    let app = spawn().await;
    let user = &app.users_of("acme-eu")[0];
    app.query(
        &app.tokens.global_admin,
        "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id } }",
        json!({"id": user.user_id}),
    )
    .await;
    assert_eq!(
        app.upstream_calls(),
        [("GET /api/v2/users/{id}".to_owned(), 1)].into()
    );
}

const PAGE: &str = "query($n: Int!) { searchUsers(first: $n, orderBy: EMAIL_ASC) {
    edges { node { id organizations { id } roles { id } } } } }";

/// Calls made for memberships (everything but the search itself).
fn membership_calls(app: &test_kit::TestApp) -> u64 {
    app.upstream_calls()
        .iter()
        .filter(|(route, _)| *route != "GET /api/v2/users")
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn memberships_of_a_page_cost_a_bound_independent_of_its_size() {
    let small = spawn().await;
    let answer = small
        .query(&small.tokens.global_admin, PAGE, json!({"n": 10}))
        .await;
    assert_eq!(
        data(&answer)["searchUsers"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    let for_ten = membership_calls(&small);

    let large = spawn().await;
    let answer = large
        .query(&large.tokens.global_admin, PAGE, json!({"n": 50}))
        .await;
    let edges = data(&answer)["searchUsers"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 50);
    let for_fifty = membership_calls(&large);

    // The bound of the schema description: per tenant, one call listing organizations plus one
    // per organization (≤ 100 members each here), one listing roles plus one per role.
    let mut bound = 0;
    for tenant in ["acme-eu", "acme-us", "globex"] {
        let organizations = large.tenant(tenant).control().organizations();
        bound += 1 + organizations
            .iter()
            .map(|o| o.members.len().div_ceil(100).max(1) as u64)
            .sum::<u64>();
        let roles = large
            .management_get(tenant, "/api/v2/roles?include_totals=true&per_page=100")
            .await;
        for role in roles["roles"].as_array().unwrap() {
            let id = role["id"].as_str().unwrap();
            let holders = large
                .management_get(
                    tenant,
                    &format!("/api/v2/roles/{id}/users?include_totals=true&per_page=100"),
                )
                .await;
            bound += (holders["total"].as_u64().unwrap() as usize)
                .div_ceil(100)
                .max(1) as u64;
        }
        bound += 1;
    }
    eprintln!(
        "memberships of a page: {for_ten} calls for 10 users, {for_fifty} for 50; bound {bound}"
    );
    assert_eq!(for_ten, for_fifty, "the cost does not grow with the page");
    assert!(
        for_fifty <= bound,
        "{for_fifty} calls > bound {bound}: {:?}",
        large.upstream_calls()
    );
    assert!(
        large
            .upstream_calls()
            .keys()
            .all(|r| !r.contains("/users/{id}/")),
        "never per user: {:?}",
        large.upstream_calls()
    );

    // Cached: the same page again costs nothing for memberships.
    large.reset_counts();
    large
        .query(&large.tokens.global_admin, PAGE, json!({"n": 50}))
        .await;
    assert_eq!(membership_calls(&large), 0, "{:?}", large.upstream_calls());
}

#[tokio::test]
async fn an_expired_search_page_is_answered_while_one_refresh_runs() {
    let app = test_kit::spawn_with(test_kit::Options::default().gateway(|c| {
        c.cache.search_ttl = std::time::Duration::from_millis(300);
    }))
    .await;
    let query = "{ searchUsers(tenants: [\"globex\"], first: 5) { totalCount } }";
    let searches = || {
        app.tenant_calls("globex")
            .get("GET /api/v2/users")
            .copied()
            .unwrap_or(0)
    };
    data(&app.query(&app.tokens.global_admin, query, json!({})).await);
    assert_eq!(searches(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await; // past the TTL
    // Expired: answered at once from the old page, while a single search refreshes it.
    let answers = futures::future::join_all(
        (0..5).map(|_| app.query(&app.tokens.global_admin, query, json!({}))),
    )
    .await;
    assert!(answers.iter().all(|a| a.get("errors").is_none()));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(searches(), 2, "one refresh for five requests");
    data(&app.query(&app.tokens.global_admin, query, json!({})).await);
    assert_eq!(searches(), 2, "the refreshed page is fresh");
}

#[tokio::test]
async fn users_asked_for_by_separate_fields_in_one_pass_are_one_batch_per_tenant() {
    // Twelve root fields, resolved side by side: the loader gathers what they ask for in one
    // pass of the request, with no batching delay, into one search per tenant.
    let app = spawn().await;
    let mut fields = String::new();
    for tenant in ["acme-eu", "acme-us", "globex"] {
        for (n, user) in app
            .users_of(tenant)
            .into_iter()
            .skip(30)
            .take(4)
            .enumerate()
        {
            let alias = format!("{}_{n}", tenant.replace('-', "_"));
            fields += &format!(
                "{alias}: user(tenant: \"{tenant}\", id: \"{}\") {{ id email }} ",
                user.user_id
            );
        }
    }
    let answer = app
        .query(
            &app.tokens.global_admin,
            &format!("{{ {fields} }}"),
            json!({}),
        )
        .await;
    let users = data(&answer).as_object().unwrap().clone();
    assert_eq!(users.len(), 12);
    assert!(users.values().all(|u| u["id"].is_string()), "{users:?}");
    assert_one_search_per_tenant(&app, "one search for its four users, not a read each");
}
