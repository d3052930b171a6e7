//! Self-service beyond `updateMe`: the terms of use a user accepts (written by the gateway into
//! app_metadata on the user's behalf, and only that) and the user_metadata keys the operator
//! declared editable.

use serde_json::json;
use tenantgraph::demo::TERMS_VERSION;

use test_kit::{data, error_codes, spawn};

#[tokio::test]
async fn a_user_accepts_the_current_terms_and_the_gateway_writes_only_terms_accepted() {
    let app = spawn().await;
    let me = data(
        &app.query(
            &app.tokens.user,
            "{ me { id termsAccepted appMetadata } }",
            json!({}),
        )
        .await,
    )["me"]
        .clone();
    assert_eq!(me["termsAccepted"], json!(false));
    assert_eq!(
        me["appMetadata"],
        json!(null),
        "the owner never sees app_metadata"
    );
    let id = me["id"].as_str().unwrap().to_owned();
    let before = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/users/{}", id.replace('|', "%7C")),
        )
        .await;

    let stale = app
        .query(
            &app.tokens.user,
            "mutation { acceptTerms(version: \"2001-01\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&stale), ["BAD_USER_INPUT"]);
    assert!(
        stale["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(TERMS_VERSION)
    );

    let accepted = app
        .query(
            &app.tokens.user,
            "mutation($v: String!) { acceptTerms(version: $v) { termsAccepted } }",
            json!({"v": TERMS_VERSION}),
        )
        .await;
    assert_eq!(data(&accepted)["acceptTerms"]["termsAccepted"], json!(true));

    let after = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/users/{}", id.replace('|', "%7C")),
        )
        .await;
    let terms = &after["app_metadata"]["terms_accepted"];
    assert_eq!(terms["version"], json!(TERMS_VERSION));
    assert!(terms["at"].as_str().unwrap().ends_with('Z'), "{terms}");
    let mut rest = after["app_metadata"].as_object().unwrap().clone();
    rest.remove("terms_accepted");
    let unchanged = before["app_metadata"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rest, unchanged, "nothing else of app_metadata changed");

    let read = "query($t: ID!, $id: ID!) { user(tenant: $t, id: $id) { termsAccepted } }";
    let vars = json!({"t": "acme-eu", "id": id});
    let admin = app
        .query(&app.tokens.global_admin, read, vars.clone())
        .await;
    assert_eq!(data(&admin)["user"]["termsAccepted"], json!(true));
    // The auditor reads users but not app_metadata: the table hides it from them.
    let auditor = app.query(&app.tokens.auditor, read, vars).await;
    assert_eq!(data(&auditor)["user"]["termsAccepted"], json!(null));
}

#[tokio::test]
async fn only_end_users_accept_terms_for_themselves() {
    let app = spawn().await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($v: String!) { acceptTerms(version: $v) { id } }",
            json!({"v": TERMS_VERSION}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
}

#[tokio::test]
async fn a_user_may_change_only_the_metadata_keys_declared_editable() {
    let app = spawn().await;
    let refused = app
        .query(
            &app.tokens.user,
            "mutation { updateMe(input: {userMetadata: {plan: \"gold\", language: \"fr\"}}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("plan") && message.contains("language, salutation"),
        "{message}"
    );

    let cleared = app
        .query(
            &app.tokens.user,
            "mutation { updateMe(input: {userMetadata: {}}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&cleared), ["FORBIDDEN"]);

    let allowed = app
        .query(
            &app.tokens.user,
            "mutation { updateMe(input: {userMetadata: {language: \"fr\", salutation: \"Dr\"}}) { userMetadata } }",
            json!({}),
        )
        .await;
    let metadata = &data(&allowed)["updateMe"]["userMetadata"];
    assert_eq!(metadata["language"], json!("fr"));
    assert_eq!(metadata["salutation"], json!("Dr"));
}
