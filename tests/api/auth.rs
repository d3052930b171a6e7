//! Bearer tokens: every kind of bad token is UNAUTHENTICATED, key rotation is followed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tenant_emulator::{KeyChoice, MintRequest};
use tenantgraph::auth::Caller;
use tenantgraph::demo::{AUDIENCE, ORGANIZATION_CLAIM, TENANTS_CLAIM};

use test_kit::{TestApp, data, error_codes, spawn};

const QUERY: &str = "{ tenants { id } }";

fn operator_claims(app: &TestApp) -> Map<String, Value> {
    let claims = json!({
        "iss": app.env.operators.issuer(),
        "sub": "auth0|tester",
        "aud": AUDIENCE,
        "permissions": ["read:users"],
        TENANTS_CLAIM: "*",
    });
    claims.as_object().unwrap().clone()
}

fn mint(app: &TestApp, claims: Map<String, Value>, key: KeyChoice, kid: Option<String>) -> String {
    app.env
        .operators
        .control()
        .mint_token(MintRequest { claims, key, kid })
        .unwrap()
}

fn with(app: &TestApp, changes: Value) -> Map<String, Value> {
    let mut claims = operator_claims(app);
    for (k, v) in changes.as_object().unwrap() {
        claims.insert(k.clone(), v.clone());
    }
    claims
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn hs256_with_public_key(app: &TestApp, claims: &Map<String, Value>, kid: &str) -> String {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let jwks: Value = app
        .client
        .get(format!(
            "{}/.well-known/jwks.json",
            app.env.operators.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
    let public = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    )
    .unwrap();
    let pem = public.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(pem.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn every_bad_token_is_unauthenticated() {
    let app = spawn().await;
    let good = mint(&app, operator_claims(&app), KeyChoice::Tenant, None);
    let kid = kid_of(&good);
    let answer = app.query(&good, QUERY, json!({})).await;
    assert_eq!(
        data(&answer)["tenants"].as_array().unwrap().len(),
        3,
        "the control case works"
    );

    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["permissions"] = json!(["read:users", "delete:users", "manage:gdpr"]);
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    let tampered = parts.join(".");
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        good.split('.').nth(1).unwrap()
    );

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-token".into()),
        ("alg none", alg_none),
        ("tampered payload", tampered),
        (
            "foreign key under a known kid",
            mint(
                &app,
                operator_claims(&app),
                KeyChoice::Foreign,
                Some(kid.clone()),
            ),
        ),
        (
            "foreign key, unknown kid",
            mint(&app, operator_claims(&app), KeyChoice::Foreign, None),
        ),
        (
            "expired",
            mint(
                &app,
                with(&app, json!({"exp": now() - 3600, "iat": now() - 7200})),
                KeyChoice::Tenant,
                None,
            ),
        ),
        (
            "not yet valid",
            mint(
                &app,
                with(&app, json!({"nbf": now() + 3600})),
                KeyChoice::Tenant,
                None,
            ),
        ),
        (
            "wrong audience",
            mint(
                &app,
                with(&app, json!({"aud": "https://someone-else.example/"})),
                KeyChoice::Tenant,
                None,
            ),
        ),
        (
            "unknown issuer",
            mint(
                &app,
                with(&app, json!({"iss": "https://evil.example/"})),
                KeyChoice::Tenant,
                None,
            ),
        ),
        (
            "no subject",
            mint(
                &app,
                with(&app, json!({"sub": null})),
                KeyChoice::Tenant,
                None,
            ),
        ),
        (
            "no expiry",
            mint(
                &app,
                with(&app, json!({"exp": null})),
                KeyChoice::Tenant,
                None,
            ),
        ),
        (
            "HS256 signed with the public key",
            hs256_with_public_key(&app, &operator_claims(&app), &kid).await,
        ),
    ];
    for (name, token) in cases {
        let response = app
            .client
            .post(app.url())
            .bearer_auth(&token)
            .json(&json!({"query": QUERY}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{name}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            error_codes(&answer),
            ["UNAUTHENTICATED"],
            "{name}: {answer}"
        );
        assert!(
            answer.get("data").is_none_or(Value::is_null),
            "{name}: no data leaks"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(
            !message.contains("BEGIN") && !message.contains(&kid),
            "{name}: {message}"
        );
    }
}

#[tokio::test]
async fn no_token_is_unauthenticated_per_field() {
    let app = spawn().await;
    let answer = app.query_as(None, "{ tenants { id } }", json!({})).await;
    assert_eq!(error_codes(&answer), ["UNAUTHENTICATED"]);
    let response = app
        .client
        .post(app.url())
        .json(&json!({"query": QUERY}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "no token is answered as a bad one");
    let response = app
        .client
        .post(app.url())
        .header("authorization", "Basic abc")
        .json(&json!({"query": QUERY}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        401,
        "a non-bearer scheme is a bad token, not no token"
    );
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_when_a_token_names_it() {
    let app = spawn().await;
    let before = mint(&app, operator_claims(&app), KeyChoice::Tenant, None);
    assert_eq!(
        app.query(&before, QUERY, json!({})).await["data"]["tenants"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    app.env.operators.control().rotate_keys(true).await.unwrap();
    // The gateway refreshes a key set at most once per `jwks_min_refresh` (1 s here).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let after = mint(&app, operator_claims(&app), KeyChoice::Tenant, None);
    assert_ne!(kid_of(&before), kid_of(&after));
    let answer = app.query(&after, QUERY, json!({})).await;
    assert_eq!(data(&answer)["tenants"].as_array().unwrap().len(), 3);
    // The retired key is gone from the set: its tokens no longer verify.
    let answer = app.query(&before, QUERY, json!({})).await;
    assert_eq!(error_codes(&answer), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn end_user_tokens_reach_only_themselves() {
    let app = spawn().await;
    let answer = app
        .query(&app.tokens.user, "{ tenants { id } }", json!({}))
        .await;
    assert_eq!(data(&answer)["tenants"], json!([{"id": "acme-eu"}]));
    for query in [
        "{ user(tenant: \"acme-eu\", id: \"auth0|x\") { id } }",
        "{ searchUsers { totalCount } }",
        "{ usersByEmail(email: \"a@b.c\") { id } }",
        "{ person(email: \"a@b.c\") { email } }",
        "{ stats { users } }",
    ] {
        let answer = app.query(&app.tokens.user, query, json!({})).await;
        assert_eq!(error_codes(&answer), ["FORBIDDEN"], "{query}");
    }
}

/// The organization a verified operator token delegates to, if any.
async fn organization_of(app: &TestApp, token: &str) -> Option<String> {
    match &*app.gateway.gateway.verifier().verify(token).await.unwrap() {
        Caller::Operator(operator) => operator.organization().map(str::to_owned),
        Caller::EndUser(user) => panic!("an operator token made an end user: {user:?}"),
    }
}

#[tokio::test]
async fn an_organization_sign_in_is_always_delegated_and_the_mapped_organization_wins() {
    let app = spawn().await;
    let customer = app.env.demo_organization().unwrap();
    // Auth0's org_id names the workforce tenant's organization: with no organization claim
    // (the Action missing), the operator is delegated to it, found in no customer tenant.
    let unmapped = mint(
        &app,
        with(&app, json!({"org_id": "org_Wk7PnQ2rT8vX1yZ3"})),
        KeyChoice::Tenant,
        None,
    );
    assert_eq!(
        organization_of(&app, &unmapped).await.as_deref(),
        Some("org_Wk7PnQ2rT8vX1yZ3")
    );
    let answer = app
        .query(
            &unmapped,
            "{ searchUsers(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&answer)["searchUsers"]["totalCount"], 0, "{answer}");

    // The organization claim the Action maps it to wins, with or without org_id.
    for org_id in [json!("org_Wk7PnQ2rT8vX1yZ3"), Value::Null] {
        let mut claims = with(&app, json!({ORGANIZATION_CLAIM: customer}));
        if !org_id.is_null() {
            claims.insert("org_id".into(), org_id);
        }
        let mapped = mint(&app, claims, KeyChoice::Tenant, None);
        assert_eq!(organization_of(&app, &mapped).await, Some(customer.clone()));
    }

    // Neither claim: a tenant-wide operator.
    let staff = mint(&app, operator_claims(&app), KeyChoice::Tenant, None);
    assert_eq!(organization_of(&app, &staff).await, None);
}

#[tokio::test]
async fn a_malformed_organization_is_refused_not_ignored() {
    let app = spawn().await;
    for (claim, value) in [
        (ORGANIZATION_CLAIM, json!(42)),
        (ORGANIZATION_CLAIM, json!("")),
        (ORGANIZATION_CLAIM, json!(["org_a"])),
        ("org_id", json!({"id": "org_a"})),
        ("org_id", json!("")),
    ] {
        let token = mint(
            &app,
            with(&app, json!({ claim: value })),
            KeyChoice::Tenant,
            None,
        );
        let refused = app.gateway.gateway.verifier().verify(&token).await;
        assert_eq!(
            refused.as_ref().map_err(|e| e.0.clone()).err(),
            Some(format!("the token's {claim} claim is malformed")),
            "{claim}: {value}"
        );
        let answer = app.query(&token, QUERY, json!({})).await;
        assert_eq!(
            error_codes(&answer),
            ["UNAUTHENTICATED"],
            "{claim}: {value}"
        );
    }
}

#[tokio::test]
async fn a_remembered_token_is_refused_once_it_expires() {
    // Without leeway, so that expiry is exact.
    let app = test_kit::spawn_with(
        test_kit::Options::default()
            .gateway(|config| config.auth.leeway = std::time::Duration::ZERO),
    )
    .await;
    let token = mint(
        &app,
        with(&app, json!({"exp": now() + 2})),
        KeyChoice::Tenant,
        None,
    );
    for _ in 0..3 {
        let answer = app.query(&token, QUERY, json!({})).await;
        assert_eq!(data(&answer)["tenants"].as_array().unwrap().len(), 3);
    }
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let answer = app.query(&token, QUERY, json!({})).await;
    assert_eq!(error_codes(&answer), ["UNAUTHENTICATED"], "{answer}");
}

#[tokio::test]
async fn remembered_tokens_each_keep_their_own_caller() {
    let app = spawn().await;
    let everywhere = mint(&app, operator_claims(&app), KeyChoice::Tenant, None);
    let one = mint(
        &app,
        with(
            &app,
            json!({"sub": "auth0|other", TENANTS_CLAIM: ["acme-eu"]}),
        ),
        KeyChoice::Tenant,
        None,
    );
    for _ in 0..3 {
        let all = app.query(&everywhere, QUERY, json!({})).await;
        let some = app.query(&one, QUERY, json!({})).await;
        assert_eq!(data(&all)["tenants"].as_array().unwrap().len(), 3);
        assert_eq!(data(&some)["tenants"], json!([{"id": "acme-eu"}]));
    }
}
