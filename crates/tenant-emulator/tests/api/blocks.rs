//! Brute-force blocks (`/api/v2/user-blocks`) against the admin block (`blocked` on the profile).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, encode, spawn};

#[tokio::test]
async fn user_blocks_are_separate_from_the_admin_block() {
    // 1% of seeded database users carry a brute-force block: 400 users make one all but certain.
    let t = spawn(400).await;
    let page = t.handle.control().users(400, 0);
    let mut blocked = None;
    for user in &page.users {
        let (status, body) = t
            .get_json(
                &format!("/api/v2/user-blocks/{}", encode(&user.user_id)),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        if !body["blocked_for"]
            .as_array()
            .expect("blocked_for")
            .is_empty()
        {
            blocked = Some((user.clone(), body));
            break;
        }
    }
    let (user, body) = blocked.expect("a seeded brute-force block");
    let entry = &body["blocked_for"][0];
    assert_eq!(entry["identifier"], json!(user.email));
    assert_eq!(entry["connection"], "Username-Password-Authentication");
    assert!(entry["ip"].is_string());

    let email = user.email.clone().expect("email");
    let (_, by_identifier) = t
        .get_json("/api/v2/user-blocks", &[("identifier", &email)])
        .await;
    assert_eq!(by_identifier, body);

    // An admin block too; lifting the brute-force block leaves it.
    let path = format!("/api/v2/users/{}", encode(&user.user_id));
    t.send_json(Method::PATCH, &path, &json!({"blocked": true}))
        .await;
    let response = t
        .api(
            Method::DELETE,
            &format!("/api/v2/user-blocks/{}", encode(&user.user_id)),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, after) = t
        .get_json(
            &format!("/api/v2/user-blocks/{}", encode(&user.user_id)),
            &[],
        )
        .await;
    assert_eq!(after, json!({"blocked_for": []}));
    assert_eq!(t.profile(&user.user_id).await["blocked"], true);
}

#[tokio::test]
async fn user_blocks_by_identifier_and_errors() {
    let t = spawn(5).await;
    let response = t
        .api(Method::DELETE, "/api/v2/user-blocks")
        .query(&[("identifier", "nobody@example.com")])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, body) = t.get_json("/api/v2/user-blocks", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "invalid_query_string");
    let (status, body) = t.get_json("/api/v2/user-blocks/auth0%7Cmissing", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, 404, "inexistent_user");
}
