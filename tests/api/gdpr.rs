//! Data-subject requests: a complete export, an erasure that survives a failing tenant and
//! completes when run again; both act on the accounts that verified the email (never on an
//! account merely claiming it), and a delegated operator's organization binds them.

use serde_json::{Value, json};

use test_kit::{TestApp, data, error_codes, spawn};

const EMAIL: &str = "data.subject@gdpr.example";

const EXPORT: &str = "mutation($e: String!) { exportPerson(email: $e) }";
const ERASE: &str = "mutation($e: String!, $c: String!) { erasePerson(email: $e, confirm: $c) { tenant { id } userId deleted error } }";

/// The person's verified accounts in acme-eu and globex, and an account in acme-us that holds
/// the same address without having verified it: someone else's, for all anyone knows.
struct Person {
    verified: Vec<(String, String)>,
    claimant: String,
}

async fn person_everywhere(app: &TestApp) -> Person {
    let mut verified = Vec::new();
    for tenant in ["acme-eu", "globex"] {
        let id = app.verified_fixture_user(tenant, EMAIL, None).await;
        verified.push((tenant.to_owned(), id));
    }
    let claimant = app.fixture_user("acme-us", EMAIL, None).await;
    Person { verified, claimant }
}

fn exported_accounts(export: &Value) -> Vec<(String, String)> {
    export["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["tenant"].as_str().unwrap().to_owned(),
                a["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_export_holds_every_verified_account_with_everything_about_it() {
    let app = spawn().await;
    let person = person_everywhere(&app).await;
    let answer = app
        .query(&app.tokens.global_admin, EXPORT, json!({"e": EMAIL}))
        .await;
    let export = &data(&answer)["exportPerson"];
    assert_eq!(export["email"], EMAIL);
    assert_eq!(export["complete"], true);
    assert_eq!(exported_accounts(export), person.verified);
    assert!(
        !export.to_string().contains(&person.claimant),
        "an account that never verified the address is not the person's"
    );
    for account in export["accounts"].as_array().unwrap() {
        let profile = &account["profile"];
        assert_eq!(profile["email"], EMAIL);
        assert_eq!(profile["email_verified"], true);
        assert!(
            profile.get("user_metadata").is_some() && profile.get("app_metadata").is_some(),
            "{profile}"
        );
        for part in ["organizations", "roles", "logs"] {
            assert!(account[part].is_array(), "{part}: {account}");
        }
    }
    let denied = app
        .query(&app.tokens.tenant_admin, EXPORT, json!({"e": EMAIL}))
        .await;
    assert_eq!(error_codes(&denied), ["FORBIDDEN"]);
}

#[tokio::test]
async fn erasure_survives_a_failing_tenant_and_completes_when_run_again() {
    let app = spawn().await;
    let person = person_everywhere(&app).await;
    let refused = app
        .query(
            &app.tokens.global_admin,
            ERASE,
            json!({"e": EMAIL, "c": "someone.else@gdpr.example"}),
        )
        .await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);

    app.take_down("globex");
    let first = app
        .query(
            &app.tokens.global_admin,
            ERASE,
            json!({"e": EMAIL, "c": EMAIL}),
        )
        .await;
    assert_eq!(
        first["data"]["erasePerson"],
        json!([{"tenant": {"id": "acme-eu"}, "userId": person.verified[0].1, "deleted": true, "error": null}])
    );
    assert_eq!(error_codes(&first), ["TENANT_UNAVAILABLE"]);
    assert_eq!(first["errors"][0]["extensions"]["tenant"], "globex");

    app.tenant("globex").control().clear_faults();
    tokio::time::sleep(std::time::Duration::from_millis(350)).await; // the breaker's cool-down
    let second = app
        .query(
            &app.tokens.global_admin,
            ERASE,
            json!({"e": EMAIL, "c": EMAIL}),
        )
        .await;
    assert_eq!(
        data(&second)["erasePerson"],
        json!([{"tenant": {"id": "globex"}, "userId": person.verified[1].1, "deleted": true, "error": null}])
    );
    let third = app
        .query(
            &app.tokens.global_admin,
            ERASE,
            json!({"e": EMAIL, "c": EMAIL}),
        )
        .await;
    assert_eq!(data(&third)["erasePerson"], json!([]));
    for tenant in ["acme-eu", "globex"] {
        assert!(
            app.users_of(tenant)
                .iter()
                .all(|u| u.email.as_deref() != Some(EMAIL)),
            "{tenant}"
        );
    }
    assert!(
        app.users_of("acme-us")
            .iter()
            .any(|u| u.user_id == person.claimant),
        "the account that never verified the address is still there"
    );
    let found = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { person(email: $e) { email } }",
            json!({"e": EMAIL}),
        )
        .await;
    assert_eq!(data(&found)["person"], Value::Null);
}

#[tokio::test]
async fn a_delegated_operators_organization_binds_its_data_subject_requests() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let member = app
        .verified_fixture_user("acme-us", EMAIL, Some(&organization))
        .await;
    let outsider = app.verified_fixture_user("acme-eu", EMAIL, None).await;
    let delegated = app
        .env
        .operator_token(
            "Delegated Privacy Officer",
            &["manage:gdpr"],
            json!("*"),
            Some(&organization),
        )
        .await
        .unwrap();
    let answer = app.query(&delegated, EXPORT, json!({"e": EMAIL})).await;
    assert_eq!(
        exported_accounts(&data(&answer)["exportPerson"]),
        [("acme-us".to_owned(), member.clone())]
    );
    let answer = app
        .query(&delegated, ERASE, json!({"e": EMAIL, "c": EMAIL}))
        .await;
    assert_eq!(
        data(&answer)["erasePerson"],
        json!([{"tenant": {"id": "acme-us"}, "userId": member, "deleted": true, "error": null}])
    );
    assert!(
        app.users_of("acme-eu")
            .iter()
            .any(|u| u.user_id == outsider),
        "the non-member was neither exported nor erased"
    );
}
