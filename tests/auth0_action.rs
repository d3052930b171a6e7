//! The workforce tenant's Action (`examples/auth0-action`): its own tests pass, and the claims it
//! makes for sample sign-ins, in a token of the operator issuer, make exactly the callers they
//! are meant to, so that the Action and the gateway cannot drift apart. Runs `node` and `npm`:
//! without them the tests are counted as ignored, loudly, and under `TENANTGRAPH_CI=1` they fail
//! (`harness = false`: see `test_kit::system_tests`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tenant_emulator::{KeyChoice, MintRequest};
use tenantgraph::auth::{Caller, Permission, TenantScope};
use tenantgraph::demo::AUDIENCE;
use test_kit::{TestApp, data, spawn};

/// The workforce tenant's own organization, which Auth0 puts in `org_id`.
const WORKFORCE_ORGANIZATION: &str = "org_Wk7PnQ2rT8vX1yZ3";

fn action_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/auth0-action")
}

pub async fn the_actions_own_tests_pass() {
    let output = Command::new("npm")
        .arg("test")
        .arg("--prefix")
        .arg(action_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "npm test failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // The runner ran tests, and none failed.
    assert!(stdout.contains("# fail 0"), "{stdout}");
    assert!(!stdout.contains("# pass 0"), "{stdout}");
}

/// The Action run on `event` (through `test/run-action.js`): what it recorded.
fn run_action(event: &Value) -> Value {
    let mut child = Command::new("node")
        .arg(action_dir().join("test/run-action.js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "run-action.js: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A sign-in for tenantgraph's API by a user with `app_metadata`, through `organization` if
/// given, as Auth0 hands it to the Action.
fn sign_in(app_metadata: Value, organization: Option<Value>) -> Value {
    let mut event = json!({
        "secrets": {"TENANTGRAPH_AUDIENCE": AUDIENCE},
        "resource_server": {"identifier": AUDIENCE},
        "client": {"client_id": "portal", "name": "portal", "metadata": {}},
        "user": {"user_id": "auth0|operator", "app_metadata": app_metadata, "user_metadata": {}},
    });
    if let Some(organization) = organization {
        event["organization"] = organization;
    }
    event
}

/// A token of the operator issuer with `claims` (and its `iss`, `aud`).
fn mint(app: &TestApp, claims: &Value) -> String {
    let mut claims = claims.as_object().unwrap().clone();
    claims.insert("iss".into(), json!(app.env.operators.issuer()));
    claims.insert("aud".into(), json!(AUDIENCE));
    app.env
        .operators
        .control()
        .mint_token(MintRequest {
            claims,
            key: KeyChoice::Tenant,
            kid: None,
        })
        .unwrap()
}

/// A token carrying what Auth0 adds itself (`permissions`, and `org_id` for an organization
/// sign-in) and the claims the Action recorded.
fn token_of(app: &TestApp, recorded: &Value, org_id: Option<&str>) -> String {
    let mut claims = json!({"sub": "auth0|operator", "permissions": ["read:users", "read:logs"]});
    if let Some(org_id) = org_id {
        claims["org_id"] = json!(org_id);
    }
    for (name, value) in recorded["accessToken"].as_object().unwrap() {
        claims[name] = value.clone();
    }
    mint(app, &claims)
}

/// The caller the gateway's verifier makes of `token`.
async fn caller_of(app: &TestApp, token: &str) -> Caller {
    let caller = app.gateway.gateway.verifier().verify(token).await.unwrap();
    (*caller).clone()
}

fn operator(caller: &Caller) -> &tenantgraph::auth::Operator {
    match caller {
        Caller::Operator(operator) => operator,
        Caller::EndUser(_) => panic!("an operator token made an end user: {caller:?}"),
    }
}

pub async fn the_claims_the_action_makes_are_read_as_the_callers_they_are_meant_to_be() {
    let app = spawn().await;
    // The gateway's own defaults, not only the demo's: a renamed default is a drift too.
    let defaults = tenantgraph::Config::from_toml(
        "[auth]\naudience = \"a\"\n[[tenants]]\nid = \"t\"\nname = \"t\"\ndomain = \"t.auth0.com\"\nclient_id = \"c\"\n",
        |_| Some("s".into()),
    )
    .unwrap()
    .auth;

    // Staff: the tenants of their app_metadata, tenant-wide within them.
    let staff = tokio::task::spawn_blocking(|| {
        run_action(&sign_in(json!({"tenantgraph_tenants": ["acme-eu"]}), None))
    })
    .await
    .unwrap();
    assert_eq!(staff["denied"], Value::Null, "{staff}");
    assert_eq!(
        staff["accessToken"],
        json!({ &defaults.tenants_claim: ["acme-eu"] })
    );
    let caller = caller_of(&app, &token_of(&app, &staff, None)).await;
    let staff_operator = operator(&caller);
    assert_eq!(
        staff_operator.tenants(),
        &TenantScope::Only(["acme-eu".to_owned()].into())
    );
    assert_eq!(staff_operator.organization(), None);
    assert!(staff_operator.has(Permission::ReadLogs));

    // Everyone's tenants.
    let global = tokio::task::spawn_blocking(|| {
        run_action(&sign_in(json!({"tenantgraph_tenants": "*"}), None))
    })
    .await
    .unwrap();
    let caller = caller_of(&app, &token_of(&app, &global, None)).await;
    assert_eq!(operator(&caller).tenants(), &TenantScope::All);

    // A customer's administrator, through the workforce organization mapped to a customer
    // organization of acme-us: reaches that organization's members there and no one else.
    let customer = app.env.demo_organization().unwrap();
    let organization = json!({
        "id": WORKFORCE_ORGANIZATION,
        "name": "customer",
        "metadata": {"tenantgraph_tenant": "acme-us", "tenantgraph_organization": customer},
    });
    let admin = tokio::task::spawn_blocking(move || {
        run_action(&sign_in(
            json!({"tenantgraph_tenants": "*"}),
            Some(organization),
        ))
    })
    .await
    .unwrap();
    assert_eq!(admin["denied"], Value::Null, "{admin}");
    assert_eq!(
        admin["accessToken"],
        json!({ &defaults.tenants_claim: ["acme-us"], &defaults.organization_claim: customer })
    );
    let token = token_of(&app, &admin, Some(WORKFORCE_ORGANIZATION));
    let caller = caller_of(&app, &token).await;
    let delegated = operator(&caller);
    assert_eq!(
        delegated.tenants(),
        &TenantScope::Only(["acme-us".to_owned()].into())
    );
    assert_eq!(delegated.organization(), Some(customer.as_str()));

    // And through the whole gateway, with the same claims in a signed token.
    let members = app
        .tenant("acme-us")
        .control()
        .organizations()
        .into_iter()
        .find(|o| o.id == customer)
        .unwrap()
        .members;
    let answer = app
        .query(
            &token,
            "{ tenants { id } searchUsers(first: 100) { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&answer)["tenants"], json!([{"id": "acme-us"}]));
    let found: Vec<String> = data(&answer)["searchUsers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!found.is_empty(), "{answer}");
    assert!(
        found.iter().all(|id| members.contains(id)),
        "only the organization's members: {found:?}"
    );
    assert_eq!(
        data(&answer)["searchUsers"]["totalCount"],
        json!(members.len()),
        "{answer}"
    );
}

test_kit::system_tests!(
    needs: [NODE, NPM],
    tests: [
        the_actions_own_tests_pass,
        the_claims_the_action_makes_are_read_as_the_callers_they_are_meant_to_be,
    ],
);
