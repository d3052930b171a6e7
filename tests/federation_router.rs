//! A real router composing tenantgraph with another subgraph, as Apollo Federation 2 runs it:
//! `tests/federation/router.mjs` (`@apollo/gateway` in Node) composes tenantgraph with a small CRM
//! subgraph, and queries go through it both ways. These tests need `node` and the packages
//! installed by `npm ci --prefix tests/federation`; without them they are counted as ignored,
//! loudly, and under `TENANTGRAPH_CI=1` they fail (`harness = false`: see
//! `test_kit::system_tests`). The subgraph's own side is `tests/api/federation.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use test_kit::{TestApp, data, error_codes, post, spawn};

#[path = "support/federation.rs"]
mod support;

use support::{TENANTS, calls_per_tenant, some_users};

/// The Node side's directory.
fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/federation")
}

/// `tests/federation/router.mjs`: a CRM subgraph and an Apollo router composing it with the
/// gateway, on free loopback ports; stopped when dropped.
struct Router {
    child: Child,
    url: String,
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

pub async fn a_router_joins_tenantgraph_with_another_subgraph_both_ways() {
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

pub async fn the_router_forwards_each_callers_authorization() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let members = app.members_of("acme-us", &organization);
    let outsider = app.first_non_member("acme-us", &members);
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

test_kit::system_tests!(
    needs: [NODE, ROUTER_PACKAGES],
    tests: [
        a_router_joins_tenantgraph_with_another_subgraph_both_ways,
        the_router_forwards_each_callers_authorization,
    ],
);
