//! `GET /api/v2/users/{id}`, `GET /api/v2/users-by-email` and listing without `q`.

use reqwest::StatusCode;
use serde_json::json;
use tenant_emulator::ExtraUser;

use crate::helpers::{assert_error, config, encode, spawn, spawn_with};

#[tokio::test]
async fn get_user_by_percent_encoded_id_returns_the_normalized_profile() {
    let t = spawn(30).await;
    let user = t.user(3);
    let profile = t.profile(&user.user_id).await;
    assert_eq!(profile["user_id"], json!(user.user_id));
    for field in [
        "email",
        "email_verified",
        "name",
        "nickname",
        "picture",
        "identities",
        "created_at",
        "updated_at",
    ] {
        assert!(!profile[field].is_null(), "{field} missing in {profile}");
    }
    let identity = &profile["identities"][0];
    for field in ["connection", "user_id", "provider", "isSocial"] {
        assert!(!identity[field].is_null(), "{field} missing in {identity}");
    }
    assert_eq!(
        format!(
            "{}|{}",
            identity["provider"].as_str().expect("provider"),
            identity["user_id"].as_str().expect("id")
        ),
        user.user_id
    );
}

#[tokio::test]
async fn get_user_fields_and_include_fields_select_top_level_fields() {
    let t = spawn(10).await;
    let id = t.user(0).user_id;
    let path = format!("/api/v2/users/{}", encode(&id));
    let (status, only) = t.get_json(&path, &[("fields", "user_id,email")]).await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<&String> = only.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["email", "user_id"]);
    let (_, without) = t
        .get_json(
            &path,
            &[
                ("fields", "identities,app_metadata"),
                ("include_fields", "false"),
            ],
        )
        .await;
    assert!(without.get("identities").is_none() && without.get("app_metadata").is_none());
    assert!(without.get("email").is_some());
    let (status, body) = t.get_json(&path, &[("fields", "password")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&body, 400, "invalid_query_string").contains("on property fields"));
}

#[tokio::test]
async fn unknown_user_is_404_inexistent_user() {
    let t = spawn(5).await;
    let (status, body) = t.get_json("/api/v2/users/auth0%7Cnope", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        assert_error(&body, 404, "inexistent_user"),
        "The user does not exist."
    );
}

#[tokio::test]
async fn users_by_email_is_exact_and_case_sensitive_like_auth0() {
    let mut config = config(5);
    config
        .extra_users
        .push(ExtraUser::new("Dana.Scully@FBI.example", "pw"));
    let t = spawn_with(config).await;
    // Database emails are stored lower-cased.
    let (status, found) = t
        .get_json(
            "/api/v2/users-by-email",
            &[("email", "dana.scully@fbi.example")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found.as_array().expect("array").len(), 1);
    assert_eq!(found[0]["email"], "dana.scully@fbi.example");
    let (_, none) = t
        .get_json(
            "/api/v2/users-by-email",
            &[("email", "Dana.Scully@FBI.example")],
        )
        .await;
    assert_eq!(none, json!([]));
    let (_, fields) = t
        .get_json(
            "/api/v2/users-by-email",
            &[("email", "dana.scully@fbi.example"), ("fields", "user_id")],
        )
        .await;
    assert_eq!(fields[0].as_object().expect("object").len(), 1);
    let (status, body) = t.get_json("/api/v2/users-by-email", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "invalid_query_string");
}

#[tokio::test]
async fn listing_without_q_pages_every_user_in_user_id_order() {
    let t = spawn(120).await;
    let (status, first) = t
        .get_json(
            "/api/v2/users",
            &[
                ("per_page", "50"),
                ("page", "0"),
                ("include_totals", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["total"], 120);
    assert_eq!(first["start"], 0);
    assert_eq!(first["limit"], 50);
    assert_eq!(first["length"], 50);
    let (_, last) = t
        .get_json(
            "/api/v2/users",
            &[
                ("per_page", "50"),
                ("page", "2"),
                ("include_totals", "true"),
            ],
        )
        .await;
    assert_eq!(last["length"], 20);
    assert_eq!(last["start"], 100);
    let ids: Vec<&str> = first["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["user_id"].as_str().expect("id"))
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    // Without paging parameters: 50 users, a bare array.
    let (_, plain) = t.get_json("/api/v2/users", &[]).await;
    assert_eq!(plain.as_array().expect("array").len(), 50);
}
