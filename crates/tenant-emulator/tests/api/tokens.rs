//! `/oauth/token` (both grants, JSON and form bodies), the JWKS, and what the tokens carry.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenant_emulator::{DEFAULT_PASSWORD, ExtraUser};

use crate::helpers::{config, decode, http, read, spawn, spawn_with};

#[tokio::test]
async fn client_credentials_json_gives_a_management_token_that_verifies_against_the_jwks() {
    let t = spawn(20).await;
    let (status, answer) = read(
        t.http
            .post(t.url("/oauth/token"))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": "tenantgraph",
                "client_secret": "tenantgraph-secret",
                "audience": "https://test.auth0.test/api/v2/",
            }))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 86400);
    let scope = answer["scope"].as_str().expect("scope");
    assert!(scope.split(' ').any(|s| s == "read:users"), "{scope}");
    let (_, jwks) = read(
        t.http
            .get(t.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    let claims = decode(
        answer["access_token"].as_str().expect("token"),
        &jwks,
        "https://test.auth0.test/api/v2/",
        "https://test.auth0.test/",
    );
    assert_eq!(claims["sub"], "tenantgraph@clients");
    assert_eq!(claims["azp"], "tenantgraph");
    assert_eq!(claims["gty"], "client-credentials");
    assert_eq!(claims["scope"], json!(scope));
    let (iat, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, 86400);
}

#[tokio::test]
async fn client_credentials_form_body_and_basic_auth_work_and_scope_narrows() {
    let t = spawn(5).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "tenantgraph"),
        ("client_secret", "tenantgraph-secret"),
        ("audience", "https://test.auth0.test/api/v2/"),
        ("scope", "read:users read:logs"),
    ];
    let (status, answer) = read(
        t.http
            .post(t.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["scope"], "read:users read:logs");

    let (status, answer) = read(
        t.http
            .post(t.url("/oauth/token"))
            .basic_auth("tenantgraph", Some("tenantgraph-secret"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("audience", "https://test.auth0.test/api/v2/"),
            ])
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn token_endpoint_errors_use_the_authentication_api_shape() {
    let t = spawn(5).await;
    let post = |body: Value| t.http.post(t.url("/oauth/token")).json(&body).send();
    let base = json!({
        "grant_type": "client_credentials",
        "client_id": "tenantgraph",
        "client_secret": "tenantgraph-secret",
        "audience": "https://test.auth0.test/api/v2/",
    });
    let cases = [
        (
            json!({"client_secret": "wrong"}),
            401,
            "access_denied",
            "Unauthorized",
        ),
        (
            json!({"client_id": "nobody"}),
            401,
            "access_denied",
            "Unauthorized",
        ),
        (
            json!({"audience": "https://elsewhere/api/v2/"}),
            403,
            "access_denied",
            "Service not enabled within domain: https://elsewhere/api/v2/",
        ),
        (
            json!({"scope": "read:users fly:planes"}),
            403,
            "access_denied",
            "Client has not been granted scopes: fly:planes",
        ),
        (
            json!({"grant_type": "implicit"}),
            403,
            "unsupported_grant_type",
            "Unsupported grant type: implicit",
        ),
    ];
    for (overrides, status, error, description) in cases {
        let mut body = base.clone();
        for (k, v) in overrides.as_object().expect("object") {
            body[k] = v.clone();
        }
        let (got, answer) = read(post(body).await.expect("send")).await;
        assert_eq!(got.as_u16(), status, "{answer}");
        assert_eq!(
            answer,
            json!({"error": error, "error_description": description})
        );
    }
    let mut no_audience = base.clone();
    no_audience
        .as_object_mut()
        .expect("object")
        .remove("audience");
    let (got, answer) = read(post(no_audience).await.expect("send")).await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    assert_eq!(answer["error"], "access_denied");
}

#[tokio::test]
async fn password_realm_issues_an_end_user_token_with_permissions_org_and_action_claims() {
    let mut config = config(10);
    let mut alice = ExtraUser::new("Alice@Example.com", "correct horse");
    alice.permissions = vec!["read:users".into(), "read:stats".into()];
    alice.org_id = Some("org_custom".into());
    alice
        .claims
        .insert("https://tenantgraph.dev/tenants".into(), json!(["acme-eu"]));
    config.extra_users.push(alice);
    let t = spawn_with(config).await;
    let form = [
        (
            "grant_type",
            "http://auth0.com/oauth/grant-type/password-realm",
        ),
        ("username", "alice@example.com"),
        ("password", "correct horse"),
        ("realm", "Username-Password-Authentication"),
        ("audience", "https://api.tenantgraph.dev"),
        ("scope", "openid profile email"),
        ("client_id", "tenantgraph"),
    ];
    let (status, answer) = read(
        t.http
            .post(t.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, jwks) = read(
        t.http
            .get(t.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    let claims = decode(
        answer["access_token"].as_str().expect("token"),
        &jwks,
        "https://api.tenantgraph.dev",
        "https://test.auth0.test/",
    );
    assert!(claims["sub"].as_str().expect("sub").starts_with("auth0|"));
    assert_eq!(claims["azp"], "tenantgraph");
    assert_eq!(claims["scope"], "openid profile email");
    assert_eq!(claims["permissions"], json!(["read:users", "read:stats"]));
    assert_eq!(claims["org_id"], "org_custom");
    assert_eq!(
        claims["https://tenantgraph.dev/tenants"],
        json!(["acme-eu"])
    );
    assert_eq!(
        claims["aud"],
        json!([
            "https://api.tenantgraph.dev",
            "https://test.auth0.test/userinfo"
        ])
    );
    let id_token = decode(
        answer["id_token"].as_str().expect("id_token"),
        &jwks,
        "tenantgraph",
        "https://test.auth0.test/",
    );
    assert_eq!(id_token["email"], "alice@example.com");

    // The login is recorded: logins_count, last_login and an `s` event.
    let id = claims["sub"].as_str().expect("sub");
    let profile = t.profile(id).await;
    assert_eq!(profile["logins_count"], 1);
    assert!(profile["last_login"].is_string());
    let (_, logs) = t
        .get_json(
            &format!("/api/v2/users/{}/logs", crate::helpers::encode(id)),
            &[],
        )
        .await;
    assert_eq!(logs[0]["type"], "s");
}

#[tokio::test]
async fn password_realm_works_for_seeded_users_with_the_configured_password() {
    let t = spawn(40).await;
    let page = t.handle.control().users(40, 0);
    let user = page
        .users
        .iter()
        .find(|u| u.user_id.starts_with("auth0|"))
        .expect("a database user");
    let profile = t.profile(&user.user_id).await;
    if profile["blocked"] == json!(true) {
        return;
    }
    let form = [
        (
            "grant_type",
            "http://auth0.com/oauth/grant-type/password-realm",
        ),
        ("username", user.email.as_deref().expect("email")),
        ("password", DEFAULT_PASSWORD),
        ("realm", "Username-Password-Authentication"),
        ("client_id", "tenantgraph"),
        ("client_secret", "tenantgraph-secret"),
        ("audience", "https://api.tenantgraph.dev"),
    ];
    let (status, answer) = read(
        t.http
            .post(t.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .expect("send"),
    )
    .await;
    // A seeded brute-force block answers 429 instead; anything else must be a token.
    assert!(
        status == StatusCode::OK || status == StatusCode::TOO_MANY_REQUESTS,
        "{answer}"
    );
}

#[tokio::test]
async fn wrong_password_blocked_user_and_brute_force_answer_as_auth0() {
    let mut config = config(5);
    config
        .extra_users
        .push(ExtraUser::new("bob@example.com", "pw-bob"));
    let t = spawn_with(config).await;
    let login = |password: &'static str| {
        let form = [
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm",
            ),
            ("username", "bob@example.com"),
            ("password", password),
            ("realm", "Username-Password-Authentication"),
            ("client_id", "tenantgraph"),
        ];
        t.http.post(t.url("/oauth/token")).form(&form).send()
    };
    let (status, answer) = read(login("nope").await.expect("send")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer,
        json!({"error": "invalid_grant", "error_description": "Wrong email or password."})
    );

    // Admin block: the right password still gets no token.
    let bob = t.search("email:\"bob@example.com\"", &[]).await;
    let id = bob[0]["user_id"].as_str().expect("id").to_owned();
    let (status, _) = t
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/v2/users/{}", crate::helpers::encode(&id)),
            &json!({"blocked": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = read(login("pw-bob").await.expect("send")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer,
        json!({"error": "unauthorized", "error_description": "user is blocked"})
    );
    t.send_json(
        reqwest::Method::PATCH,
        &format!("/api/v2/users/{}", crate::helpers::encode(&id)),
        &json!({"blocked": false}),
    )
    .await;

    // Ten failures from one IP: a brute-force block, visible in user-blocks, 429 at login.
    for _ in 0..9 {
        login("nope").await.expect("send");
    }
    let (status, answer) = read(login("pw-bob").await.expect("send")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(answer["error"], "too_many_attempts");
    let (_, blocks) = t
        .get_json(
            &format!("/api/v2/user-blocks/{}", crate::helpers::encode(&id)),
            &[],
        )
        .await;
    assert_eq!(blocks["blocked_for"][0]["identifier"], "bob@example.com");
    assert_eq!(blocks["blocked_for"][0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn jwks_has_the_standard_shape() {
    let t = spawn(5).await;
    let (status, jwks) = read(
        t.http
            .get(t.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    for field in ["kty", "kid", "use", "n", "e", "alg"] {
        assert!(keys[0][field].is_string(), "{field} in {jwks}");
    }
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["e"], "AQAB");
}

#[tokio::test]
async fn change_password_answers_the_same_for_known_and_unknown_emails_and_logs_scpr() {
    let mut config = config(5);
    config
        .extra_users
        .push(ExtraUser::new("carol@example.com", "pw"));
    let t = spawn_with(config).await;
    for email in ["carol@example.com", "nobody@example.com"] {
        let response = http()
            .post(t.url("/dbconnections/change_password"))
            .json(&json!({
                "client_id": "tenantgraph",
                "email": email,
                "connection": "Username-Password-Authentication",
            }))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ct")
                .starts_with("text/html")
        );
        assert_eq!(
            response.text().await.expect("text"),
            "We've just sent you an email to reset your password."
        );
    }
    let carol = t.search("email:\"carol@example.com\"", &[]).await;
    let id = carol[0]["user_id"].as_str().expect("id");
    let (_, logs) = t
        .get_json(
            &format!("/api/v2/users/{}/logs", crate::helpers::encode(id)),
            &[],
        )
        .await;
    assert_eq!(logs[0]["type"], "scpr");
}

/// Asks for a password-reset email, returning the status and the body as text.
async fn request_reset(t: &crate::helpers::Tenant, email: &str) -> (StatusCode, String) {
    let response = http()
        .post(t.url("/dbconnections/change_password"))
        .json(&json!({
            "client_id": "tenantgraph",
            "email": email,
            "connection": "Username-Password-Authentication",
        }))
        .send()
        .await
        .expect("send");
    (response.status(), response.text().await.expect("text"))
}

#[tokio::test]
async fn change_password_is_limited_per_email_and_ip_as_auth0_limits_it() {
    // Auth0's figure: a burst of 10 from one IP for one email, then 1 a minute.
    let t = spawn_with(config(5)).await;
    for _ in 0..10 {
        assert_eq!(
            request_reset(&t, "dana@example.com").await.0,
            StatusCode::OK
        );
    }
    let (status, body) = request_reset(&t, "Dana@Example.com").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the email ignores case"
    );
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["error"], "too_many_requests", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    assert_eq!(body.as_object().expect("object").len(), 2, "{body}");
    assert_eq!(
        request_reset(&t, "erin@example.com").await.0,
        StatusCode::OK
    );
    // The Management API's budget is not the same bucket.
    assert_eq!(t.get_json("/api/v2/users", &[]).await.0, StatusCode::OK);

    let mut config = config(5);
    config.change_password_limit = Some(tenant_emulator::RateLimit {
        per_second: 0.001,
        burst: 2,
    });
    let t = spawn_with(config).await;
    for expected in [
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        assert_eq!(request_reset(&t, "dana@example.com").await.0, expected);
    }
    let mut unlimited = crate::helpers::config(5);
    unlimited.change_password_limit = None;
    let t = spawn_with(unlimited).await;
    for _ in 0..12 {
        assert_eq!(
            request_reset(&t, "dana@example.com").await.0,
            StatusCode::OK
        );
    }
}
