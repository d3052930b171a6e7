//! Each mutation's effect, read back from the emulated tenant, and read-after-write through the
//! gateway (including reads that were cached before the write, and with Auth0's search lag).

use serde_json::{Value, json};
use tenant_emulator::EmulatorConfig;

use test_kit::{Options, TestApp, data, error_codes, spawn, spawn_with};

/// Tenants whose search index lags 30 s behind writes, as Auth0's can: anything the gateway
/// shows right after a write must come from somewhere other than search.
fn lagging(config: &mut EmulatorConfig) {
    config.search_lag = std::time::Duration::from_secs(30);
}

async fn spawn_lagging() -> TestApp {
    spawn_with(Options {
        tune_emulator: lagging,
        ..Options::default()
    })
    .await
}

fn encoded(id: &str) -> String {
    id.replace('|', "%7C")
}

const READ: &str = "query($t: ID!, $id: ID!) { user(tenant: $t, id: $id) {
    id email name nickname blocked emailVerified userMetadata appMetadata bruteForceBlocks { identifier } } }";

async fn read(app: &TestApp, tenant: &str, id: &str) -> Value {
    let answer = app
        .query(
            &app.tokens.global_admin,
            READ,
            json!({"t": tenant, "id": id}),
        )
        .await;
    data(&answer)["user"].clone()
}

async fn by_email(app: &TestApp, email: &str) -> Vec<String> {
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { usersByEmail(email: $e) { id } }",
            json!({"e": email}),
        )
        .await;
    data(&answer)["usersByEmail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn search_names(app: &TestApp, tenant: &str, id: &str) -> Vec<Value> {
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($t: ID!, $q: String) { searchUsers(tenants: [$t], query: $q) { edges { node { id name } } } }",
            json!({"t": tenant, "q": format!("user_id:{}", search_query::quote(id))}),
        )
        .await;
    data(&answer)["searchUsers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].clone())
        .collect()
}

fn seeded_db_user(app: &TestApp, tenant: &str, verified: bool) -> tenant_emulator::UserSummary {
    app.users_of(tenant)
        .into_iter()
        .find(|u| {
            u.user_id.starts_with("auth0|") && u.email_verified == verified && u.email.is_some()
        })
        .unwrap()
}

#[tokio::test]
async fn update_user_merges_metadata_as_auth0_does_and_is_read_back_at_once() {
    let app = spawn_lagging().await;
    let target = seeded_db_user(&app, "acme-eu", true);
    let id = target.user_id.as_str();
    let before = read(&app, "acme-eu", id).await; // cached now
    assert_eq!(
        search_names(&app, "acme-eu", id).await,
        [before["name"].clone()]
    ); // search page cached too
    let metadata_before = before["userMetadata"].as_object().unwrap().clone();
    let first_key = metadata_before.keys().next().unwrap().clone();

    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!, $input: UpdateUserInput!) { updateUser(tenant: \"acme-eu\", id: $id, input: $input) { id name userMetadata appMetadata } }",
            json!({"id": id, "input": {
                "name": "Renamed Person",
                "userMetadata": {first_key.clone(): null, "theme": {"mode": "dark"}},
                "appMetadata": {"plan": "gold"},
            }}),
        )
        .await;
    let updated = &data(&answer)["updateUser"];
    let truth = app
        .management_get("acme-eu", &format!("/api/v2/users/{}", encoded(id)))
        .await;
    assert_eq!(truth["name"], "Renamed Person");
    let mut expected = metadata_before.clone();
    expected.remove(&first_key);
    expected.insert("theme".into(), json!({"mode": "dark"}));
    assert_eq!(
        truth["user_metadata"],
        Value::Object(expected),
        "first-level merge, null deletes"
    );
    assert_eq!(truth["app_metadata"]["plan"], "gold");
    assert_eq!(updated["userMetadata"], truth["user_metadata"]);

    // A nested object is replaced whole, not merged.
    app.query(
        &app.tokens.global_admin,
        "mutation($id: ID!) { updateUser(tenant: \"acme-eu\", id: $id, input: {userMetadata: {theme: {accent: \"red\"}}}) { id } }",
        json!({"id": id}),
    )
    .await;
    let truth = app
        .management_get("acme-eu", &format!("/api/v2/users/{}", encoded(id)))
        .await;
    assert_eq!(truth["user_metadata"]["theme"], json!({"accent": "red"}));

    let after = read(&app, "acme-eu", id).await;
    assert_eq!(
        after["name"], "Renamed Person",
        "the cached profile was replaced"
    );
    assert_eq!(after["userMetadata"], truth["user_metadata"]);
    assert_eq!(
        search_names(&app, "acme-eu", id).await,
        [json!("Renamed Person")],
        "search shows the write despite the index lag"
    );
}

#[tokio::test]
async fn changing_an_email_moves_the_user_in_the_email_index() {
    let app = spawn_lagging().await;
    let target = seeded_db_user(&app, "acme-us", true);
    let old = target.email.clone().unwrap();
    assert!(by_email(&app, &old).await.contains(&target.user_id)); // cached
    let new = "moved.person@example.org";
    assert!(by_email(&app, new).await.is_empty()); // cached absence
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!, $e: String) { updateUser(tenant: \"acme-us\", id: $id, input: {email: $e}) { email } }",
            json!({"id": target.user_id, "e": new}),
        )
        .await;
    assert_eq!(data(&answer)["updateUser"]["email"], new);
    assert!(!by_email(&app, &old).await.contains(&target.user_id));
    assert_eq!(by_email(&app, new).await, vec![target.user_id.clone()]);
    // The new address is not verified yet: it joins no person until it is.
    let person = "query($e: String!) { person(email: $e) { accounts { id emailVerified } } }";
    let answer = app
        .query(&app.tokens.global_admin, person, json!({"e": new}))
        .await;
    assert_eq!(data(&answer)["person"], Value::Null);
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { updateUser(tenant: \"acme-us\", id: $id, input: {emailVerified: true}) { emailVerified } }",
            json!({"id": target.user_id}),
        )
        .await;
    assert_eq!(data(&answer)["updateUser"]["emailVerified"], true);
    let answer = app
        .query(&app.tokens.global_admin, person, json!({"e": new}))
        .await;
    assert_eq!(
        data(&answer)["person"]["accounts"],
        json!([{"id": target.user_id, "emailVerified": true}])
    );
}

#[tokio::test]
async fn a_created_user_is_readable_at_once_even_while_search_lags() {
    let app = spawn_lagging().await;
    let email = "new.hire@acme.example";
    assert!(by_email(&app, email).await.is_empty());
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation { createUser(tenant: \"acme-eu\", input: {connection: \"Username-Password-Authentication\", email: \"new.hire@acme.example\",
               password: \"Correct-Horse-9\", name: \"New Hire\", userMetadata: {language: \"fr\"}, appMetadata: {plan: \"pro\"}}) {
               id email name emailVerified userMetadata appMetadata } }",
            json!({}),
        )
        .await;
    let created = data(&answer)["createUser"].clone();
    let id = created["id"].as_str().unwrap().to_owned();
    let truth = app
        .management_get("acme-eu", &format!("/api/v2/users/{}", encoded(&id)))
        .await;
    assert_eq!(truth["email"], email);
    assert_eq!(truth["user_metadata"], json!({"language": "fr"}));
    assert_eq!(truth["app_metadata"], json!({"plan": "pro"}));

    assert_eq!(read(&app, "acme-eu", &id).await["name"], "New Hire");
    assert_eq!(by_email(&app, email).await, vec![id.clone()]);
    // In a batch with others, the new user is read by id: search does not know it yet.
    let other = &app.users_of("acme-eu")[3];
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [UserRef!]!) { users(refs: $r) { id } }",
            json!({"r": [{"tenant": "acme-eu", "id": id}, {"tenant": "acme-eu", "id": other.user_id}]}),
        )
        .await;
    assert_eq!(
        data(&answer)["users"],
        json!([{"id": id}, {"id": other.user_id}])
    );

    let duplicate = app
        .query(
            &app.tokens.global_admin,
            "mutation { createUser(tenant: \"acme-eu\", input: {connection: \"Username-Password-Authentication\", email: \"new.hire@acme.example\", password: \"Correct-Horse-9\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&duplicate), ["CONFLICT"]);
}

#[tokio::test]
async fn a_deleted_user_disappears_from_every_read_even_while_search_lags() {
    let app = spawn_lagging().await;
    let target = seeded_db_user(&app, "globex", true);
    let email = target.email.clone().unwrap();
    assert!(!read(&app, "globex", &target.user_id).await.is_null());
    assert!(by_email(&app, &email).await.contains(&target.user_id));
    assert_eq!(search_names(&app, "globex", &target.user_id).await.len(), 1);

    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { deleteUser(tenant: \"globex\", id: $id) }",
            json!({"id": target.user_id}),
        )
        .await;
    assert_eq!(data(&answer)["deleteUser"], true);
    let truth = app.tenant("globex").control().users(100_000, 0).users;
    assert!(
        truth.iter().all(|u| u.user_id != target.user_id),
        "deleted in the tenant"
    );
    assert!(read(&app, "globex", &target.user_id).await.is_null());
    assert!(!by_email(&app, &email).await.contains(&target.user_id));
    assert!(
        search_names(&app, "globex", &target.user_id)
            .await
            .is_empty(),
        "the lagging index still has it; the gateway does not show it"
    );

    let again = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { deleteUser(tenant: \"globex\", id: $id) }",
            json!({"id": target.user_id}),
        )
        .await;
    assert_eq!(error_codes(&again), ["NOT_FOUND"]);
}

#[tokio::test]
async fn admin_blocks_and_brute_force_blocks_are_distinct() {
    let app = spawn().await;
    let mut target = None;
    for user in app.users_of("acme-eu") {
        let blocks = app
            .management_get(
                "acme-eu",
                &format!("/api/v2/user-blocks/{}", encoded(&user.user_id)),
            )
            .await;
        if !blocks["blocked_for"].as_array().unwrap().is_empty() {
            target = Some(user.user_id);
            break;
        }
    }
    let id = target.expect("a brute-force-blocked user");
    let before = read(&app, "acme-eu", &id).await;
    assert!(!before["bruteForceBlocks"].as_array().unwrap().is_empty());

    let answer = app
        .query(
            &app.tokens.tenant_admin,
            "mutation($id: ID!) { blockUser(tenant: \"acme-eu\", id: $id) { blocked } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data(&answer)["blockUser"]["blocked"], true);
    let after = read(&app, "acme-eu", &id).await;
    assert_eq!(after["blocked"], true);
    assert_eq!(
        after["bruteForceBlocks"], before["bruteForceBlocks"],
        "blocking leaves brute-force blocks alone"
    );

    let answer = app
        .query(
            &app.tokens.tenant_admin,
            "mutation($id: ID!) { removeBruteForceBlocks(tenant: \"acme-eu\", id: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data(&answer)["removeBruteForceBlocks"], true);
    let after = read(&app, "acme-eu", &id).await;
    assert_eq!(after["bruteForceBlocks"], json!([]));
    assert_eq!(
        after["blocked"], true,
        "lifting brute-force blocks leaves the admin block"
    );

    let answer = app
        .query(
            &app.tokens.tenant_admin,
            "mutation($id: ID!) { unblockUser(tenant: \"acme-eu\", id: $id) { blocked } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data(&answer)["unblockUser"]["blocked"], false);
    let truth = app
        .management_get("acme-eu", &format!("/api/v2/users/{}", encoded(&id)))
        .await;
    assert_ne!(truth["blocked"], true);
    assert_eq!(read(&app, "acme-eu", &id).await["blocked"], false);
}

#[tokio::test]
async fn verification_emails_and_password_tickets_go_through_auth0() {
    let app = spawn().await;
    let unverified = seeded_db_user(&app, "acme-eu", false);
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { sendVerificationEmail(tenant: \"acme-eu\", id: $id) { id type status createdAt } }",
            json!({"id": unverified.user_id}),
        )
        .await;
    let job = &data(&answer)["sendVerificationEmail"];
    assert_eq!(job["type"], "verification_email");
    let truth = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/jobs/{}", job["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(truth["id"], job["id"]);

    let verified = seeded_db_user(&app, "acme-eu", true);
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { sendVerificationEmail(tenant: \"acme-eu\", id: $id) { id } }",
            json!({"id": verified.user_id}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);

    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { createPasswordChangeTicket(tenant: \"acme-eu\", id: $id, resultUrl: \"https://app.example/done\", ttlSeconds: 3600) { url } }",
            json!({"id": verified.user_id}),
        )
        .await;
    let url = data(&answer)["createPasswordChangeTicket"]["url"]
        .as_str()
        .unwrap();
    assert!(
        url.starts_with("https://acme-eu.auth0.test/lo/reset?ticket="),
        "{url}"
    );

    let social = app
        .users_of("acme-eu")
        .into_iter()
        .find(|u| u.user_id.starts_with("google-oauth2|"))
        .unwrap();
    let answer = app
        .query(&app.tokens.global_admin, "mutation($id: ID!) { createPasswordChangeTicket(tenant: \"acme-eu\", id: $id) { url } }", json!({"id": social.user_id}))
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn self_service_changes_only_what_the_user_owns() {
    let app = spawn().await;
    let me = data(
        &app.query(
            &app.tokens.user,
            "{ me { id userMetadata appMetadata } }",
            json!({}),
        )
        .await,
    )["me"]
        .clone();
    let id = me["id"].as_str().unwrap().to_owned();
    let answer = app
        .query(
            &app.tokens.user,
            "mutation { updateMe(input: {nickname: \"camille\", userMetadata: {language: \"de\"}}) { nickname userMetadata appMetadata } }",
            json!({}),
        )
        .await;
    let updated = &data(&answer)["updateMe"];
    assert_eq!(updated["nickname"], "camille");
    assert_eq!(updated["userMetadata"]["language"], "de");
    assert_eq!(updated["appMetadata"], Value::Null);
    let truth = app
        .management_get("acme-eu", &format!("/api/v2/users/{}", encoded(&id)))
        .await;
    assert_eq!(truth["nickname"], "camille");
    assert_eq!(truth["user_metadata"]["language"], "de");
    let after = data(
        &app.query(
            &app.tokens.user,
            "{ me { nickname userMetadata } }",
            json!({}),
        )
        .await,
    )["me"]
        .clone();
    assert_eq!(after["nickname"], "camille");

    // The input type has no email and no appMetadata: GraphQL refuses them before anything runs.
    for input in ["{email: \"x@y.z\"}", "{appMetadata: {plan: \"free\"}}"] {
        let answer = app
            .query(
                &app.tokens.user,
                &format!("mutation {{ updateMe(input: {input}) {{ id }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field"),
            "{answer}"
        );
    }

    app.reset_counts();
    let answer = app
        .query(
            &app.tokens.user,
            "mutation { requestPasswordReset }",
            json!({}),
        )
        .await;
    assert_eq!(data(&answer)["requestPasswordReset"], true);
    assert_eq!(
        app.tenant_calls("acme-eu")
            .get("POST /dbconnections/change_password"),
        Some(&1)
    );

    let answer = app
        .query(
            &app.tokens.user,
            "mutation { resendVerificationEmail { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_codes(&answer),
        ["BAD_USER_INPUT"],
        "the demo user is verified"
    );
}

#[tokio::test]
async fn an_unverified_user_can_ask_for_a_new_verification_email() {
    let app = spawn().await;
    let unverified = seeded_db_user(&app, "acme-eu", false);
    let token = app
        .env
        .sign_in(
            app.tenant("acme-eu"),
            unverified.email.as_deref().unwrap(),
            tenant_emulator::DEFAULT_PASSWORD,
        )
        .await
        .unwrap();
    let answer = app
        .query(
            &token,
            "mutation { resendVerificationEmail { type status } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&answer)["resendVerificationEmail"]["type"],
        "verification_email"
    );
}

#[tokio::test]
async fn a_social_account_cannot_request_a_password_reset() {
    let app = spawn().await;
    let social = app
        .users_of("acme-eu")
        .into_iter()
        .find(|u| u.user_id.starts_with("google-oauth2|"))
        .unwrap();
    // A social user's token, as Auth0 would issue it after a Google sign-in.
    let claims = json!({"iss": app.tenant("acme-eu").issuer(), "sub": social.user_id, "aud": tenantgraph::demo::AUDIENCE});
    let token = app
        .tenant("acme-eu")
        .control()
        .mint_token(tenant_emulator::MintRequest {
            claims: claims.as_object().unwrap().clone(),
            ..Default::default()
        })
        .unwrap();
    let answer = app
        .query(&token, "mutation { requestPasswordReset }", json!({}))
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("google-oauth2"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_organization_admins_new_user_joins_its_organization() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let token = app
        .env
        .operator_token(
            "Org Creator",
            &["read:users", "create:users"],
            json!(["acme-us"]),
            Some(&organization),
        )
        .await
        .unwrap();
    // Cache the organization's members first: the write must refresh them.
    app.query(&token, "{ searchUsers { totalCount } }", json!({}))
        .await;
    let answer = app
        .query(
            &token,
            "mutation { createUser(tenant: \"acme-us\", input: {connection: \"Username-Password-Authentication\", email: \"joiner@acme.example\", password: \"Correct-Horse-9\"}) { id } }",
            json!({}),
        )
        .await;
    let id = data(&answer)["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let members = app
        .tenant("acme-us")
        .control()
        .organizations()
        .into_iter()
        .find(|o| o.id == organization)
        .unwrap()
        .members;
    assert!(members.contains(&id));
    let answer = app
        .query(
            &token,
            "query($id: ID!) { user(tenant: \"acme-us\", id: $id) { id organizations { id } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        data(&answer)["user"]["organizations"],
        json!([{"id": organization}])
    );
}
