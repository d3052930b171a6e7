//! The control API over HTTP and in process: stats, users, organizations, extra users, minted
//! tokens and key rotation.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenant_emulator::{ExtraUser, KeyChoice, MintRequest};

use crate::helpers::{assert_error, read, spawn};

#[tokio::test]
async fn stats_count_api_requests_by_route_template_and_reset() {
    let t = spawn(10).await;
    t.handle.control().reset_stats();
    let id = t.user(0).user_id;
    t.profile(&id).await;
    t.profile(&t.user(1).user_id).await;
    t.get_json("/api/v2/users", &[]).await;
    let (_, stats) = read(
        t.http
            .get(t.url("/__emulator/stats"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        stats,
        json!({"total": 3, "routes": {"GET /api/v2/users/{id}": 2, "GET /api/v2/users": 1}})
    );
    let response = t
        .http
        .post(t.url("/__emulator/stats/reset"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(t.handle.control().stats().total, 0);
}

#[tokio::test]
async fn recent_requests_remember_their_request_ids() {
    let t = spawn(10).await;
    t.handle.control().reset_stats();
    let id = t.user(0).user_id;
    for request_id in [Some("req-1"), None] {
        let mut request = t
            .http
            .get(t.url(&format!("/api/v2/users/{}", id.replace('|', "%7C"))))
            .bearer_auth(&t.token);
        if let Some(request_id) = request_id {
            request = request.header("x-request-id", request_id);
        }
        assert_eq!(request.send().await.expect("send").status(), StatusCode::OK);
    }
    let (status, recent) = read(
        t.http
            .get(t.url("/__emulator/requests"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        recent,
        json!([
            {"route": "GET /api/v2/users/{id}", "request_id": "req-1"},
            {"route": "GET /api/v2/users/{id}", "request_id": null},
        ])
    );
}

#[tokio::test]
async fn users_and_organizations_views_are_consistent() {
    let t = spawn(30).await;
    let (status, page) = read(
        t.http
            .get(t.url("/__emulator/users?limit=5&offset=10"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 30);
    let users = page["users"].as_array().expect("users");
    assert_eq!(users.len(), 5);
    for user in users {
        assert!(
            user["user_id"].is_string()
                && user["email_verified"].is_boolean()
                && user["organizations"].is_array()
        );
    }
    let (_, orgs) = read(
        t.http
            .get(t.url("/__emulator/organizations"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let orgs = orgs.as_array().expect("orgs");
    assert_eq!(orgs.len(), 6);
    let org = &orgs[0];
    for member in org["members"].as_array().expect("members") {
        let summary = t
            .handle
            .control()
            .users(100, 0)
            .users
            .into_iter()
            .find(|u| Some(u.user_id.as_str()) == member.as_str())
            .expect("member exists");
        assert!(
            summary
                .organizations
                .contains(&org["id"].as_str().expect("id").to_owned())
        );
    }
}

#[tokio::test]
async fn extra_users_are_added_over_http_and_in_process() {
    let t = spawn(5).await;
    let (status, profile) = read(
        t.http
            .post(t.url("/__emulator/users"))
            .json(&json!({
                "email": "ops@example.com",
                "password": "pw",
                "name": "Ops",
                "permissions": ["read:users"],
            }))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{profile}");
    assert_eq!(profile["name"], "Ops");
    let (status, body) = read(
        t.http
            .post(t.url("/__emulator/users"))
            .json(&json!({"email": "ops@example.com", "password": "pw"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let added = t
        .handle
        .control()
        .add_user(ExtraUser::new("inproc@example.com", "pw"))
        .expect("added");
    assert_eq!(
        t.profile(added["user_id"].as_str().expect("id")).await,
        added
    );
    let (status, body) = read(
        t.http
            .post(t.url("/__emulator/users"))
            .json(&json!({"email": 3}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "invalid_body");
}

async fn call_with(t: &crate::helpers::Tenant, token: &str) -> (StatusCode, Value) {
    read(
        t.http
            .get(t.url("/api/v2/users"))
            .bearer_auth(token)
            .send()
            .await
            .expect("send"),
    )
    .await
}

#[tokio::test]
async fn minted_tokens_cover_expired_future_wrong_audience_and_foreign_keys() {
    let t = spawn(5).await;
    let good = t.mint(t.management_claims("read:users"));
    assert_eq!(call_with(&t, &good).await.0, StatusCode::OK);
    let now = chrono::Utc::now().timestamp();

    let mut expired = t.management_claims("read:users");
    expired["exp"] = json!(now - 60);
    let (status, body) = call_with(&t, &t.mint(expired)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "Expired token received for JSON Web Token validation"
    );

    let mut future = t.management_claims("read:users");
    future["nbf"] = json!(now + 600);
    assert_eq!(
        call_with(&t, &t.mint(future)).await.0,
        StatusCode::UNAUTHORIZED
    );

    let mut audience = t.management_claims("read:users");
    audience["aud"] = json!("https://api.elsewhere");
    let (status, body) = call_with(&t, &t.mint(audience)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("Bad audience")
    );

    let mut no_exp = t.management_claims("read:users");
    no_exp["exp"] = Value::Null;
    assert_eq!(
        call_with(&t, &t.mint(no_exp)).await.0,
        StatusCode::UNAUTHORIZED
    );

    let claims = t
        .management_claims("read:users")
        .as_object()
        .cloned()
        .expect("claims");
    let foreign = t
        .handle
        .control()
        .mint_token(MintRequest {
            claims: claims.clone(),
            key: KeyChoice::Foreign,
            kid: None,
        })
        .expect("mint");
    assert_eq!(call_with(&t, &foreign).await.0, StatusCode::UNAUTHORIZED);
    // Foreign key under the tenant's kid: a bad signature.
    let (_, jwks) = read(
        t.http
            .get(t.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    let kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_owned();
    let forged = t
        .handle
        .control()
        .mint_token(MintRequest {
            claims,
            key: KeyChoice::Foreign,
            kid: Some(kid),
        })
        .expect("mint");
    let (status, body) = call_with(&t, &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "Invalid signature received for JSON Web Token validation"
    );

    // Over HTTP.
    let (status, minted) = read(
        t.http
            .post(t.url("/__emulator/tokens"))
            .json(&json!({"claims": t.management_claims("read:users"), "key": "tenant"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        call_with(&t, minted["token"].as_str().expect("token"))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn key_rotation_keeps_old_keys_published_until_retired() {
    let t = spawn(5).await;
    let before = t.mint(t.management_claims("read:users"));
    let (status, rotated) = read(
        t.http
            .post(t.url("/__emulator/keys/rotate"))
            .json(&json!({}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let new_kid = rotated["kid"].as_str().expect("kid").to_owned();
    let (_, jwks) = read(
        t.http
            .get(t.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    assert_eq!(jwks["keys"][0]["kid"], json!(new_kid));
    let after = t.mint(t.management_claims("read:users"));
    assert_eq!(
        jsonwebtoken::decode_header(&after).expect("header").kid,
        Some(new_kid)
    );
    assert_eq!(call_with(&t, &before).await.0, StatusCode::OK);
    assert_eq!(call_with(&t, &after).await.0, StatusCode::OK);

    t.handle.control().rotate_keys(true).await.expect("rotate");
    let (_, jwks) = read(
        t.http
            .get(t.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 1);
    assert_eq!(call_with(&t, &before).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call_with(&t, &after).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let t = spawn(5).await;
    let base = t.base.clone();
    drop(t);
    let mut refused = false;
    for _ in 0..50 {
        let fresh = crate::helpers::http();
        if fresh
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "still serving after the handle was dropped");
}
