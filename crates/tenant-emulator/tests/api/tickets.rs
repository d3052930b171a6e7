//! Tickets and jobs.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, encode, spawn};

#[tokio::test]
async fn password_change_ticket_for_a_database_user() {
    let t = spawn(40).await;
    let page = t.handle.control().users(40, 0);
    let db = page
        .users
        .iter()
        .find(|u| u.user_id.starts_with("auth0|"))
        .expect("database user");
    let (status, body) = t
        .send_json(
            Method::POST,
            "/api/v2/tickets/password-change",
            &json!({"user_id": db.user_id, "ttl_sec": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ticket = body["ticket"].as_str().expect("ticket");
    assert!(
        ticket.starts_with("https://test.auth0.test/lo/reset?ticket="),
        "{ticket}"
    );

    // By email and connection id too; the connection id comes from a log event.
    let (_, logs) = t
        .get_json(&format!("/api/v2/users/{}/logs", encode(&db.user_id)), &[])
        .await;
    if let Some(connection_id) = logs
        .as_array()
        .and_then(|l| l.iter().find_map(|e| e["connection_id"].as_str()))
    {
        let (status, _) = t
            .send_json(
                Method::POST,
                "/api/v2/tickets/password-change",
                &json!({"email": db.email, "connection_id": connection_id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }

    let social = page
        .users
        .iter()
        .find(|u| u.user_id.starts_with("google-oauth2|"))
        .expect("social user");
    let (status, body) = t
        .send_json(
            Method::POST,
            "/api/v2/tickets/password-change",
            &json!({"user_id": social.user_id}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "operation_not_supported");
    let (status, body) = t
        .send_json(
            Method::POST,
            "/api/v2/tickets/password-change",
            &json!({"user_id": "auth0|nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, 404, "inexistent_user");
}

#[tokio::test]
async fn email_verification_ticket_and_verification_job() {
    let t = spawn(10).await;
    let user = t.user(0);
    let (status, body) = t
        .send_json(
            Method::POST,
            "/api/v2/tickets/email-verification",
            &json!({"user_id": user.user_id, "result_url": "https://app.example/done"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        body["ticket"]
            .as_str()
            .expect("ticket")
            .starts_with("https://test.auth0.test/")
    );

    let (status, job) = t
        .send_json(
            Method::POST,
            "/api/v2/jobs/verification-email",
            &json!({"user_id": user.user_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(job["type"], "verification_email");
    assert_eq!(job["status"], "pending");
    let id = job["id"].as_str().expect("id");
    assert!(id.starts_with("job_"));
    assert!(job["created_at"].is_string());
    let (status, later) = t.get_json(&format!("/api/v2/jobs/{id}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(later["status"], "completed");
    assert_eq!(later["id"], job["id"]);
    let (_, logs) = t
        .get_json(
            &format!("/api/v2/users/{}/logs", encode(&user.user_id)),
            &[],
        )
        .await;
    assert!(
        logs.as_array()
            .expect("logs")
            .iter()
            .any(|e| e["type"] == "svr")
    );

    let (status, body) = t.get_json("/api/v2/jobs/job_missing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, 404, "inexistent_job");
    let (status, body) = t
        .send_json(Method::POST, "/api/v2/jobs/verification-email", &json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "invalid_body");
}
