//! Search-index lag: search sees each user as it was before its latest write until the lag has
//! passed; get-by-id and users-by-email are consistent at once.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{config, encode, spawn_with};

const LAG: Duration = Duration::from_millis(300);

#[tokio::test]
async fn created_updated_and_deleted_users_reach_search_after_the_lag() {
    let mut config = config(20);
    config.search_lag = LAG;
    let t = spawn_with(config).await;
    let (status, user) = t
        .send_json(
            Method::POST,
            "/api/v2/users",
            &json!({
                "connection": "Username-Password-Authentication",
                "email": "lag@example.com",
                "password": "Str0ng-Passw0rd",
                "name": "Old Name",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = user["user_id"].as_str().expect("id").to_owned();
    let by_id = format!("user_id:\"{id}\"");

    // Created: found by id and by email at once, not by search.
    assert_eq!(t.profile(&id).await["email"], "lag@example.com");
    let (_, by_email) = t
        .get_json("/api/v2/users-by-email", &[("email", "lag@example.com")])
        .await;
    assert_eq!(by_email.as_array().expect("array").len(), 1);
    assert!(t.search(&by_id, &[]).await.is_empty());
    assert!(t.search("email:\"lag@example.com\"", &[]).await.is_empty());
    let (_, totals) = t
        .get_json(
            "/api/v2/users",
            &[("include_totals", "true"), ("per_page", "1")],
        )
        .await;
    assert_eq!(totals["total"], 20, "counting searches lag too");
    tokio::time::sleep(LAG + Duration::from_millis(50)).await;
    assert_eq!(t.search(&by_id, &[]).await.len(), 1);

    // Updated: search finds the old values until the lag passes.
    let (status, _) = t
        .send_json(
            Method::PATCH,
            &format!("/api/v2/users/{}", encode(&id)),
            &json!({"name": "New Name", "email": "moved@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t.profile(&id).await["name"], "New Name");
    assert_eq!(t.search("name:\"Old Name\"", &[]).await.len(), 1);
    assert_eq!(t.search("email:\"lag@example.com\"", &[]).await.len(), 1);
    assert!(
        t.search("email:\"moved@example.com\"", &[])
            .await
            .is_empty()
    );
    tokio::time::sleep(LAG + Duration::from_millis(50)).await;
    assert!(t.search("name:\"Old Name\"", &[]).await.is_empty());
    assert_eq!(
        t.search("email:\"moved@example.com\"", &[]).await[0]["name"],
        "New Name"
    );

    // Deleted: gone by id at once, still returned by search until the lag passes.
    let response = t
        .api(Method::DELETE, &format!("/api/v2/users/{}", encode(&id)))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get_json(&format!("/api/v2/users/{}", encode(&id)), &[])
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.search(&by_id, &[]).await.len(), 1);
    tokio::time::sleep(LAG + Duration::from_millis(50)).await;
    assert!(t.search(&by_id, &[]).await.is_empty());
}
