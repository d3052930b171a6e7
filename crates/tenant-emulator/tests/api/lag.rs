//! Search-index lag: search sees each user as it was before its latest write until the lag has
//! passed; get-by-id and users-by-email are consistent at once. Membership lag: the organization
//! members list shows memberships as they were before a write until the lag has passed; a user's
//! organizations are consistent at once.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Tenant, config, encode, spawn_with};

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

/// The user ids the members list shows, with each one's roles (asked for with `fields=roles`).
async fn listed_members(t: &Tenant, org_id: &str) -> Vec<(String, serde_json::Value)> {
    let (status, members) = t
        .get_json(
            &format!("/api/v2/organizations/{org_id}/members"),
            &[("fields", "user_id,name,roles"), ("per_page", "100")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{members}");
    members
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().expect("user_id").to_owned(),
                m.clone(),
            )
        })
        .collect()
}

async fn organizations_of(t: &Tenant, user_id: &str) -> Vec<String> {
    let (_, orgs) = t
        .get_json(
            &format!("/api/v2/users/{}/organizations", encode(user_id)),
            &[],
        )
        .await;
    orgs.as_array()
        .expect("organizations")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_members_list_lags_membership_writes_and_user_organizations_do_not() {
    let mut config = config(120);
    config.membership_lag = LAG;
    let t = spawn_with(config).await;
    let org = t
        .handle
        .control()
        .organizations()
        .into_iter()
        .max_by_key(|o| o.member_roles.len())
        .expect("an organization");
    let (leaver, roles) = org.member_roles.iter().next().expect("a member with roles");
    let joiner = t
        .handle
        .control()
        .users(120, 0)
        .users
        .into_iter()
        .find(|u| u.organizations.is_empty())
        .expect("a user in no organization")
        .user_id;
    let path = format!("/api/v2/organizations/{}/members", org.id);
    for (method, user) in [(Method::POST, &joiner), (Method::DELETE, leaver)] {
        let (status, body) = t
            .send_json(method, &path, &json!({ "members": [user] }))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    // The list still shows the leaver, with the roles they held, and misses the joiner.
    let listed = listed_members(&t, &org.id).await;
    let shown = |id: &str| {
        listed
            .iter()
            .find(|(user, _)| user == id)
            .map(|(_, m)| m.clone())
    };
    let leaver_shown = shown(leaver).expect("the leaver is still listed");
    let role_ids: Vec<&str> = leaver_shown["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        role_ids,
        roles.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(shown(&joiner).is_none(), "the joiner is not listed yet");
    // Everything else is consistent at once.
    assert!(organizations_of(&t, &joiner).await.contains(&org.id));
    assert!(!organizations_of(&t, leaver).await.contains(&org.id));
    let now = &t.handle.control().organizations();
    let current = now.iter().find(|o| o.id == org.id).expect("org");
    assert!(current.members.contains(&joiner) && !current.members.contains(leaver));

    tokio::time::sleep(LAG + Duration::from_millis(50)).await;
    let listed = listed_members(&t, &org.id).await;
    assert!(listed.iter().any(|(user, _)| *user == joiner));
    assert!(listed.iter().all(|(user, _)| user != leaver));
}

#[tokio::test]
async fn a_deleted_member_stays_listed_as_they_were_until_the_lag_has_passed() {
    let mut config = config(60);
    config.membership_lag = LAG;
    let t = spawn_with(config).await;
    let org = t
        .handle
        .control()
        .organizations()
        .into_iter()
        .max_by_key(|o| o.members.len())
        .expect("an organization");
    let member = org.members[0].clone();
    let name = t.profile(&member).await["name"].clone();
    let response = t
        .api(
            Method::DELETE,
            &format!("/api/v2/users/{}", encode(&member)),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let listed = listed_members(&t, &org.id).await;
    let (_, shown) = listed
        .iter()
        .find(|(user, _)| *user == member)
        .expect("still listed");
    assert_eq!(shown["name"], name);
    tokio::time::sleep(LAG + Duration::from_millis(50)).await;
    let listed = listed_members(&t, &org.id).await;
    assert!(listed.iter().all(|(user, _)| *user != member));
}
