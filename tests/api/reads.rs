//! Every Query field, read back against what the emulated tenants hold.

use serde_json::{Value, json};

use test_kit::{data, error_codes, spawn};

const USER_FIELDS: &str = "id tenant { id } email emailVerified name givenName familyName nickname
    picture username phoneNumber identities { connection provider userId isSocial } createdAt
    updatedAt lastLogin lastIp loginsCount blocked userMetadata appMetadata";

#[tokio::test]
async fn tenants_lists_every_tenant_with_its_health() {
    let app = spawn().await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ tenants { id name domain status } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&answer)["tenants"],
        json!([
            {"id": "acme-eu", "name": "ACME Europe", "domain": "acme-eu.auth0.test", "status": "UP"},
            {"id": "acme-us", "name": "ACME United States", "domain": "acme-us.auth0.test", "status": "UP"},
            {"id": "globex", "name": "Globex", "domain": "globex.auth0.test", "status": "UP"},
        ])
    );
}

#[tokio::test]
async fn user_returns_the_profile_the_tenant_holds() {
    let app = spawn().await;
    let target = app
        .users_of("acme-us")
        .into_iter()
        .find(|u| u.user_id.starts_with("auth0|"))
        .unwrap();
    let query =
        format!("query($t: ID!, $id: ID!) {{ user(tenant: $t, id: $id) {{ {USER_FIELDS} }} }}");
    let answer = app
        .query(
            &app.tokens.global_admin,
            &query,
            json!({"t": "acme-us", "id": target.user_id}),
        )
        .await;
    let user = &data(&answer)["user"];
    let truth = app
        .management_get(
            "acme-us",
            &format!("/api/v2/users/{}", target.user_id.replace('|', "%7C")),
        )
        .await;
    assert_eq!(user["id"], truth["user_id"]);
    assert_eq!(user["tenant"]["id"], "acme-us");
    assert_eq!(user["email"], truth["email"]);
    assert_eq!(user["emailVerified"], truth["email_verified"]);
    assert_eq!(user["name"], truth["name"]);
    assert_eq!(user["createdAt"], truth["created_at"]);
    assert_eq!(user["lastLogin"], truth["last_login"]);
    assert_eq!(user["loginsCount"], truth["logins_count"]);
    assert_eq!(user["userMetadata"], truth["user_metadata"]);
    assert_eq!(user["appMetadata"], truth["app_metadata"]);
    assert_eq!(
        user["identities"][0]["provider"],
        truth["identities"][0]["provider"]
    );
    assert_eq!(
        user["identities"][0]["connection"],
        truth["identities"][0]["connection"]
    );
    assert_eq!(
        user["blocked"],
        truth.get("blocked").cloned().unwrap_or(json!(false))
    );
}

#[tokio::test]
async fn a_missing_user_is_null_without_an_error() {
    let app = spawn().await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ user(tenant: \"acme-eu\", id: \"auth0|000000000000000000000000\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&answer)["user"], Value::Null);
}

#[tokio::test]
async fn users_answers_in_the_order_asked_with_null_for_the_missing() {
    let app = spawn().await;
    let eu = app.users_of("acme-eu");
    let us = app.users_of("acme-us");
    let refs = json!([
        {"tenant": "acme-us", "id": us[3].user_id},
        {"tenant": "acme-eu", "id": "auth0|nobody"},
        {"tenant": "acme-eu", "id": eu[5].user_id},
    ]);
    let query = "query($r: [UserRef!]!) { users(refs: $r) { id tenant { id } } }";
    let answer = app
        .query(&app.tokens.global_admin, query, json!({"r": refs}))
        .await;
    assert_eq!(
        data(&answer)["users"],
        json!([
            {"id": us[3].user_id, "tenant": {"id": "acme-us"}},
            null,
            {"id": eu[5].user_id, "tenant": {"id": "acme-eu"}},
        ])
    );
    // A tenant nobody serves is a mistake in the input, said before any upstream call, as in
    // every field that names a tenant.
    app.reset_counts();
    let refs = json!([{"tenant": "nowhere", "id": eu[5].user_id}]);
    let answer = app
        .query(&app.tokens.global_admin, query, json!({"r": refs}))
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
    assert_eq!(app.total_calls(), 0);
}

#[tokio::test]
async fn nested_fields_read_memberships_logs_and_blocks() {
    let app = spawn().await;
    let organizations = app.tenant("acme-us").control().organizations();
    let organization = organizations
        .iter()
        .find(|o| !o.members.is_empty())
        .unwrap();
    let member = &organization.members[0];
    let query = "query($id: ID!) { user(tenant: \"acme-us\", id: $id) {
        organizations { id name displayName } roles { id name description }
        logs(first: 5) { id date type description ip clientName userAgent }
        bruteForceBlocks { identifier ip connection } } }";
    let answer = app
        .query(&app.tokens.global_admin, query, json!({"id": member}))
        .await;
    let user = &data(&answer)["user"];
    let ids: Vec<&str> = user["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&organization.id.as_str()), "{user:#}");

    let path = format!("/api/v2/users/{}", member.replace('|', "%7C"));
    let roles = app
        .management_get("acme-us", &format!("{path}/roles"))
        .await;
    let mut expected: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut got: Vec<&str> = user["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);

    let logs = app
        .management_get("acme-us", &format!("{path}/logs?per_page=5&sort=date:-1"))
        .await;
    let expected: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["log_id"])
        .collect();
    let got: Vec<&Value> = user["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["id"])
        .collect();
    assert_eq!(got, expected);

    let blocks = app
        .management_get(
            "acme-us",
            &format!("/api/v2/user-blocks/{}", member.replace('|', "%7C")),
        )
        .await;
    assert_eq!(
        user["bruteForceBlocks"].as_array().unwrap().len(),
        blocks["blocked_for"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn brute_force_blocks_are_reported_apart_from_the_admin_block() {
    let app = spawn().await;
    // Find a brute-force-blocked user through the emulator's own API.
    let mut found = None;
    for user in app.users_of("acme-eu") {
        let blocks = app
            .management_get(
                "acme-eu",
                &format!("/api/v2/user-blocks/{}", user.user_id.replace('|', "%7C")),
            )
            .await;
        if !blocks["blocked_for"].as_array().unwrap().is_empty() {
            found = Some((user.user_id, blocks));
            break;
        }
    }
    let (id, blocks) = found.expect("the seed has brute-force-blocked users");
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { bruteForceBlocks { identifier ip connection } } }",
            json!({"id": id}),
        )
        .await;
    let expected: Vec<Value> = blocks["blocked_for"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| json!({"identifier": b["identifier"], "ip": b["ip"], "connection": b["connection"]}))
        .collect();
    assert_eq!(data(&answer)["user"]["bruteForceBlocks"], json!(expected));
}

#[tokio::test]
async fn users_by_email_and_person_gather_accounts_across_tenants() {
    let app = spawn().await;
    let (email, holders) = shared_email(&app);
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { usersByEmail(email: $e) { id tenant { id } }
              person(email: $e) { email name verified accounts { id tenant { id } emailVerified updatedAt name } } }",
            json!({"e": email.to_uppercase()}),
        )
        .await;
    let data = data(&answer);
    let mut expected: Vec<(String, String)> = holders
        .iter()
        .map(|(t, u)| (t.clone(), u.user_id.clone()))
        .collect();
    expected.sort();
    let got: Vec<(String, String)> = data["usersByEmail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["tenant"]["id"].as_str().unwrap().to_owned(),
                u["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected, "ordered by tenant");

    let person = &data["person"];
    assert_eq!(person["email"], email.to_lowercase());
    let accounts = person["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), expected.len());
    let verified = holders.iter().any(|(_, u)| u.email_verified);
    assert_eq!(person["verified"], verified);
    let newest = accounts
        .iter()
        .max_by_key(|a| a["updatedAt"].as_str().unwrap().to_owned())
        .unwrap();
    assert_eq!(person["name"], newest["name"]);
}

#[tokio::test]
async fn person_is_null_for_an_unknown_email_and_bad_emails_are_refused() {
    let app = spawn().await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ person(email: \"nobody@nowhere.example\") { email } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&answer)["person"], Value::Null);
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ usersByEmail(email: \"not an email\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn linked_accounts_are_the_verified_accounts_of_a_verified_email_elsewhere() {
    let app = spawn().await;
    let (email, holders) = shared_email_verified_twice(&app);
    let (tenant, user) = holders.iter().find(|(_, u)| u.email_verified).unwrap();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($t: ID!, $id: ID!) { user(tenant: $t, id: $id) { linkedAccounts { id tenant { id } emailVerified email } } }",
            json!({"t": tenant, "id": user.user_id}),
        )
        .await;
    let linked = data(&answer)["user"]["linkedAccounts"]
        .as_array()
        .unwrap()
        .clone();
    let mut expected: Vec<(String, String)> = holders
        .iter()
        .filter(|(t, u)| t != tenant && u.email_verified)
        .map(|(t, u)| (t.clone(), u.user_id.clone()))
        .collect();
    expected.sort();
    let got: Vec<(String, String)> = linked
        .iter()
        .map(|u| {
            (
                u["tenant"]["id"].as_str().unwrap().to_owned(),
                u["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected, "email {email}");
    assert!(!got.is_empty());
}

#[tokio::test]
async fn me_is_the_end_users_own_profile_without_app_metadata() {
    let app = spawn().await;
    let answer = app
        .query(
            &app.tokens.user,
            "{ me { id tenant { id } email appMetadata userMetadata } }",
            json!({}),
        )
        .await;
    let me = &data(&answer)["me"];
    assert_eq!(me["tenant"]["id"], "acme-eu");
    assert!(me["id"].as_str().unwrap().starts_with("auth0|"));
    assert_eq!(me["appMetadata"], Value::Null);
    assert!(me["userMetadata"].is_object());
    let answer = app
        .query(&app.tokens.global_admin, "{ me { id } }", json!({}))
        .await;
    assert_eq!(data(&answer)["me"], Value::Null, "operators have no `me`");
}

#[tokio::test]
async fn stats_sum_the_tenants_figures() {
    let app = spawn().await;
    let answer = app
        .query(
            &app.tokens.auditor,
            "{ stats(days: 7) { users blockedUsers unverifiedUsers activeUsers
               tenants { tenant { id } users blockedUsers unverifiedUsers activeUsers daily { date logins signups } } } }",
            json!({}),
        )
        .await;
    let stats = &data(&answer)["stats"];
    let tenants = stats["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 3);
    for field in ["users", "blockedUsers", "unverifiedUsers", "activeUsers"] {
        let sum: i64 = tenants.iter().map(|t| t[field].as_i64().unwrap()).sum();
        assert_eq!(stats[field].as_i64().unwrap(), sum, "{field}");
    }
    for tenant in tenants {
        let id = tenant["tenant"]["id"].as_str().unwrap();
        assert_eq!(
            tenant["users"].as_i64().unwrap() as usize,
            app.users_of(id).len()
        );
        let unverified = app
            .users_of(id)
            .iter()
            .filter(|u| !u.email_verified)
            .count();
        assert_eq!(
            tenant["unverifiedUsers"].as_i64().unwrap() as usize,
            unverified
        );
        let active = app.management_get(id, "/api/v2/stats/active-users").await;
        assert_eq!(tenant["activeUsers"], active);
        let daily = tenant["daily"].as_array().unwrap();
        assert_eq!(daily.len(), 7);
        assert!(
            daily
                .windows(2)
                .all(|w| w[0]["date"].as_str() < w[1]["date"].as_str()),
            "oldest first"
        );
    }
    assert!(stats["activeUsers"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn stats_sum_daily_figures_say_what_is_missing_and_take_an_active_window() {
    let app = spawn().await;
    let query = "query($a: Int) { stats(days: 7, activeDays: $a) { activeUsers partial failedTenants
        daily { date logins signups } tenants { tenant { id } activeUsers daily { date logins signups } } } }";
    let answer = app.query(&app.tokens.auditor, query, json!({"a": 7})).await;
    let stats = &data(&answer)["stats"];
    assert_eq!(stats["partial"], false);
    assert_eq!(stats["failedTenants"], json!([]));
    let daily = stats["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7);
    for (day, summed) in daily.iter().enumerate() {
        for field in ["logins", "signups"] {
            let sum: i64 = stats["tenants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["daily"][day][field].as_i64().unwrap())
                .sum();
            assert_eq!(summed[field].as_i64().unwrap(), sum, "{field} of day {day}");
        }
    }
    // Seven days of activity, counted as Auth0 would count them.
    let since = (chrono::Utc::now() - chrono::Duration::days(6)).format("%Y-%m-%d");
    for tenant in stats["tenants"].as_array().unwrap() {
        let id = tenant["tenant"]["id"].as_str().unwrap();
        let counted = app
            .management_get(
                id,
                &format!(
                    "/api/v2/users?search_engine=v3&include_totals=true&per_page=1&q=last_login%3A%5B{since}%20TO%20*%5D"
                ),
            )
            .await;
        assert_eq!(tenant["activeUsers"], counted["total"], "{id}");
    }
    app.take_down("globex");
    let answer = app
        .query(&app.tokens.auditor, query, json!({"a": 30}))
        .await;
    assert_eq!(answer["data"]["stats"]["partial"], true);
    assert_eq!(answer["data"]["stats"]["failedTenants"], json!(["globex"]));
}

#[tokio::test]
async fn an_organization_admin_sees_its_organizations_figures_and_no_tenants() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let denied = app
        .query(&app.tokens.org_admin, "{ stats { users } }", json!({}))
        .await;
    assert_eq!(error_codes(&denied), ["FORBIDDEN"]);
    assert!(
        denied["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("organizationStats")
    );
    let query = "query($o: ID) { organizationStats(organization: $o, days: 7) { organization users blockedUsers unverifiedUsers activeUsers
        daily { date signups } tenants { tenant { id } users } } }";
    let own = app.query(&app.tokens.org_admin, query, json!({})).await;
    let figures = &data(&own)["organizationStats"];
    assert_eq!(figures["organization"], organization.as_str());
    let members = app.members_of("acme-us", &organization);
    assert_eq!(figures["users"].as_u64().unwrap() as usize, members.len());
    let mut blocked = 0;
    let mut unverified = 0;
    for member in &members {
        let profile = app
            .management_get(
                "acme-us",
                &format!("/api/v2/users/{}", member.replace('|', "%7C")),
            )
            .await;
        blocked += usize::from(profile["blocked"] == true);
        unverified += usize::from(profile["email_verified"] != true);
    }
    assert_eq!(figures["blockedUsers"].as_u64().unwrap() as usize, blocked);
    assert_eq!(
        figures["unverifiedUsers"].as_u64().unwrap() as usize,
        unverified
    );
    assert_eq!(figures["daily"].as_array().unwrap().len(), 7);
    assert_eq!(
        figures["tenants"],
        json!([{"tenant": {"id": "acme-us"}, "users": members.len()}])
    );

    let other = app
        .query(
            &app.tokens.org_admin,
            query,
            json!({"o": "org_someone_else"}),
        )
        .await;
    assert_eq!(error_codes(&other), ["FORBIDDEN"]);
    // A tenant-wide operator with read:stats names the organization, and sees the same.
    let theirs = app
        .query(&app.tokens.auditor, query, json!({"o": organization}))
        .await;
    assert_eq!(
        data(&theirs)["organizationStats"]["users"],
        figures["users"]
    );
    let unnamed = app.query(&app.tokens.auditor, query, json!({})).await;
    assert_eq!(error_codes(&unnamed), ["BAD_USER_INPUT"]);
}

/// An email held in at least two tenants, with its holders.
fn shared_email(app: &test_kit::TestApp) -> (String, Vec<(String, tenant_emulator::UserSummary)>) {
    let by_email = holders_by_email(app);
    by_email
        .into_iter()
        .find(|(_, holders)| holders.len() >= 2)
        .expect("the seed shares people across tenants")
}

/// An email verified in at least two tenants.
fn shared_email_verified_twice(
    app: &test_kit::TestApp,
) -> (String, Vec<(String, tenant_emulator::UserSummary)>) {
    holders_by_email(app)
        .into_iter()
        .find(|(_, holders)| holders.iter().filter(|(_, u)| u.email_verified).count() >= 2)
        .expect("the seed has people verified in two tenants")
}

fn holders_by_email(
    app: &test_kit::TestApp,
) -> std::collections::BTreeMap<String, Vec<(String, tenant_emulator::UserSummary)>> {
    let mut by_email = std::collections::BTreeMap::<String, Vec<_>>::new();
    for tenant in ["acme-eu", "acme-us", "globex"] {
        for user in app.users_of(tenant) {
            if let Some(email) = user.email.clone() {
                by_email
                    .entry(email.to_lowercase())
                    .or_default()
                    .push((tenant.to_owned(), user));
            }
        }
    }
    by_email
}
