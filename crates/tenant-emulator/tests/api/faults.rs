//! Fault injection: each kind, path filters and counts.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tenant_emulator::Faults;

use crate::helpers::{assert_error, encode, read, spawn};

#[tokio::test]
async fn latency_delays_answers() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            latency_ms: 150,
            ..Faults::default()
        })
        .expect("faults");
    let started = Instant::now();
    assert_eq!(
        t.get("/api/v2/users").send().await.expect("send").status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn error_rate_answers_the_chosen_status_in_auth0_shape() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            error_rate: 1.0,
            error_status: Some(503),
            ..Faults::default()
        })
        .expect("faults");
    let (status, body) = t.get_json("/api/v2/users", &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&body, 503, "injected_fault");
    t.handle.control().clear_faults();
    assert_eq!(t.get_json("/api/v2/users", &[]).await.0, StatusCode::OK);
    assert!(
        t.handle
            .control()
            .set_faults(Faults {
                error_rate: 2.0,
                ..Faults::default()
            })
            .is_err()
    );
}

#[tokio::test]
async fn down_drops_connections_without_an_answer() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            down: true,
            ..Faults::default()
        })
        .expect("faults");
    let error = t.get("/api/v2/users").send().await.expect_err("no answer");
    assert!(!error.is_status(), "{error}");
    let error = t
        .http
        .post(t.url("/oauth/token"))
        .json(&json!({}))
        .send()
        .await
        .expect_err("no answer");
    assert!(!error.is_status());
    // The control API stays up.
    let stats = t
        .http
        .get(t.url("/__emulator/stats"))
        .send()
        .await
        .expect("control answers");
    assert_eq!(stats.status(), StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_storm_answers_every_management_call_429() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            rate_limit_storm: true,
            ..Faults::default()
        })
        .expect("faults");
    let response = t.get("/api/v2/users").send().await.expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    let (_, body) = read(response).await;
    assert_error(&body, 429, "too_many_requests");
    // Tokens are still issued.
    let token = t
        .http
        .post(t.url("/oauth/token"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .expect("send");
    assert_ne!(token.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn garbage_body_is_a_200_that_is_not_json() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            garbage_body: true,
            ..Faults::default()
        })
        .expect("faults");
    let response = t.get("/api/v2/users").send().await.expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
}

#[tokio::test]
async fn drop_after_write_applies_the_write_then_drops_the_answer() {
    let t = spawn(5).await;
    let id = t.user(0).user_id;
    let path = format!("/api/v2/users/{}", encode(&id));
    t.handle
        .control()
        .set_faults(Faults {
            drop_after_write: true,
            count: Some(1),
            ..Faults::default()
        })
        .expect("faults");
    // A read before the write does not use up the count.
    assert_eq!(t.get_json(&path, &[]).await.0, StatusCode::OK);
    let error = t
        .api(Method::PATCH, &path)
        .json(&json!({"nickname": "ghost"}))
        .send()
        .await
        .expect_err("dropped");
    assert!(!error.is_status());
    assert_eq!(t.profile(&id).await["nickname"], "ghost");
    assert!(t.handle.control().faults().is_none(), "count used up");
    let (status, _) = t
        .send_json(Method::PATCH, &path, &json!({"nickname": "seen"}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn paths_and_count_limit_which_requests_are_faulted() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            error_rate: 1.0,
            paths: vec!["/api/v2/users-by-email".into()],
            count: Some(2),
            ..Faults::default()
        })
        .expect("faults");
    assert_eq!(t.get_json("/api/v2/users", &[]).await.0, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(
            t.get_json("/api/v2/users-by-email", &[("email", "x@example.com")])
                .await
                .0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(
        t.get_json("/api/v2/users-by-email", &[("email", "x@example.com")])
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn faults_are_set_and_cleared_over_http() {
    let t = spawn(5).await;
    let response = t
        .http
        .put(t.url("/__emulator/faults"))
        .json(&json!({"error_rate": 1, "error_status": 502}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get_json("/api/v2/users", &[]).await.0,
        StatusCode::BAD_GATEWAY
    );
    let response = t
        .http
        .delete(t.url("/__emulator/faults"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(t.get_json("/api/v2/users", &[]).await.0, StatusCode::OK);
    let response = t
        .http
        .put(t.url("/__emulator/faults"))
        .json(&json!({"error_rate": 3}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = t
        .http
        .put(t.url("/__emulator/faults"))
        .json(&json!({"explode": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

fn client_credentials_body(t: &crate::helpers::Tenant) -> serde_json::Value {
    json!({
        "grant_type": "client_credentials",
        "client_id": "tenantgraph",
        "client_secret": "tenantgraph-secret",
        "audience": t.handle.management_audience(),
    })
}

#[tokio::test]
async fn revoked_credentials_refuse_management_calls_and_new_tokens_with_401() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            revoked_credentials: true,
            ..Faults::default()
        })
        .expect("faults");
    let response = t.get("/api/v2/users").send().await.expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers().contains_key("x-ratelimit-remaining"),
        "charged like any 401"
    );
    let (_, body) = read(response).await;
    let message = assert_error(&body, 401, "invalid_token");
    assert_eq!(message, "Invalid token");
    assert_eq!(body["error"], "Unauthorized");
    assert_eq!(body["attributes"]["error"], "Invalid token");

    let response = t
        .http
        .post(t.url("/oauth/token"))
        .json(&client_credentials_body(&t))
        .send()
        .await
        .expect("send");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );

    t.handle.control().clear_faults();
    assert_eq!(t.get_json("/api/v2/users", &[]).await.0, StatusCode::OK);
    let response = t
        .http
        .post(t.url("/oauth/token"))
        .json(&client_credentials_body(&t))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoked_credentials_can_spare_tokens_already_issued() {
    // Auth0 cannot revoke an issued access token: a rotated secret stops new tokens only.
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            revoked_credentials: true,
            paths: vec!["/oauth/token".into()],
            ..Faults::default()
        })
        .expect("faults");
    assert_eq!(t.get_json("/api/v2/users", &[]).await.0, StatusCode::OK);
    let response = t
        .http
        .post(t.url("/oauth/token"))
        .json(&client_credentials_body(&t))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_authentication_api_429_leaves_the_management_api_alone() {
    let t = spawn(5).await;
    t.handle
        .control()
        .set_faults(Faults {
            auth_rate_limit_storm: true,
            ..Faults::default()
        })
        .expect("faults");
    let response = t
        .http
        .post(t.url("/dbconnections/change_password"))
        .json(&json!({
            "client_id": "tenantgraph",
            "email": "someone@example.com",
            "connection": "Username-Password-Authentication",
        }))
        .send()
        .await
        .expect("send");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "too_many_requests", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    assert_eq!(body.as_object().expect("object").len(), 2, "{body}");

    let response = t.get("/api/v2/users").send().await.expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["x-ratelimit-remaining"],
        tenant_emulator::NOMINAL_LIMIT.to_string().as_str()
    );
    let token = t
        .http
        .post(t.url("/oauth/token"))
        .json(&client_credentials_body(&t))
        .send()
        .await
        .expect("send");
    assert_eq!(
        token.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "every Authentication API call"
    );

    // Narrowed to the endpoint, tokens are issued again.
    t.handle
        .control()
        .set_faults(Faults {
            auth_rate_limit_storm: true,
            paths: vec!["/dbconnections/change_password".into()],
            ..Faults::default()
        })
        .expect("faults");
    let token = t
        .http
        .post(t.url("/oauth/token"))
        .json(&client_credentials_body(&t))
        .send()
        .await
        .expect("send");
    assert_eq!(token.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_authentication_api_faults_reach_sign_in_too() {
    use crate::browser::{
        ALICE, ALICE_PASSWORD, Browser, CALLBACK, WEB, WEB_SECRET, exchange, login_config,
    };

    let t = crate::helpers::spawn_with(login_config(5)).await;
    let params = [
        ("response_type", "code"),
        ("client_id", WEB),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
    ];
    let mut browser = Browser::new(&t);
    let code = browser.sign_in(&params, ALICE, ALICE_PASSWORD).await;
    let exchange_body = json!({
        "grant_type": "authorization_code",
        "client_id": WEB,
        "client_secret": WEB_SECRET,
        "code": code,
        "redirect_uri": CALLBACK,
    });

    // A revoked secret cannot exchange a code either.
    t.handle
        .control()
        .set_faults(Faults {
            revoked_credentials: true,
            paths: vec!["/oauth/token".into()],
            ..Faults::default()
        })
        .expect("faults");
    let (status, body) = exchange(&t, exchange_body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );

    // Refused before the code is read, the code is still good once the secret works again.
    t.handle.control().clear_faults();
    let (status, tokens) = exchange(&t, exchange_body).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // An Authentication API storm covers the browser's endpoints and `/userinfo`.
    t.handle
        .control()
        .set_faults(Faults {
            auth_rate_limit_storm: true,
            ..Faults::default()
        })
        .expect("faults");
    let authorize = browser.authorize(&params).await;
    let (status, body) = read(authorize).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "too_many_requests", "{body}");
    let userinfo = t
        .http
        .get(t.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("access_token"))
        .send()
        .await
        .expect("send");
    assert_eq!(userinfo.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(t.get_json("/api/v2/users", &[]).await.0, StatusCode::OK);
}
