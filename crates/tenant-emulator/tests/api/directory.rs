//! Organizations, members, roles and role users, with offset and checkpoint paging.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, encode, spawn};

fn ids(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i[key].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn organizations_list_in_both_paging_styles() {
    let t = spawn(50).await;
    let (status, orgs) = t.get_json("/api/v2/organizations", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let orgs = orgs.as_array().expect("array").clone();
    assert_eq!(orgs.len(), 6);
    for org in &orgs {
        assert!(org["id"].as_str().expect("id").starts_with("org_"));
        assert!(
            org["name"].is_string()
                && org["display_name"].is_string()
                && org["metadata"].is_object()
        );
    }
    let (_, totals) = t
        .get_json(
            "/api/v2/organizations",
            &[("include_totals", "true"), ("per_page", "4")],
        )
        .await;
    assert_eq!(totals["total"], 6);
    assert_eq!(totals["limit"], 4);
    assert_eq!(totals["organizations"].as_array().expect("orgs").len(), 4);
    let (_, first) = t.get_json("/api/v2/organizations", &[("take", "4")]).await;
    let next = first["next"].as_str().expect("next");
    let (_, second) = t
        .get_json("/api/v2/organizations", &[("take", "4"), ("from", next)])
        .await;
    assert!(second.get("next").is_none());
    let mut all = ids(&first["organizations"], "id");
    all.extend(ids(&second["organizations"], "id"));
    assert_eq!(all.len(), 6);
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 6);
}

#[tokio::test]
async fn members_page_by_offset_and_checkpoint_and_agree_with_user_organizations() {
    let t = spawn(200).await;
    let org = t
        .handle
        .control()
        .organizations()
        .into_iter()
        .max_by_key(|o| o.members.len())
        .expect("org");
    let path = format!("/api/v2/organizations/{}/members", org.id);
    let (status, page) = t
        .get_json(
            &path,
            &[
                ("per_page", "10"),
                ("page", "1"),
                ("include_totals", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], org.members.len());
    assert_eq!(page["start"], 10);
    let member = &page["members"][0];
    for field in ["user_id", "email", "name", "picture"] {
        assert!(member[field].is_string(), "{field} in {member}");
    }
    // Checkpoint paging walks every member once.
    let mut seen = Vec::new();
    let mut from: Option<String> = None;
    loop {
        let mut query = vec![("take", "7".to_owned())];
        if let Some(from) = &from {
            query.push(("from", from.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = t.get_json(&path, &query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(ids(&body["members"], "user_id"));
        match body["next"].as_str() {
            Some(next) => from = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, org.members);
    // Offset paging stops at 1000.
    let (status, body) = t
        .get_json(&path, &[("per_page", "100"), ("page", "10")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(assert_error(&body, 400, "invalid_paging").contains("checkpoint pagination"));

    let (status, of_user) = t
        .get_json(
            &format!("/api/v2/users/{}/organizations", encode(&org.members[0])),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ids(&of_user, "id").contains(&org.id));
    let (_, with_totals) = t
        .get_json(
            &format!("/api/v2/users/{}/organizations", encode(&org.members[0])),
            &[("include_totals", "true")],
        )
        .await;
    assert!(with_totals["organizations"].is_array() && with_totals["total"].is_number());
    let (status, body) = t
        .get_json("/api/v2/organizations/org_missing/members", &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, 404, "inexistent_organization");
}

#[tokio::test]
async fn roles_role_users_and_user_roles_agree() {
    let t = spawn(200).await;
    let (status, roles) = t
        .get_json("/api/v2/roles", &[("include_totals", "true")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roles["total"], 5);
    let role = roles["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == "viewer")
        .expect("viewer")
        .clone();
    let role_id = role["id"].as_str().expect("id");
    assert!(role_id.starts_with("rol_"));
    assert!(role["description"].is_string());
    let (status, users) = t
        .get_json(
            &format!("/api/v2/roles/{role_id}/users"),
            &[("per_page", "100")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let holder = users[0]["user_id"].as_str().expect("a viewer").to_owned();
    let (_, user_roles) = t
        .get_json(
            &format!("/api/v2/users/{}/roles", encode(&holder)),
            &[("include_totals", "true")],
        )
        .await;
    assert_eq!(user_roles["roles"][0]["id"], role["id"]);
    let (_, first) = t
        .get_json(&format!("/api/v2/roles/{role_id}/users"), &[("take", "2")])
        .await;
    assert_eq!(first["users"].as_array().expect("users").len(), 2);
    assert!(first["next"].is_string());
    let (status, body) = t.get_json("/api/v2/roles/rol_missing/users", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, 404, "inexistent_role");
}

#[tokio::test]
async fn members_are_added_and_removed() {
    use reqwest::Method;
    use serde_json::json;

    let t = spawn(30).await;
    let org = t
        .handle
        .control()
        .organizations()
        .into_iter()
        .next()
        .expect("org");
    let outsider = t
        .handle
        .control()
        .users(30, 0)
        .users
        .into_iter()
        .find(|u| !u.organizations.contains(&org.id))
        .expect("an outsider");
    let path = format!("/api/v2/organizations/{}/members", org.id);
    let body = json!({"members": [outsider.user_id]});
    let response = t
        .api(Method::POST, &path)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, orgs) = t
        .get_json(
            &format!("/api/v2/users/{}/organizations", encode(&outsider.user_id)),
            &[],
        )
        .await;
    assert!(ids(&orgs, "id").contains(&org.id));
    let response = t
        .api(Method::DELETE, &path)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        !t.handle.control().organizations()[0]
            .members
            .contains(&outsider.user_id)
    );

    let (status, answer) = t
        .send_json(Method::POST, &path, &json!({"members": ["auth0|nobody"]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&answer, 404, "inexistent_user");
    let (status, answer) = t
        .send_json(Method::POST, &path, &json!({"members": []}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&answer, 400, "invalid_body");
    let (status, _) = t
        .send_json(
            Method::POST,
            "/api/v2/organizations/org_nope/members",
            &body,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The organization with the most members.
fn largest_organization(t: &crate::helpers::Tenant) -> tenant_emulator::OrganizationSummary {
    t.handle
        .control()
        .organizations()
        .into_iter()
        .max_by_key(|o| o.members.len())
        .expect("an organization")
}

fn keys(member: &Value) -> BTreeSet<String> {
    member
        .as_object()
        .expect("a member object")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn members_take_fields_and_include_fields_as_the_sdks_send_them() {
    let t = spawn(60).await;
    let org = largest_organization(&t);
    let path = format!("/api/v2/organizations/{}/members", org.id);
    let all: BTreeSet<String> = ["user_id", "email", "name", "picture"]
        .map(String::from)
        .into();

    // The Python SDK always sends include_fields, with or without fields.
    let (status, members) = t.get_json(&path, &[("include_fields", "true")]).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(keys(&members[0]), all, "every field but roles");

    let (_, members) = t
        .get_json(
            &path,
            &[("fields", "user_id,email"), ("include_fields", "true")],
        )
        .await;
    for member in members.as_array().expect("members") {
        assert_eq!(keys(member), ["email", "user_id"].map(String::from).into());
    }
    let (_, members) = t
        .get_json(&path, &[("fields", "email"), ("include_fields", "false")])
        .await;
    assert_eq!(
        keys(&members[0]),
        ["name", "picture", "user_id"].map(String::from).into(),
        "excluding a field does not add roles"
    );
    let (_, page) = t
        .get_json(&path, &[("fields", "user_id"), ("take", "2")])
        .await;
    assert_eq!(
        keys(&page["members"][0]),
        ["user_id"].map(String::from).into()
    );
    assert!(page["next"].is_string(), "checkpoint paging still works");

    let (status, body) = t.get_json(&path, &[("fields", "user_id,blocked")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "invalid_query_string");
}

#[tokio::test]
async fn fields_roles_lists_each_members_roles_in_the_organization() {
    let t = spawn(120).await;
    let org = largest_organization(&t);
    assert!(
        !org.member_roles.is_empty(),
        "the seed gives some members roles"
    );
    let (_, roles) = t.get_json("/api/v2/roles", &[]).await;
    let role_names: std::collections::BTreeMap<String, String> = roles
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect();

    let path = format!("/api/v2/organizations/{}/members", org.id);
    let (status, members) = t
        .get_json(
            &path,
            &[
                ("fields", "user_id,roles"),
                ("include_fields", "true"),
                ("per_page", "100"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{members}");
    let members = members.as_array().expect("members");
    assert_eq!(members.len(), org.members.len().min(100));
    for member in members {
        let user_id = member["user_id"].as_str().expect("user_id");
        let expected: Vec<Value> = org
            .member_roles
            .get(user_id)
            .into_iter()
            .flatten()
            .map(|id| serde_json::json!({"id": id, "name": role_names[id]}))
            .collect();
        assert_eq!(member["roles"], Value::Array(expected), "{member}");
    }

    // `fields=roles` alone is Auth0's documented call; only the roles come back.
    let (_, only_roles) = t.get_json(&path, &[("fields", "roles")]).await;
    assert_eq!(keys(&only_roles[0]), ["roles"].map(String::from).into());
}

#[tokio::test]
async fn member_roles_need_their_own_scope() {
    let t = spawn(30).await;
    let org = largest_organization(&t);
    let token = crate::helpers::client_credentials(
        &t.http,
        &t.base,
        t.handle.domain(),
        Some("read:organization_members"),
    )
    .await;
    let path = format!("/api/v2/organizations/{}/members", org.id);
    let response = t
        .http
        .get(t.url(&path))
        .query(&[("fields", "user_id,roles")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let message = assert_error(&body, 403, "insufficient_scope");
    assert!(
        message.ends_with("read:organization_member_roles"),
        "{message}"
    );
    let response = t
        .http
        .get(t.url(&path))
        .query(&[("fields", "user_id"), ("include_fields", "true")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_removed_member_loses_the_roles_held_in_the_organization() {
    use reqwest::Method;
    use serde_json::json;

    let t = spawn(120).await;
    let org = largest_organization(&t);
    let (holder, _) = org.member_roles.iter().next().expect("a member with roles");
    let path = format!("/api/v2/organizations/{}/members", org.id);
    let body = json!({"members": [holder]});
    for method in [Method::DELETE, Method::POST] {
        let response = t.api(method, &path).json(&body).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let (_, members) = t
        .get_json(&path, &[("fields", "user_id,roles"), ("per_page", "100")])
        .await;
    let back = members
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user_id"] == json!(holder))
        .expect("a member again");
    assert_eq!(back["roles"], json!([]));
}

#[tokio::test]
async fn organizations_sort_by_name_display_name_and_created_at_in_both_directions() {
    let t = spawn(20).await;
    let summaries = t.handle.control().organizations();
    let mut by_id: Vec<String> = summaries.iter().map(|o| o.id.clone()).collect();
    by_id.sort();
    let mut some_order_differs_from_ids = false;
    for field in ["name", "display_name", "created_at"] {
        let mut expected: Vec<(String, String)> = summaries
            .iter()
            .map(|o| {
                let key = match field {
                    "name" => o.name.clone(),
                    "display_name" => o.display_name.clone().unwrap_or_default(),
                    _ => o.created_at.clone(),
                };
                (key, o.id.clone())
            })
            .collect();
        expected.sort();
        let ascending: Vec<String> = expected.iter().map(|(_, id)| id.clone()).collect();
        some_order_differs_from_ids |= ascending != by_id;
        let descending: Vec<String> = ascending.iter().rev().cloned().collect();
        for (order, want) in [("1", &ascending), ("-1", &descending)] {
            let sort = format!("{field}:{order}");
            let (status, orgs) = t
                .get_json("/api/v2/organizations", &[("sort", &sort)])
                .await;
            assert_eq!(status, StatusCode::OK, "{sort}: {orgs}");
            assert_eq!(&ids(&orgs, "id"), want, "{sort}");
            // Checkpoint paging walks the sorted order.
            let (_, first) = t
                .get_json("/api/v2/organizations", &[("sort", &sort), ("take", "4")])
                .await;
            let next = first["next"].as_str().expect("next");
            let (_, rest) = t
                .get_json(
                    "/api/v2/organizations",
                    &[("sort", &sort), ("take", "4"), ("from", next)],
                )
                .await;
            let mut walked = ids(&first["organizations"], "id");
            walked.extend(ids(&rest["organizations"], "id"));
            assert_eq!(&walked, want, "{sort} by checkpoint");
        }
    }
    assert!(
        some_order_differs_from_ids,
        "the seed makes sorting observable"
    );
}

#[tokio::test]
async fn organization_and_role_lists_take_1_to_100_per_page() {
    let t = spawn(5).await;
    for path in ["/api/v2/organizations", "/api/v2/roles"] {
        let (status, answer) = t.get_json(path, &[("per_page", "0")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            assert_error(&answer, 400, "invalid_query_string"),
            "Query validation error: 'Value 0 is less than minimum 1' on property per_page \
             (Number of results per page)."
        );
        let (status, answer) = t.get_json(path, &[("per_page", "101")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_error(&answer, 400, "invalid_query_string");
        let (status, _) = t.get_json(path, &[("per_page", "1")]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_bad_organization_sort_answers_auth0s_400() {
    let t = spawn(5).await;
    for sort in [
        "industry:1",
        "name",
        "name:2",
        "created_at:-1:1",
        "metadata.industry:1",
    ] {
        let (status, body) = t.get_json("/api/v2/organizations", &[("sort", sort)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sort}");
        let message = assert_error(&body, 400, "invalid_query_string");
        assert!(message.contains("property sort"), "{message}");
    }
}
