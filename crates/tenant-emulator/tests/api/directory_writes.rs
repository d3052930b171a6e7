//! Creating organizations and roles and assigning roles, with Auth0's validation answers, unique
//! names, scopes and entity limits (1000 roles per tenant, 50 per user).

use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Tenant, assert_error, encode, read, spawn};

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A request with a token holding exactly `scope`.
async fn as_scope(t: &Tenant, scope: &str, method: Method, path: &str, body: &Value) -> Value {
    let token = t.mint(t.management_claims(scope));
    let (status, answer) = read(
        t.http
            .request(method, t.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    answer
}

async fn create_role(t: &Tenant, name: &str) -> String {
    let (status, role) = t
        .send_json(Method::POST, "/api/v2/roles", &json!({ "name": name }))
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    role["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn an_organization_is_created_listed_and_joined() {
    let t = spawn(20).await;
    let body = json!({
        "name": "acme-eu_2",
        "display_name": "Acme Europe",
        "metadata": {"region": "eu", "gone": null},
    });
    let (status, created) = t
        .send_json(Method::POST, "/api/v2/organizations", &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("org_") && id.len() == 20, "{id}");
    assert_eq!(created["name"], "acme-eu_2");
    assert_eq!(created["display_name"], "Acme Europe");
    assert_eq!(created["metadata"], json!({"region": "eu"}));

    let (_, listed) = t
        .get_json("/api/v2/organizations", &[("per_page", "100")])
        .await;
    assert!(ids(&listed).contains(&id));
    let user = t.user(0).user_id;
    let (status, _) = t
        .send_json(
            Method::POST,
            &format!("/api/v2/organizations/{id}/members"),
            &json!({ "members": [user] }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, orgs) = t
        .get_json(
            &format!("/api/v2/users/{}/organizations", encode(&user)),
            &[],
        )
        .await;
    assert!(ids(&orgs).contains(&id));

    // Only the name is required; absent fields are not sent back.
    let (status, bare) = t
        .send_json(
            Method::POST,
            "/api/v2/organizations",
            &json!({"name": "7th"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bare}");
    assert!(bare.get("display_name").is_none() && bare.get("metadata").is_none());
}

#[tokio::test]
async fn organization_names_follow_auth0s_rules_and_are_unique() {
    let t = spawn(5).await;
    let post = |body: Value| {
        let t = &t;
        async move {
            t.send_json(Method::POST, "/api/v2/organizations", &body)
                .await
        }
    };
    let (status, _) = post(json!({"name": "acme"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answer) = post(json!({"name": "acme", "display_name": "Other"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        assert_error(&answer, 409, "conflict"),
        "An organization with this name already exists."
    );

    let refused = [
        (
            json!({"display_name": "No name"}),
            "Payload validation error: 'Missing required property: name'.",
        ),
        (
            json!({"name": 7}),
            "Payload validation error: 'Expected type string but found type integer' on \
             property name.",
        ),
        (
            json!({"name": ""}),
            "Payload validation error: 'String is too short (0 chars), minimum 1' on property \
             name.",
        ),
        (
            json!({"name": "a".repeat(51)}),
            "Payload validation error: 'String is too long (51 chars), maximum 50' on property \
             name.",
        ),
        (
            json!({"name": "Acme Inc"}),
            "Payload validation error: 'Object didn't pass validation for format \
             organization-name: Acme Inc' on property name.",
        ),
        (
            json!({"name": "ok", "display_name": "x".repeat(256)}),
            "Payload validation error: 'String is too long (256 chars), maximum 255' on \
             property display_name.",
        ),
        (
            json!({"name": "ok", "metadata": {"tier": 1}}),
            "Payload validation error: 'Expected type string,null but found type integer' on \
             property metadata.tier.",
        ),
        (
            json!({"name": "ok", "colour": "red"}),
            "Payload validation error: 'Additional properties not allowed: colour'.",
        ),
    ];
    for (body, message) in refused {
        let (status, answer) = post(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(assert_error(&answer, 400, "invalid_body"), message);
    }
    let (status, answer) = post(json!({"name": "ok", "branding": {}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, 400, "operation_not_supported");
    let (_, listed) = t
        .get_json("/api/v2/organizations", &[("per_page", "100")])
        .await;
    assert_eq!(listed.as_array().expect("array").len(), 7, "one created");

    let answer = as_scope(
        &t,
        "read:organizations update:organizations",
        Method::POST,
        "/api/v2/organizations",
        &json!({"name": "scoped"}),
    )
    .await;
    assert_eq!(
        assert_error(&answer, 403, "insufficient_scope"),
        "Insufficient scope, expected any of: create:organizations"
    );
}

#[tokio::test]
async fn roles_are_created_with_unique_names() {
    let t = spawn(5).await;
    let (status, role) = t
        .send_json(
            Method::POST,
            "/api/v2/roles",
            &json!({"name": "Auditor", "description": "Reads everything"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    assert!(role["id"].as_str().expect("id").starts_with("rol_"));
    assert_eq!(
        role,
        json!({"id": role["id"], "name": "Auditor", "description": "Reads everything"})
    );
    let (_, listed) = t.get_json("/api/v2/roles", &[]).await;
    assert!(ids(&listed).contains(&role["id"].as_str().expect("id").to_owned()));
    let (_, bare) = t
        .send_json(Method::POST, "/api/v2/roles", &json!({"name": "Bare"}))
        .await;
    assert!(bare.get("description").is_none(), "{bare}");

    let (status, answer) = t
        .send_json(Method::POST, "/api/v2/roles", &json!({"name": "Auditor"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        assert_error(&answer, 409, "conflict"),
        "The role already exists."
    );
    for (body, message) in [
        (
            json!({"description": "x"}),
            "Payload validation error: 'Missing required property: name'.",
        ),
        (
            json!({"name": ["x"]}),
            "Payload validation error: 'Expected type string but found type array' on property \
             name.",
        ),
        (
            json!({"name": "x", "permissions": []}),
            "Payload validation error: 'Additional properties not allowed: permissions'.",
        ),
    ] {
        let (status, answer) = t.send_json(Method::POST, "/api/v2/roles", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(assert_error(&answer, 400, "invalid_body"), message);
    }
    let answer = as_scope(
        &t,
        "read:roles update:roles",
        Method::POST,
        "/api/v2/roles",
        &json!({"name": "Scoped"}),
    )
    .await;
    assert_eq!(
        assert_error(&answer, 403, "insufficient_scope"),
        "Insufficient scope, expected any of: create:roles"
    );
}

#[tokio::test]
async fn roles_are_assigned_from_either_side_and_removed() {
    let t = spawn(10).await;
    let (alice, bob) = (t.user(0).user_id, t.user(1).user_id);
    let (first, second) = (
        create_role(&t, "first").await,
        create_role(&t, "second").await,
    );
    let user_roles = format!("/api/v2/users/{}/roles", encode(&alice));
    let response = t
        .api(Method::POST, &user_roles)
        .json(&json!({ "roles": [first, second] }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, held) = t.get_json(&user_roles, &[]).await;
    let held = ids(&held);
    assert!(held.contains(&first) && held.contains(&second), "{held:?}");

    let (status, answer) = t
        .send_json(
            Method::POST,
            &format!("/api/v2/roles/{first}/users"),
            &json!({ "users": [bob] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, Value::Null, "no body");
    let (_, users) = t
        .get_json(&format!("/api/v2/roles/{first}/users"), &[])
        .await;
    let users: Vec<&str> = users
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|u| u["user_id"].as_str())
        .collect();
    assert!(users.contains(&alice.as_str()) && users.contains(&bob.as_str()));

    let response = t
        .api(Method::DELETE, &user_roles)
        .json(&json!({ "roles": [first, "rol_never_held"] }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, held) = t.get_json(&user_roles, &[]).await;
    assert!(!ids(&held).contains(&first) && ids(&held).contains(&second));

    let (_, logs) = t
        .get_json(&format!("/api/v2/users/{}/logs", encode(&alice)), &[])
        .await;
    let described: Vec<&str> = logs
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(|e| e["description"].as_str())
        .collect();
    assert!(
        described.contains(&"Assign roles to a user"),
        "{described:?}"
    );
}

#[tokio::test]
async fn role_assignments_refuse_unknown_ids_bad_bodies_and_missing_scopes() {
    let t = spawn(5).await;
    let user = t.user(0).user_id;
    let role = create_role(&t, "known").await;
    let user_roles = format!("/api/v2/users/{}/roles", encode(&user));
    let role_users = format!("/api/v2/roles/{role}/users");

    let (status, answer) = t
        .send_json(
            Method::POST,
            "/api/v2/users/auth0%7Cnobody/roles",
            &json!({ "roles": [role] }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&answer, 404, "inexistent_user");
    let (status, answer) = t
        .send_json(
            Method::POST,
            &user_roles,
            &json!({ "roles": [role, "rol_unknown"] }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&answer, 404, "inexistent_role");
    let (_, held) = t.get_json(&user_roles, &[]).await;
    assert!(!ids(&held).contains(&role), "nothing assigned on a refusal");
    let (status, answer) = t
        .send_json(
            Method::POST,
            "/api/v2/roles/rol_unknown/users",
            &json!({ "users": [user] }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&answer, 404, "inexistent_role");
    let (status, answer) = t
        .send_json(
            Method::POST,
            &role_users,
            &json!({ "users": [user, "auth0|nobody"] }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        assert_error(&answer, 404, "inexistent_user"),
        "One or more of the users do not exist."
    );

    for (path, body, message) in [
        (
            &user_roles,
            json!({ "roles": [] }),
            "Payload validation error: 'Array is too short (0), minimum 1' on property roles.",
        ),
        (
            &user_roles,
            json!({ "roles": [""] }),
            "Payload validation error: 'String is too short (0 chars), minimum 1' on property \
             roles.",
        ),
        (
            &user_roles,
            json!({ "roles": "rol_x" }),
            "Payload validation error: 'Expected type array but found type string' on property \
             roles.",
        ),
        (
            &role_users,
            json!({ "members": [user] }),
            "Payload validation error: 'Additional properties not allowed: members'.",
        ),
        (
            &role_users,
            json!({}),
            "Payload validation error: 'Missing required property: users'.",
        ),
    ] {
        let (status, answer) = t.send_json(Method::POST, path, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(assert_error(&answer, 400, "invalid_body"), message);
    }

    let answer = as_scope(
        &t,
        "read:users read:roles",
        Method::POST,
        &user_roles,
        &json!({ "roles": [role] }),
    )
    .await;
    assert_eq!(
        assert_error(&answer, 403, "insufficient_scope"),
        "Insufficient scope, expected any of: update:users,create:role_members"
    );
    let answer = as_scope(
        &t,
        "update:users",
        Method::POST,
        &role_users,
        &json!({ "users": [user] }),
    )
    .await;
    assert_eq!(
        assert_error(&answer, 403, "insufficient_scope"),
        "Insufficient scope, expected any of: update:roles,create:role_members"
    );
    as_scope(
        &t,
        "create:role_members",
        Method::DELETE,
        &user_roles,
        &json!({ "roles": [role] }),
    )
    .await;
}

#[tokio::test]
async fn a_tenant_holds_1000_roles_and_a_user_50() {
    let t = spawn(5).await;
    let (_, seeded) = t.get_json("/api/v2/roles", &[("per_page", "100")]).await;
    let seeded = seeded.as_array().expect("array").len();
    let created: Vec<String> = futures::stream::iter(seeded..1000)
        .map(|i| {
            let t = &t;
            async move { create_role(t, &format!("role-{i:04}")).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let (status, answer) = t
        .send_json(
            Method::POST,
            "/api/v2/roles",
            &json!({"name": "one-too-many"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, 400, "too_many_entities");

    // All 1000 fit in the offset window; the page past it is refused whatever the count.
    let (status, last) = t
        .get_json(
            "/api/v2/roles",
            &[
                ("page", "9"),
                ("per_page", "100"),
                ("include_totals", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(last["total"], 1000);
    assert_eq!(last["roles"].as_array().expect("roles").len(), 100);
    let (status, answer) = t
        .get_json("/api/v2/roles", &[("page", "10"), ("per_page", "100")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, 400, "invalid_paging");

    let user = t.user(0).user_id;
    let user_roles = format!("/api/v2/users/{}/roles", encode(&user));
    let (_, held) = t.get_json(&user_roles, &[("per_page", "100")]).await;
    let missing = 50 - ids(&held).len();
    let (status, _) = t
        .send_json(
            Method::POST,
            &user_roles,
            &json!({ "roles": created[..missing] }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, answer) = t
        .send_json(
            Method::POST,
            &user_roles,
            &json!({ "roles": [created[missing]] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, 400, "too_many_entities");
    let (status, answer) = t
        .send_json(
            Method::POST,
            &format!("/api/v2/roles/{}/users", created[missing]),
            &json!({ "users": [user] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, 400, "too_many_entities");
    // Re-assigning roles already held passes the limit.
    let (status, _) = t
        .send_json(Method::POST, &user_roles, &json!({ "roles": [created[0]] }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, held) = t.get_json(&user_roles, &[("per_page", "100")]).await;
    assert_eq!(ids(&held).len(), 50);
}
