//! `POST`, `PATCH` and `DELETE /api/v2/users…`: validation, merge rules, conflicts and logs.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Tenant, assert_error, encode, spawn};

async fn create(t: &Tenant, body: Value) -> (StatusCode, Value) {
    t.send_json(Method::POST, "/api/v2/users", &body).await
}

async fn patch(t: &Tenant, id: &str, body: Value) -> (StatusCode, Value) {
    t.send_json(
        Method::PATCH,
        &format!("/api/v2/users/{}", encode(id)),
        &body,
    )
    .await
}

async fn logs(t: &Tenant, id: &str) -> Vec<Value> {
    let (_, body) = t
        .get_json(&format!("/api/v2/users/{}/logs", encode(id)), &[])
        .await;
    body.as_array().cloned().unwrap_or_default()
}

fn new_user(email: &str) -> Value {
    json!({
        "connection": "Username-Password-Authentication",
        "email": email,
        "password": "Str0ng-Passw0rd",
        "given_name": "Erin",
        "family_name": "Example",
        "user_metadata": {"language": "en"},
        "app_metadata": {"plan": "pro"},
    })
}

#[tokio::test]
async fn create_answers_201_with_the_user_and_logs_it() {
    let t = spawn(5).await;
    let (status, user) = create(&t, new_user("Erin@Example.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let id = user["user_id"].as_str().expect("user_id");
    let tail = id.strip_prefix("auth0|").expect("database id");
    assert_eq!(tail.len(), 24);
    assert!(tail.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(user["email"], "erin@example.com");
    assert_eq!(user["email_verified"], false);
    assert_eq!(
        user["identities"][0]["connection"],
        "Username-Password-Authentication"
    );
    assert_eq!(user["app_metadata"]["plan"], "pro");
    assert!(user.get("password").is_none());
    assert_eq!(t.profile(id).await, user);
    let types: Vec<Value> = logs(&t, id)
        .await
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert!(
        types.contains(&json!("sapi")) && types.contains(&json!("svr")),
        "{types:?}"
    );

    // A given id gets the provider prefix; a verified user gets no verification email.
    let mut body = new_user("frank@example.com");
    body["user_id"] = json!("frank-1");
    body["email_verified"] = json!(true);
    let (status, user) = create(&t, body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(user["user_id"], "auth0|frank-1");
    assert!(
        !logs(&t, "auth0|frank-1")
            .await
            .iter()
            .any(|e| e["type"] == "svr")
    );
}

#[tokio::test]
async fn create_refuses_what_auth0_refuses() {
    let t = spawn(5).await;
    let without = |key: &str| {
        let mut body = new_user("gina@example.com");
        body.as_object_mut().expect("object").remove(key);
        body
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (without("connection"), 400, "invalid_body"),
        (without("password"), 400, "invalid_body"),
        (without("email"), 400, "invalid_body"),
        (
            json!({"connection": "Nope", "email": "a@b.example", "password": "Str0ng-Passw0rd"}),
            400,
            "inexistent_connection",
        ),
        (
            json!({"connection": "google-oauth2", "email": "a@b.example"}),
            400,
            "operation_not_supported",
        ),
        (
            {
                let mut b = new_user("h@example.com");
                b["password"] = json!("short");
                b
            },
            400,
            "invalid_body",
        ),
        (
            {
                let mut b = new_user("not-an-email");
                b["password"] = json!("Str0ng-Passw0rd");
                b
            },
            400,
            "invalid_body",
        ),
        (
            {
                let mut b = new_user("i@example.com");
                b["favourite_colour"] = json!("red");
                b
            },
            400,
            "invalid_body",
        ),
        (
            {
                let mut b = new_user("j@example.com");
                b["blocked"] = json!("yes");
                b
            },
            400,
            "invalid_body",
        ),
        (
            {
                let mut b = new_user("k@example.com");
                b["app_metadata"] = json!({"email": "x"});
                b
            },
            400,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = create(&t, body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body} → {answer}");
        assert_error(&answer, status, code);
    }
    let (status, answer) = read_raw(&t, Method::POST, "/api/v2/users", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, 400, "invalid_body");
}

async fn read_raw(t: &Tenant, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
    let response = t
        .api(method, path)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    crate::helpers::read(response).await
}

#[tokio::test]
async fn duplicate_email_in_the_connection_is_409() {
    let t = spawn(5).await;
    assert_eq!(
        create(&t, new_user("dup@example.com")).await.0,
        StatusCode::CREATED
    );
    let (status, answer) = create(&t, new_user("DUP@example.com")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        assert_error(&answer, 409, "auth0_idp_error"),
        "The user already exists."
    );
}

#[tokio::test]
async fn patch_merges_metadata_at_the_first_level_only() {
    let t = spawn(5).await;
    let (_, user) = create(&t, new_user("merge@example.com")).await;
    let id = user["user_id"].as_str().expect("id").to_owned();
    let (status, _) = patch(
        &t,
        &id,
        json!({"user_metadata": {
            "prefs": {"theme": "dark", "lang": "de"},
            "nickname_seen": true,
            "language": null,
        }}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, user) = patch(
        &t,
        &id,
        json!({"user_metadata": {"prefs": {"theme": "light"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A nested object is replaced whole; null deleted `language`; other keys stay.
    assert_eq!(
        user["user_metadata"],
        json!({"prefs": {"theme": "light"}, "nickname_seen": true})
    );
    let (_, user) = patch(&t, &id, json!({"user_metadata": {}})).await;
    assert_eq!(user["user_metadata"], json!({}));
    assert_eq!(user["app_metadata"], json!({"plan": "pro"}));
}

#[tokio::test]
async fn patch_root_fields_replace_null_unsets_and_updated_at_moves() {
    let t = spawn(5).await;
    let (_, before) = create(&t, new_user("root@example.com")).await;
    let id = before["user_id"].as_str().expect("id").to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, after) = patch(
        &t,
        &id,
        json!({"given_name": null, "nickname": "rooty", "blocked": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert!(after.get("given_name").is_none());
    assert_eq!(after["nickname"], "rooty");
    assert_eq!(after["blocked"], true);
    assert_eq!(after["family_name"], "Example");
    assert!(after["updated_at"].as_str() > before["updated_at"].as_str());
    assert!(
        logs(&t, &id)
            .await
            .iter()
            .any(|e| e["type"] == "sapi" && e["description"] == "Update a User")
    );
}

#[tokio::test]
async fn patch_refuses_bad_keys_reserved_keys_large_objects_and_unknown_fields() {
    let t = spawn(5).await;
    let (_, user) = create(&t, new_user("rules@example.com")).await;
    let id = user["user_id"].as_str().expect("id").to_owned();
    let big = "x".repeat(17 * 1024);
    let cases = [
        json!({"user_metadata": {"a.b": 1}}),
        json!({"user_metadata": {"deep": {"ok": {"$bad": 1}}}}),
        json!({"app_metadata": {"list": [{"x.y": 1}]}}),
        json!({"app_metadata": {"blocked": true}}),
        json!({"app_metadata": {"loginsCount": 1}}),
        json!({"user_metadata": {"big": big}}),
        json!({"user_metadata": "text"}),
        json!({"user_metadata": null}),
        json!({"shoe_size": 44}),
        json!({"email": "bad"}),
        json!({"email": null}),
        json!({"blocked": "no"}),
        json!({"name": ""}),
        json!({"phone_number": "12345"}),
        json!({"password": "weak"}),
        json!({"email": "new@example.com", "password": "Str0ng-Passw0rd"}),
    ];
    for body in cases {
        let (status, answer) = patch(&t, &id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert!(answer["errorCode"].is_string(), "{answer}");
    }
    // Nothing was applied.
    assert_eq!(
        t.profile(&id).await["user_metadata"],
        json!({"language": "en"})
    );
}

#[tokio::test]
async fn the_16_kb_bound_applies_to_the_merged_object() {
    let t = spawn(5).await;
    let (_, user) = create(&t, new_user("size@example.com")).await;
    let id = user["user_id"].as_str().expect("id").to_owned();
    let half = "y".repeat(9 * 1024);
    assert_eq!(
        patch(&t, &id, json!({"app_metadata": {"a": half}})).await.0,
        StatusCode::OK
    );
    let (status, answer) = patch(&t, &id, json!({"app_metadata": {"b": half}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&answer, 400, "invalid_body").contains("16 kB"));
}

#[tokio::test]
async fn email_change_to_a_taken_email_is_409_and_a_free_one_unverifies() {
    let t = spawn(5).await;
    create(&t, new_user("taken@example.com")).await;
    let (_, user) = create(&t, new_user("mover@example.com")).await;
    let id = user["user_id"].as_str().expect("id").to_owned();
    let (status, answer) = patch(&t, &id, json!({"email": "Taken@example.com"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_error(&answer, 409, "auth0_idp_error");
    patch(&t, &id, json!({"email_verified": true})).await;
    let (status, moved) = patch(&t, &id, json!({"email": "Moved@Example.com"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(moved["email"], "moved@example.com");
    assert_eq!(moved["email_verified"], false);
    let (_, found) = t
        .get_json("/api/v2/users-by-email", &[("email", "moved@example.com")])
        .await;
    assert_eq!(found.as_array().expect("array").len(), 1);
}

#[tokio::test]
async fn password_change_logs_scp_and_the_new_password_logs_in() {
    let t = spawn(5).await;
    let (_, user) = create(&t, new_user("pw@example.com")).await;
    let id = user["user_id"].as_str().expect("id").to_owned();
    let (status, after) = patch(&t, &id, json!({"password": "N3w-Passw0rd!"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(after["last_password_reset"].is_string());
    assert!(logs(&t, &id).await.iter().any(|e| e["type"] == "scp"));
    let form = [
        (
            "grant_type",
            "http://auth0.com/oauth/grant-type/password-realm",
        ),
        ("username", "pw@example.com"),
        ("password", "N3w-Passw0rd!"),
        ("realm", "Username-Password-Authentication"),
        ("client_id", "tenantgraph"),
    ];
    let response = t
        .http
        .post(t.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn delete_is_204_logs_du_and_leaves_organizations_and_roles() {
    let t = spawn(60).await;
    let orgs = t.handle.control().organizations();
    let member = orgs
        .iter()
        .find_map(|o| o.members.first().cloned())
        .expect("an org member");
    let path = format!("/api/v2/users/{}", encode(&member));
    let response = t.api(Method::DELETE, &path).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(t.get_json(&path, &[]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        t.api(Method::DELETE, &path)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        t.handle
            .control()
            .organizations()
            .iter()
            .all(|o| !o.members.contains(&member))
    );
    let (_, roles) = t.get_json("/api/v2/roles", &[]).await;
    for role in roles.as_array().expect("roles") {
        let (_, users) = t
            .get_json(
                &format!("/api/v2/roles/{}/users", role["id"].as_str().expect("id")),
                &[("per_page", "100")],
            )
            .await;
        assert!(
            users
                .as_array()
                .expect("users")
                .iter()
                .all(|u| u["user_id"] != json!(member))
        );
    }
    let events = logs(&t, &member).await;
    assert!(events.iter().any(|e| e["type"] == "du"));
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "sapi" && e["description"] == "Delete a User")
    );
}
