//! The authorization code grant: the whole flow with PKCE, what the tokens carry, single use,
//! client authentication, and each refusal in Auth0's words.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{
    ALICE, ALICE_PASSWORD, Browser, CALLBACK, SPA, TENANTS_CLAIM, WEB, WEB_SECRET, client,
    exchange, login_config, pkce, verified,
};
use crate::helpers::{Tenant, encode, read, spawn_with};

const API: &str = "https://api.tenantgraph.dev";

fn params<'a>(client_id: &'a str, challenge: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile email"),
        ("audience", API),
        ("state", "st4te"),
        ("nonce", "n0nce-123"),
    ];
    if let Some(challenge) = challenge {
        params.push(("code_challenge", challenge));
        params.push(("code_challenge_method", "S256"));
    }
    params
}

fn spa_exchange(code: &str, verifier: &str) -> Value {
    json!({
        "grant_type": "authorization_code",
        "client_id": SPA,
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    })
}

async fn alice_id(t: &Tenant) -> String {
    let alice = t.search(&format!("email:\"{ALICE}\""), &[]).await;
    alice[0]["user_id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn the_whole_flow_with_pkce_gives_tokens_that_verify_against_the_jwks() {
    let t = spawn_with(login_config(5)).await;
    let (verifier, challenge) = pkce("whole");
    let mut browser = Browser::new(&t);
    let code = browser
        .sign_in(&params(SPA, Some(&challenge)), ALICE, ALICE_PASSWORD)
        .await;
    let (status, answer) = exchange(&t, spa_exchange(&code, &verifier)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 86400);
    assert_eq!(answer["scope"], "openid profile email");

    let access = verified(&t, answer["access_token"].as_str().expect("at"), API).await;
    let id = alice_id(&t).await;
    assert_eq!(access["sub"], json!(id));
    assert_eq!(
        access["aud"],
        json!([API, "https://test.auth0.test/userinfo"])
    );
    assert_eq!(access["azp"], SPA);
    assert_eq!(access["scope"], "openid profile email");
    assert_eq!(access["permissions"], json!(["read:users"]));
    assert_eq!(access["org_id"], "org_wonderland");
    assert_eq!(access[TENANTS_CLAIM], json!(["acme-eu"]));
    assert!(access.get("gty").is_none(), "no gty in the code flow");

    let id_token = verified(&t, answer["id_token"].as_str().expect("id_token"), SPA).await;
    assert_eq!(id_token["iss"], "https://test.auth0.test/");
    assert_eq!(id_token["sub"], json!(id));
    assert_eq!(id_token["aud"], SPA);
    assert_eq!(id_token["nonce"], "n0nce-123");
    assert_eq!(id_token["email"], ALICE);
    assert_eq!(id_token["email_verified"], true);
    assert_eq!(id_token["name"], "Alice Liddell");
    assert!(id_token["sid"].is_string());

    let profile = t.profile(&id).await;
    assert_eq!(profile["logins_count"], 1);
    assert!(profile["last_login"].is_string());
    let (_, logs) = t
        .get_json(
            &format!("/api/v2/users/{}/logs", encode(&id)),
            &[("sort", "date:1")],
        )
        .await;
    let types: Vec<&str> = logs
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(|l| l["type"].as_str())
        .collect();
    assert_eq!(types, ["s", "seacft"]);
    assert_eq!(logs[1]["client_id"], SPA);
}

#[tokio::test]
async fn a_code_is_single_use() {
    let t = spawn_with(login_config(5)).await;
    let (verifier, challenge) = pkce("once");
    let mut browser = Browser::new(&t);
    let code = browser
        .sign_in(&params(SPA, Some(&challenge)), ALICE, ALICE_PASSWORD)
        .await;
    let (status, _) = exchange(&t, spa_exchange(&code, &verifier)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = exchange(&t, spa_exchange(&code, &verifier)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        again,
        json!({"error": "invalid_grant", "error_description": "Invalid authorization code"})
    );
}

#[tokio::test]
async fn exchange_errors_answer_as_auth0_and_spend_the_code() {
    let t = spawn_with(login_config(5)).await;
    let (verifier, challenge) = pkce("errors");
    let cases: [(&str, Value, u16, &str, &str); 5] = [
        (
            "wrong verifier",
            json!({"code_verifier": "not-the-verifier-0123456789-0123456789-0123456789"}),
            403,
            "invalid_grant",
            "Failed to verify code verifier",
        ),
        (
            "no verifier",
            json!({"code_verifier": null}),
            403,
            "invalid_grant",
            "Failed to verify code verifier",
        ),
        (
            "other redirect_uri",
            json!({"redirect_uri": "http://localhost:3000/other"}),
            403,
            "invalid_grant",
            "Invalid authorization code",
        ),
        (
            "other client",
            json!({"client_id": WEB, "client_secret": WEB_SECRET}),
            403,
            "invalid_grant",
            "Invalid authorization code",
        ),
        (
            "unknown client",
            json!({"client_id": "nobody"}),
            401,
            "access_denied",
            "Unauthorized",
        ),
    ];
    for (name, overrides, status, error, description) in cases {
        // A new browser each time: a signed-in one would skip the form.
        let code = Browser::new(&t)
            .sign_in(&params(SPA, Some(&challenge)), ALICE, ALICE_PASSWORD)
            .await;
        let mut body = spa_exchange(&code, &verifier);
        for (key, value) in overrides.as_object().expect("object") {
            if value.is_null() {
                body.as_object_mut().expect("body").remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        let (got, answer) = exchange(&t, body).await;
        assert_eq!(got.as_u16(), status, "{name}: {answer}");
        assert_eq!(
            answer,
            json!({"error": error, "error_description": description}),
            "{name}"
        );
        if status == 403 {
            // A refused exchange spends the code: the right request fails too.
            let (got, _) = exchange(&t, spa_exchange(&code, &verifier)).await;
            assert_eq!(got, StatusCode::FORBIDDEN, "{name}: spent");
        }
    }
    let (status, answer) = exchange(&t, spa_exchange("made-up", &verifier)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["error_description"], "Invalid authorization code");

    let id = alice_id(&t).await;
    let (_, logs) = t
        .get_json(&format!("/api/v2/users/{}/logs", encode(&id)), &[])
        .await;
    let failed = logs
        .as_array()
        .expect("logs")
        .iter()
        .filter(|l| l["type"] == "feacft")
        .count();
    // Four refusals named a code of Alice's; the retries and the made-up code named nobody's.
    assert_eq!(failed, 4);
}

#[tokio::test]
async fn a_confidential_client_authenticates_with_its_secret_in_the_body_or_by_basic() {
    let t = spawn_with(login_config(5)).await;
    let body = |code: &str, secret: Option<&str>| {
        let mut body = json!({
            "grant_type": "authorization_code",
            "client_id": WEB,
            "code": code,
            "redirect_uri": CALLBACK,
        });
        if let Some(secret) = secret {
            body["client_secret"] = json!(secret);
        }
        body
    };
    let code = Browser::new(&t)
        .sign_in(&params(WEB, None), ALICE, ALICE_PASSWORD)
        .await;
    let (status, answer) = exchange(&t, body(&code, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );
    let (status, _) = exchange(&t, body(&code, Some("wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Client authentication failed before the code was looked at: it is still good.
    let (status, answer) = exchange(&t, body(&code, Some(WEB_SECRET))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["id_token"].is_string());

    let code = Browser::new(&t)
        .sign_in(&params(WEB, None), ALICE, ALICE_PASSWORD)
        .await;
    let (status, answer) = read(
        client()
            .post(t.url("/oauth/token"))
            .basic_auth(WEB, Some(WEB_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CALLBACK),
            ])
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn a_public_client_without_pkce_gets_no_tokens() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let code = browser
        .sign_in(&params(SPA, None), ALICE, ALICE_PASSWORD)
        .await;
    let (status, answer) = exchange(
        &t,
        json!({
            "grant_type": "authorization_code",
            "client_id": SPA,
            "code": code,
            "redirect_uri": CALLBACK,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"], "access_denied");
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let t = spawn_with(login_config(5)).await;
    let (status, answer) = read(
        client()
            .post(t.url("/oauth/token"))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": SPA,
                "client_secret": "",
                "audience": t.handle.management_audience(),
            }))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer,
        json!({
            "error": "unauthorized_client",
            "error_description": "Grant type 'client_credentials' not allowed for the client."
        })
    );
}
