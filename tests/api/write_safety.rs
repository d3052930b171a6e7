//! Writes are checked before any upstream call, never retried blindly, honest about unknown
//! outcomes, and audited without secrets.

use serde_json::{Value, json};
use tenant_emulator::Faults;

use test_kit::{Options, TestApp, data, error_codes, spawn, spawn_with};

fn user(app: &TestApp) -> String {
    app.users_of("acme-eu")
        .into_iter()
        .find(|u| u.user_id.starts_with("auth0|"))
        .unwrap()
        .user_id
}

const UPDATE: &str = "mutation($id: ID!, $input: UpdateUserInput!) { updateUser(tenant: \"acme-eu\", id: $id, input: $input) { id } }";
const CREATE: &str =
    "mutation($input: CreateUserInput!) { createUser(tenant: \"acme-eu\", input: $input) { id } }";

#[tokio::test]
async fn every_validation_rule_refuses_before_any_upstream_call() {
    let app = spawn().await;
    let id = user(&app);
    let big = "x".repeat(17 * 1024);
    let long_name = "n".repeat(301);
    let updates = [
        (json!({"email": "not-an-email"}), "input.email"),
        (json!({"email": null}), "input.email"),
        (json!({"userMetadata": {"a.b": 1}}), "input.userMetadata"),
        (
            json!({"userMetadata": {"nested": {"$set": 1}}}),
            "input.userMetadata",
        ),
        (json!({"userMetadata": {"blob": big}}), "input.userMetadata"),
        (json!({"userMetadata": [1, 2]}), "input.userMetadata"),
        (json!({"userMetadata": null}), "input.userMetadata"),
        (
            json!({"appMetadata": {"user_id": "x"}}),
            "input.appMetadata",
        ),
        (
            json!({"appMetadata": {"loginsCount": 1}}),
            "input.appMetadata",
        ),
        (json!({"name": long_name}), "input.name"),
        (json!({"givenName": "g".repeat(151)}), "input.givenName"),
        (json!({"phoneNumber": "555-1234"}), "input.phoneNumber"),
        (json!({"picture": "javascript:alert(1)"}), "input.picture"),
        (json!({"username": "has space"}), "input.username"),
        (json!({}), "nothing to change"),
    ];
    for (input, field) in updates {
        app.reset_counts();
        let answer = app
            .query(
                &app.tokens.global_admin,
                UPDATE,
                json!({"id": id, "input": input}),
            )
            .await;
        assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{input}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(field),
            "{input}: {answer}"
        );
        assert_eq!(app.total_calls(), 0, "{input}: {:?}", app.upstream_calls());
    }
    let creates = [
        (
            json!({"connection": "Username-Password-Authentication", "email": "a@b.example"}),
            "input.password",
        ),
        (
            json!({"connection": "Username-Password-Authentication", "email": "nope", "password": "Pw-123456"}),
            "input.email",
        ),
        (
            json!({"connection": "", "email": "a@b.example", "password": "Pw-123456"}),
            "input.connection",
        ),
        (
            json!({"connection": "Username-Password-Authentication", "email": "a@b.example", "password": ""}),
            "input.password",
        ),
        (
            json!({"connection": "Username-Password-Authentication", "email": "a@b.example", "password": "Pw-123456", "appMetadata": {"email": "x"}}),
            "input.appMetadata",
        ),
    ];
    for (input, field) in creates {
        app.reset_counts();
        let answer = app
            .query(&app.tokens.global_admin, CREATE, json!({"input": input}))
            .await;
        assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{input}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(field),
            "{input}: {answer}"
        );
        assert_eq!(app.total_calls(), 0, "{input}");
    }
    app.reset_counts();
    let answer = app
        .query(&app.tokens.global_admin, "mutation($id: ID!) { createPasswordChangeTicket(tenant: \"acme-eu\", id: $id, ttlSeconds: -5) { url } }", json!({"id": id}))
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
    assert_eq!(app.total_calls(), 0);
}

#[tokio::test]
async fn app_metadata_writes_need_their_own_permission() {
    let app = spawn().await;
    let id = user(&app);
    let token = app
        .env
        .operator_token(
            "Editor",
            &["read:users", "update:users", "create:users"],
            json!("*"),
            None,
        )
        .await
        .unwrap();
    app.reset_counts();
    let answer = app
        .query(
            &token,
            UPDATE,
            json!({"id": id, "input": {"appMetadata": {"plan": "gold"}}}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
    let answer = app
        .query(&token, CREATE, json!({"input": {"connection": "Username-Password-Authentication", "email": "a@b.example", "password": "Pw-123456", "appMetadata": {}}}))
        .await;
    assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
    assert_eq!(app.total_calls(), 0);
    let answer = app
        .query(
            &token,
            UPDATE,
            json!({"id": id, "input": {"userMetadata": {"ok": true}}}),
        )
        .await;
    assert_eq!(data(&answer)["updateUser"]["id"], id.as_str());
}

#[tokio::test]
async fn an_update_whose_answer_is_lost_is_reported_as_unknown_and_not_retried() {
    let app = spawn().await;
    let id = user(&app);
    let before = app
        .query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { nickname } }",
            json!({"id": id}),
        )
        .await;
    assert_ne!(data(&before)["user"]["nickname"], "lost-answer");
    app.tenant("acme-eu")
        .control()
        .set_faults(Faults {
            drop_after_write: true,
            paths: vec!["/api/v2/users".into()],
            count: Some(1),
            ..Faults::default()
        })
        .unwrap();
    app.reset_counts();
    let answer = app
        .query(
            &app.tokens.global_admin,
            UPDATE,
            json!({"id": id, "input": {"nickname": "lost-answer"}}),
        )
        .await;
    assert_eq!(
        error_codes(&answer),
        ["UPSTREAM_OUTCOME_UNKNOWN"],
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["extensions"]["tenant"], "acme-eu");
    assert_eq!(
        app.tenant_calls("acme-eu").get("PATCH /api/v2/users/{id}"),
        Some(&1),
        "never retried"
    );
    // The write did land; the gateway forgot its cached copy, so the next read shows the truth.
    let after = app
        .query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { nickname } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data(&after)["user"]["nickname"], "lost-answer");
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_sent_once_and_reported_as_unknown() {
    let app = spawn().await;
    app.tenant("acme-eu")
        .control()
        .set_faults(Faults {
            drop_after_write: true,
            paths: vec!["/api/v2/users".into()],
            count: Some(1),
            ..Faults::default()
        })
        .unwrap();
    app.reset_counts();
    let input = json!({"connection": "Username-Password-Authentication", "email": "maybe@acme.example", "password": "Pw-123456"});
    let answer = app
        .query(&app.tokens.global_admin, CREATE, json!({"input": input}))
        .await;
    assert_eq!(error_codes(&answer), ["UPSTREAM_OUTCOME_UNKNOWN"]);
    assert_eq!(
        app.tenant_calls("acme-eu").get("POST /api/v2/users"),
        Some(&1),
        "a create is never retried blindly"
    );
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ usersByEmail(email: \"maybe@acme.example\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&answer)["usersByEmail"].as_array().unwrap().len(),
        1,
        "it was in fact created"
    );
}

#[tokio::test]
async fn a_hung_tenant_makes_a_write_unknown_not_failed() {
    let app = spawn().await;
    let id = user(&app);
    app.tenant("acme-eu")
        .control()
        .set_faults(Faults {
            latency_ms: 10_000,
            paths: vec!["/api/v2/users/".into()],
            ..Faults::default()
        })
        .unwrap();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { blockUser(tenant: \"acme-eu\", id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        error_codes(&answer),
        ["UPSTREAM_OUTCOME_UNKNOWN"],
        "{answer}"
    );
}

#[tokio::test]
async fn every_write_is_audited_without_secrets() {
    let dir = std::env::temp_dir().join(format!("tenantgraph-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("audit-{}.jsonl", rand_suffix()));
    let file = path.clone();
    let app =
        spawn_with(Options::default().gateway(move |config| config.audit.path = Some(file))).await;
    let id = user(&app);
    let secret_password = "Sup3r-Secret-Passw0rd";
    let secret_value = "metadata-value-never-logged";
    app.query(
        &app.tokens.global_admin,
        UPDATE,
        json!({"id": id, "input": {"userMetadata": {"note": secret_value}, "name": "Audited"}}),
    )
    .await;
    app.query(
        &app.tokens.global_admin,
        CREATE,
        json!({"input": {"connection": "Username-Password-Authentication", "email": "audited@acme.example", "password": secret_password}}),
    )
    .await;
    app.query(
        &app.tokens.auditor,
        UPDATE,
        json!({"id": id, "input": {"name": "Refused"}}),
    )
    .await;
    app.query(
        &app.tokens.global_admin,
        UPDATE,
        json!({"id": id, "input": {"email": "bad"}}),
    )
    .await;

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(secret_password) && !text.contains(secret_value),
        "{text}"
    );
    assert!(!text.contains(&app.tokens.global_admin));
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 4, "{text}");
    assert_eq!(events[0]["action"], "updateUser");
    assert_eq!(events[0]["tenant"], "acme-eu");
    assert_eq!(events[0]["target_user"], id.as_str());
    assert_eq!(events[0]["fields"], json!(["name", "userMetadata"]));
    assert_eq!(events[0]["outcome"], "succeeded");
    assert_eq!(events[0]["actor_issuer"], app.env.operators.issuer());
    assert!(
        events[0]["actor_subject"]
            .as_str()
            .unwrap()
            .starts_with("auth0|")
    );
    assert_eq!(events[1]["action"], "createUser");
    assert!(
        events[1]["target_user"]
            .as_str()
            .unwrap()
            .starts_with("auth0|"),
        "the new user's id"
    );
    assert!(
        events[1]["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("password")),
        "the field is named, not its value"
    );
    assert_eq!(
        events[2]["outcome"],
        json!({"refused": {"code": "FORBIDDEN"}})
    );
    assert_eq!(
        events[3]["outcome"],
        json!({"refused": {"code": "BAD_USER_INPUT"}})
    );
    let _ = std::fs::remove_file(&path);
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

#[tokio::test]
async fn mutations_outside_reach_are_not_found_and_missing_permissions_forbidden() {
    let app = spawn().await;
    let outsider = app.users_of("acme-us")[0].user_id.clone();
    // A tenant out of reach is refused like one that does not exist.
    let answer = app
        .query(
            &app.tokens.tenant_admin,
            "mutation($id: ID!) { blockUser(tenant: \"acme-us\", id: $id) { id } }",
            json!({"id": outsider}),
        )
        .await;
    let unknown = app
        .query(
            &app.tokens.tenant_admin,
            "mutation($id: ID!) { blockUser(tenant: \"acme-zz\", id: $id) { id } }",
            json!({"id": outsider}),
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
    // A user out of reach is refused like one that does not exist.
    let organization = app.env.demo_organization().unwrap();
    let members = app
        .env
        .tenant("acme-us")
        .unwrap()
        .control()
        .organizations()
        .into_iter()
        .find(|o| o.id == organization)
        .unwrap()
        .members;
    let non_member = app.first_non_member("acme-us", &members);
    let answer = app
        .query(
            &app.tokens.org_admin,
            "mutation($id: ID!) { blockUser(tenant: \"acme-us\", id: $id) { id } }",
            json!({"id": non_member}),
        )
        .await;
    let missing = app
        .query(
            &app.tokens.org_admin,
            "mutation { blockUser(tenant: \"acme-us\", id: \"auth0|nobody\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["NOT_FOUND"]);
    assert_eq!(
        answer["errors"][0]["message"], missing["errors"][0]["message"],
        "out of reach looks like missing"
    );
    let answer = app
        .query(
            &app.tokens.auditor,
            "mutation($id: ID!) { blockUser(tenant: \"acme-us\", id: $id) { id } }",
            json!({"id": outsider}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
    let answer = app
        .query_as(None, "mutation { requestPasswordReset }", json!({}))
        .await;
    assert_eq!(error_codes(&answer), ["UNAUTHENTICATED"]);
}
