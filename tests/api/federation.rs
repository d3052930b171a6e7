//! tenantgraph as an Apollo Federation 2 subgraph: `_entities` and `_service` as a router calls
//! them, then a real router (`@apollo/gateway` in Node, `tests/federation/`) composing tenantgraph
//! with a small CRM subgraph. The router tests need `node` and the packages installed by
//! `npm ci --prefix tests/federation`; without them they are skipped loudly (a failure under
//! `TENANTGRAPH_CI=1`).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use test_kit::{TestApp, data, error_codes, post, spawn};

const TENANTS: [&str; 3] = ["acme-eu", "acme-us", "globex"];

const USER_ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    ... on User { id tenant { id } email } } }";

fn representation(tenant: &str, id: &str) -> Value {
    json!({"__typename": "User", "tenant": {"id": tenant}, "id": id})
}

/// `count` users of each tenant (past the first ten), as (tenant, id, email).
fn some_users(app: &TestApp, count: usize) -> Vec<(String, String, Option<String>)> {
    let mut users = Vec::new();
    for tenant in TENANTS {
        for user in app.users_of(tenant).into_iter().skip(10).take(count) {
            users.push((tenant.to_owned(), user.user_id, user.email));
        }
    }
    users
}

/// Management API calls per tenant (the token endpoint aside).
fn calls_per_tenant(app: &TestApp) -> Vec<(&'static str, u64)> {
    TENANTS
        .iter()
        .map(|t| (*t, app.tenant_calls(t).values().sum()))
        .collect()
}

#[tokio::test]
async fn thirty_user_entities_in_three_tenants_cost_one_call_per_tenant() {
    let app = spawn().await;
    let users = some_users(&app, 10);
    let representations: Vec<Value> = users
        .iter()
        .map(|(tenant, id, _)| representation(tenant, id))
        .collect();
    let answer = app
        .query(
            &app.tokens.global_admin,
            USER_ENTITIES,
            json!({"r": representations}),
        )
        .await;
    let entities = data(&answer)["_entities"].as_array().unwrap().clone();
    assert_eq!(entities.len(), 30);
    for ((tenant, id, email), entity) in users.iter().zip(&entities) {
        assert_eq!(
            entity,
            &json!({"id": id, "tenant": {"id": tenant}, "email": email})
        );
    }
    eprintln!("30 user entities: {:?}", calls_per_tenant(&app));
    for tenant in TENANTS {
        assert_eq!(
            app.tenant_calls(tenant),
            [("GET /api/v2/users".to_owned(), 1)].into(),
            "{tenant}: one search for its ten users"
        );
    }
}

#[tokio::test]
async fn an_entity_out_of_reach_is_null_as_user_is() {
    let app = spawn().await;
    // A delegated administrator: a member of its organization, and an acme-us user outside it.
    let organization = app.env.demo_organization().unwrap();
    let members = app.members_of("acme-us", &organization);
    let outsider = app
        .users_of("acme-us")
        .into_iter()
        .find(|u| !members.contains(&u.user_id))
        .unwrap()
        .user_id;
    let answer = app
        .query(
            &app.tokens.org_admin,
            USER_ENTITIES,
            json!({"r": [representation("acme-us", &members[0]), representation("acme-us", &outsider)]}),
        )
        .await;
    let entities = &data(&answer)["_entities"];
    assert_eq!(entities[0]["id"], json!(members[0]));
    assert_eq!(entities[1], Value::Null, "out of reach, as a missing user");
    let user = app
        .query(
            &app.tokens.org_admin,
            "query($id: ID!) { user(tenant: \"acme-us\", id: $id) { id } }",
            json!({"id": outsider}),
        )
        .await;
    assert_eq!(data(&user)["user"], Value::Null);

    // A tenant out of reach, or one that does not exist: BAD_USER_INPUT as `user` answers, for
    // that representation only, and no call to it.
    app.reset_counts();
    let mine = &app.users_of("acme-eu")[3].user_id;
    let theirs = &app.users_of("globex")[3].user_id;
    let answer = app
        .query(
            &app.tokens.tenant_admin,
            USER_ENTITIES,
            json!({"r": [representation("acme-eu", mine), representation("globex", theirs), representation("nowhere", theirs)]}),
        )
        .await;
    assert_eq!(answer["data"]["_entities"][0]["id"], json!(mine));
    assert_eq!(answer["data"]["_entities"][1], Value::Null);
    assert_eq!(answer["data"]["_entities"][2], Value::Null);
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer:#}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown tenant"),
        "{answer:#}"
    );
    assert_eq!(app.tenant_calls("globex").values().sum::<u64>(), 0);
    let user = app
        .query(
            &app.tokens.tenant_admin,
            "query($id: ID!) { user(tenant: \"globex\", id: $id) { id } }",
            json!({"id": theirs}),
        )
        .await;
    assert_eq!(error_codes(&user), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_down_tenant_nulls_its_entities_only_with_one_error_naming_it() {
    let app = spawn().await;
    app.tenant("globex")
        .control()
        .set_faults(tenant_emulator::Faults {
            down: true,
            ..tenant_emulator::Faults::default()
        })
        .unwrap();
    let users = some_users(&app, 2);
    let representations: Vec<Value> = users
        .iter()
        .map(|(tenant, id, _)| representation(tenant, id))
        .collect();
    let answer = app
        .query(
            &app.tokens.global_admin,
            USER_ENTITIES,
            json!({"r": representations}),
        )
        .await;
    let entities = answer["data"]["_entities"].as_array().unwrap();
    for ((tenant, id, _), entity) in users.iter().zip(entities) {
        if tenant == "globex" {
            assert_eq!(entity, &Value::Null);
        } else {
            assert_eq!(entity["id"], json!(id));
        }
    }
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{answer:#}");
    assert_eq!(errors[0]["extensions"]["code"], "TENANT_UNAVAILABLE");
    assert_eq!(errors[0]["extensions"]["tenant"], "globex");
}

#[tokio::test]
async fn a_person_entity_is_the_person_behind_a_verified_email() {
    let app = spawn().await;
    let verified = app
        .users_of("globex")
        .into_iter()
        .find(|u| u.email_verified && u.email.is_some())
        .unwrap();
    let email = verified.email.clone().unwrap();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [_Any!]!) { _entities(representations: $r) {
                ... on Person { email accounts { id tenant { id } } } } }",
            json!({"r": [{"__typename": "Person", "email": email}, {"__typename": "Person", "email": "nobody@example.com"}]}),
        )
        .await;
    let entities = &data(&answer)["_entities"];
    let person = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { person(email: $e) { email accounts { id tenant { id } } } }",
            json!({"e": email}),
        )
        .await;
    assert_eq!(entities[0], data(&person)["person"]);
    assert!(
        entities[0]["accounts"]
            .as_array()
            .unwrap()
            .contains(&json!({"id": verified.user_id, "tenant": {"id": "globex"}}))
    );
    assert_eq!(entities[1], Value::Null);
}

#[tokio::test]
async fn a_router_cannot_pass_the_limits() {
    let app = spawn().await;
    let representations: Vec<Value> = app
        .users_of("acme-eu")
        .iter()
        .take(30)
        .map(|u| representation("acme-eu", &u.user_id))
        .collect();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { bruteForceBlocks { identifier } } } }",
            json!({"r": representations}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["QUERY_TOO_COMPLEX"], "{answer:#}");
    assert_eq!(app.total_calls(), 0);
}

#[tokio::test]
async fn the_service_sdl_is_the_subgraph_schema_and_closed_without_introspection() {
    let app = spawn().await;
    let answer = app
        .query(&app.tokens.auditor, "{ _service { sdl } }", json!({}))
        .await;
    assert_eq!(
        data(&answer)["_service"]["sdl"],
        json!(tenantgraph::graphql::subgraph_sdl())
    );

    let closed = test_kit::spawn_with(
        test_kit::Options::default().gateway(|c| c.server.introspection = false),
    )
    .await;
    let answer = closed
        .query(&closed.tokens.auditor, "{ _service { sdl } }", json!({}))
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer:#}");
    assert_eq!(answer["data"], Value::Null);
}

/// The Node side: its directory and the command that installs its packages.
const INSTALL: &str = "npm ci --prefix tests/federation";

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/federation")
}

/// `tests/federation/router.mjs`: a CRM subgraph and an Apollo router composing it with the
/// gateway, on free loopback ports; stopped when dropped.
struct Router {
    child: Child,
    url: String,
}

/// Whether `node` and the packages are installed; when not, the test is skipped loudly (or
/// fails, under `TENANTGRAPH_CI=1`).
fn router_can_run() -> bool {
    test_kit::require("node", "apt-get install nodejs npm")
        && test_kit::require_file(
            &node_dir().join("node_modules/@apollo/gateway/package.json"),
            INSTALL,
        )
}

impl Router {
    /// The router in front of `app`'s gateway, composed with `compose_token`, the CRM serving
    /// `crm`.
    async fn start(app: &TestApp, compose_token: &str, crm: &Value) -> Self {
        let mut child = Command::new("node")
            .arg("router.mjs")
            .current_dir(node_dir())
            .env("TENANTGRAPH_URL", app.url())
            .env("COMPOSE_TOKEN", compose_token)
            .env("CRM_DATA", crm.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().unwrap();
        // Read off the runtime's thread: the gateway must keep serving the router's
        // `_service` query meanwhile.
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).ok();
            line
        });
        let line = tokio::time::timeout(Duration::from_secs(120), first_line)
            .await
            .expect("the router answers within two minutes")
            .unwrap();
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the router did not start (stderr above): {line:?}"));
        Self {
            child,
            url: started["router"].as_str().unwrap().to_owned(),
        }
    }

    async fn query(&self, token: Option<&str>, query: &str) -> Value {
        post(&reqwest::Client::new(), &self.url, token, query, json!({})).await
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CRM's data: an account owned by each of `owners`; notes on every user of globex; the
/// first account's contact is `contact`.
fn crm_data(app: &TestApp, owners: &[(String, String)], contact: &str) -> Value {
    let accounts: Vec<Value> = owners
        .iter()
        .enumerate()
        .map(|(i, (tenant, id))| {
            json!({"name": format!("account {i}"), "owner": {"tenant": tenant, "id": id},
                   "contact": (i == 0).then_some(contact)})
        })
        .collect();
    let notes: serde_json::Map<String, Value> = app
        .users_of("globex")
        .into_iter()
        .map(|u| {
            (
                format!("globex/{}", u.user_id),
                json!([format!("note on {}", u.user_id)]),
            )
        })
        .collect();
    json!({"accounts": accounts, "notes": notes})
}

#[tokio::test]
async fn a_router_joins_tenantgraph_with_another_subgraph_both_ways() {
    if !router_can_run() {
        return;
    }
    let app = spawn().await;
    let users = some_users(&app, 10);
    let owners: Vec<(String, String)> = users
        .iter()
        .map(|(tenant, id, _)| (tenant.clone(), id.clone()))
        .collect();
    let contact = app
        .users_of("acme-us")
        .into_iter()
        .find(|u| u.email_verified && u.email.is_some())
        .unwrap();
    let crm = crm_data(&app, &owners, contact.email.as_deref().unwrap());
    let router = Router::start(&app, &app.tokens.auditor, &crm).await;
    let token = Some(app.tokens.global_admin.as_str());

    // tenantgraph's search, joined with the CRM's notes on each user (resolved from the key).
    let answer = router
        .query(
            token,
            "{ searchUsers(tenants: [\"globex\"], first: 5, orderBy: EMAIL_ASC) {
                edges { node { id email crmNotes } } } }",
        )
        .await;
    let edges = data(&answer)["searchUsers"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 5);
    for edge in &edges {
        let id = edge["node"]["id"].as_str().unwrap();
        assert_eq!(edge["node"]["crmNotes"], json!([format!("note on {id}")]));
        assert!(edge["node"]["email"].is_string());
    }

    // The CRM's accounts, their owners resolved by tenantgraph: 30 users across three tenants
    // in one `_entities` request, one upstream call per tenant.
    app.reset_counts();
    let answer = router
        .query(
            token,
            "{ accounts { name owner { id tenant { id } email crmNotes } } }",
        )
        .await;
    let accounts = data(&answer)["accounts"].as_array().unwrap().clone();
    assert_eq!(accounts.len(), 30);
    for (account, (tenant, id, email)) in accounts.iter().zip(&users) {
        assert_eq!(account["owner"]["id"], json!(id));
        assert_eq!(account["owner"]["tenant"]["id"], json!(tenant));
        assert_eq!(account["owner"]["email"], json!(email), "{account}");
    }
    let calls = calls_per_tenant(&app);
    eprintln!("30 owners through the router: {calls:?}");
    assert_eq!(calls, TENANTS.map(|t| (t, 1)).to_vec());

    // A person, keyed by email in the CRM, with its accounts from tenantgraph.
    let answer = router
        .query(
            token,
            "{ accounts { contact { email accounts { id tenant { id } } } } }",
        )
        .await;
    let contact_accounts = &data(&answer)["accounts"][0]["contact"]["accounts"];
    assert!(
        contact_accounts
            .as_array()
            .unwrap()
            .contains(&json!({"id": contact.user_id, "tenant": {"id": "acme-us"}})),
        "{answer:#}"
    );
}

#[tokio::test]
async fn the_router_forwards_each_callers_authorization() {
    if !router_can_run() {
        return;
    }
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let members = app.members_of("acme-us", &organization);
    let outsider = app
        .users_of("acme-us")
        .into_iter()
        .find(|u| !members.contains(&u.user_id))
        .unwrap()
        .user_id;
    let owners = vec![
        (
            "acme-eu".to_owned(),
            app.users_of("acme-eu")[5].user_id.clone(),
        ),
        ("acme-us".to_owned(), members[0].clone()),
        ("acme-us".to_owned(), outsider),
        (
            "globex".to_owned(),
            app.users_of("globex")[5].user_id.clone(),
        ),
    ];
    let crm = crm_data(&app, &owners, "nobody@example.com");
    let router = Router::start(&app, &app.tokens.auditor, &crm).await;
    let query = "{ accounts { owner { id email } } }";
    let emails = |answer: &Value| -> Vec<bool> {
        answer["data"]["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["owner"]["email"].is_string())
            .collect()
    };

    let answer = router.query(Some(&app.tokens.global_admin), query).await;
    assert_eq!(emails(&answer), [true, true, true, true], "{answer:#}");

    // The tenant administrator of acme-eu: the others' tenants are out of reach.
    app.reset_counts();
    let answer = router.query(Some(&app.tokens.tenant_admin), query).await;
    assert_eq!(emails(&answer), [true, false, false, false], "{answer:#}");
    assert!(
        error_codes(&answer).contains(&"BAD_USER_INPUT".to_owned()),
        "{answer:#}"
    );
    assert_eq!(app.tenant_calls("acme-us").values().sum::<u64>(), 0);
    assert_eq!(app.tenant_calls("globex").values().sum::<u64>(), 0);

    // The delegated administrator of an acme-us organization: its member only.
    let answer = router.query(Some(&app.tokens.org_admin), query).await;
    assert_eq!(emails(&answer), [false, true, false, false], "{answer:#}");

    // No token: tenantgraph refuses, the CRM's part still answers.
    let answer = router.query(None, query).await;
    assert_eq!(emails(&answer), [false, false, false, false], "{answer:#}");
    assert!(
        error_codes(&answer).contains(&"UNAUTHENTICATED".to_owned()),
        "{answer:#}"
    );
}
