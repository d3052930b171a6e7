//! Data-subject requests: a complete export, and an erasure that survives a failing tenant and
//! completes when run again.

use serde_json::{Value, json};
use tenant_emulator::Faults;

use crate::helpers::{TestApp, data, error_codes, spawn};

const EMAIL: &str = "data.subject@gdpr.example";

async fn person_everywhere(app: &TestApp) -> Vec<(String, String)> {
    let mut accounts = Vec::new();
    for tenant in ["acme-eu", "acme-us", "globex"] {
        let id = app.fixture_user(tenant, EMAIL, None).await;
        accounts.push((tenant.to_owned(), id));
    }
    accounts
}

#[tokio::test]
async fn an_export_holds_every_account_with_everything_about_it() {
    let app = spawn().await;
    let accounts = person_everywhere(&app).await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($e: String!) { exportPerson(email: $e) }",
            json!({"e": EMAIL}),
        )
        .await;
    let export = &data(&answer)["exportPerson"];
    assert_eq!(export["email"], EMAIL);
    assert_eq!(export["complete"], true);
    let exported = export["accounts"].as_array().unwrap();
    let got: Vec<(String, String)> = exported
        .iter()
        .map(|a| {
            (
                a["tenant"].as_str().unwrap().to_owned(),
                a["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, accounts);
    for account in exported {
        let profile = &account["profile"];
        assert_eq!(profile["email"], EMAIL);
        assert!(
            profile.get("user_metadata").is_some() && profile.get("app_metadata").is_some(),
            "{profile}"
        );
        for part in ["organizations", "roles", "logs"] {
            assert!(account[part].is_array(), "{part}: {account}");
        }
    }
    let denied = app
        .query(
            &app.tokens.tenant_admin,
            "mutation($e: String!) { exportPerson(email: $e) }",
            json!({"e": EMAIL}),
        )
        .await;
    assert_eq!(error_codes(&denied), ["FORBIDDEN"]);
}

const ERASE: &str = "mutation($e: String!, $c: String!) { erasePerson(email: $e, confirm: $c) { tenant { id } userId deleted error } }";

#[tokio::test]
async fn erasure_survives_a_failing_tenant_and_completes_when_run_again() {
    let app = spawn().await;
    let accounts = person_everywhere(&app).await;
    let refused = app
        .query(
            &app.tokens.global_admin,
            ERASE,
            json!({"e": EMAIL, "c": "someone.else@gdpr.example"}),
        )
        .await;
    assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"]);

    app.tenant("acme-us")
        .control()
        .set_faults(Faults {
            down: true,
            ..Faults::default()
        })
        .unwrap();
    let first = app
        .query(
            &app.tokens.global_admin,
            ERASE,
            json!({"e": EMAIL, "c": EMAIL}),
        )
        .await;
    let results = first["data"]["erasePerson"].as_array().unwrap();
    let done: Vec<(&str, &str, bool)> = results
        .iter()
        .map(|r| {
            (
                r["tenant"]["id"].as_str().unwrap(),
                r["userId"].as_str().unwrap(),
                r["deleted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        done,
        [
            ("acme-eu", accounts[0].1.as_str(), true),
            ("globex", accounts[2].1.as_str(), true)
        ]
    );
    assert_eq!(error_codes(&first), ["TENANT_UNAVAILABLE"]);
    assert_eq!(first["errors"][0]["extensions"]["tenant"], "acme-us");

    app.tenant("acme-us").control().clear_faults();
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
        json!([{"tenant": {"id": "acme-us"}, "userId": accounts[1].1, "deleted": true, "error": null}])
    );
    let third = app
        .query(
            &app.tokens.global_admin,
            ERASE,
            json!({"e": EMAIL, "c": EMAIL}),
        )
        .await;
    assert_eq!(data(&third)["erasePerson"], json!([]));
    for tenant in ["acme-eu", "acme-us", "globex"] {
        assert!(
            app.users_of(tenant)
                .iter()
                .all(|u| u.email.as_deref() != Some(EMAIL)),
            "{tenant}"
        );
    }
    let person = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { person(email: $e) { email } }",
            json!({"e": EMAIL}),
        )
        .await;
    assert_eq!(data(&person)["person"], Value::Null);
}
