//! The authorization matrix of reads: every persona × every field of `User` (nested ones
//! included) × every way to reach a user (`user`, `users`, `searchUsers`, `me`) × a target in
//! and out of reach, against the table of docs/ARCHITECTURE.md written out again here, so that
//! a change to the gateway's table shows as a failure; and every searchable field × persona,
//! which may filter on exactly what it may see.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tenant_emulator::{KeyChoice, MintRequest};
use tenantgraph::demo::AUDIENCE;

use test_kit::{Options, TestApp, spawn, spawn_with};

/// What a persona may do, as the design says.
#[derive(Debug, Clone)]
struct Persona {
    name: &'static str,
    token: String,
    /// An end user reading itself.
    owner: bool,
    permissions: BTreeSet<&'static str>,
}

impl Persona {
    fn has(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }
}

/// The outcome the design gives one field of a user in reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sight {
    Shown,
    /// Null without an error (`appMetadata`, `lastIp`, a block's `ip`).
    Null,
    /// Null with FORBIDDEN at the field.
    Refused,
}

/// Every field of `User`, as selected in a document.
const FIELDS: [(&str, &str); 26] = [
    ("id", "id"),
    ("tenant", "tenant { id }"),
    ("email", "email"),
    ("emailVerified", "emailVerified"),
    ("username", "username"),
    ("phoneNumber", "phoneNumber"),
    ("name", "name"),
    ("nickname", "nickname"),
    ("givenName", "givenName"),
    ("familyName", "familyName"),
    ("picture", "picture"),
    ("identities", "identities { connection }"),
    ("createdAt", "createdAt"),
    ("updatedAt", "updatedAt"),
    ("lastLogin", "lastLogin"),
    ("lastIp", "lastIp"),
    ("loginsCount", "loginsCount"),
    ("blocked", "blocked"),
    ("userMetadata", "userMetadata"),
    ("appMetadata", "appMetadata"),
    ("organizations", "organizations { id }"),
    ("roles", "roles { id }"),
    ("logs", "logs(first: 5) { id }"),
    ("bruteForceBlocks", "bruteForceBlocks { identifier }"),
    ("bruteForceBlocks.ip", "bruteForceBlocks { ip }"),
    ("linkedAccounts", "linkedAccounts { id }"),
];

/// The table of docs/ARCHITECTURE.md "Who may see and change what".
fn expected(persona: &Persona, field: &str) -> Sight {
    let reader = persona.owner || persona.has("read:users");
    let operator_with = |p| !persona.owner && persona.has("read:users") && persona.has(p);
    let shown = |yes: bool, otherwise: Sight| if yes { Sight::Shown } else { otherwise };
    match field {
        "id" | "tenant" => Sight::Shown,
        "lastIp" => shown(persona.owner || operator_with("read:logs"), Sight::Null),
        "bruteForceBlocks.ip" => shown(operator_with("read:logs"), Sight::Null),
        "appMetadata" => shown(operator_with("read:users_app_metadata"), Sight::Null),
        "logs" => shown(operator_with("read:logs"), Sight::Refused),
        "linkedAccounts" => shown(operator_with("read:users"), Sight::Refused),
        _ => shown(reader, Sight::Refused),
    }
}

/// A target user: a database user of `tenant` with a brute-force block against it, whose
/// verified email a globex account (the anchor) verified too.
struct Target {
    tenant: &'static str,
    id: String,
    email: String,
    anchor: String,
}

async fn blocked_user(app: &TestApp, tenant: &'static str, member_of: Option<&str>) -> Target {
    let email = format!("matrix.{tenant}@reads.example");
    let anchor = app.verified_fixture_user("globex", &email, None).await;
    let id = match member_of {
        Some(organization) => {
            app.verified_fixture_user(tenant, &email, Some(organization))
                .await
        }
        None => app.verified_fixture_user(tenant, &email, None).await,
    };
    let handle = app.tenant(tenant);
    for _ in 0..10 {
        let _ = app.env.sign_in(handle, &email, "not-the-password").await;
    }
    Target {
        tenant,
        id,
        email,
        anchor,
    }
}

fn end_user_token(app: &TestApp, target: &Target) -> String {
    app.tenant(target.tenant)
        .control()
        .mint_token(MintRequest {
            claims: json!({"sub": target.id, "aud": AUDIENCE})
                .as_object()
                .cloned()
                .unwrap(),
            key: KeyChoice::Tenant,
            kid: None,
        })
        .unwrap()
}

async fn operator(app: &TestApp, name: &'static str, permissions: &[&'static str]) -> Persona {
    Persona {
        name,
        token: app
            .env
            .operator_token(name, permissions, json!("*"), None)
            .await
            .unwrap(),
        owner: false,
        permissions: permissions.iter().copied().collect(),
    }
}

/// The documents reaching `target` with `selection`, and where the user is in each answer:
/// at the root, in a list, in a search, as a person's account and (for callers reaching
/// globex) as the anchor's linked account.
fn ways(target: &Target, selection: &str, owner: bool, linked: bool) -> Vec<(String, Vec<Value>)> {
    if owner {
        return vec![(format!("{{ me {{ {selection} }} }}"), vec![json!("me")])];
    }
    let (tenant, id) = (target.tenant, target.id.as_str());
    let mut ways = vec![
        (
            format!("{{ user(tenant: \"{tenant}\", id: \"{id}\") {{ {selection} }} }}"),
            vec![json!("user")],
        ),
        (
            format!(
                "{{ users(refs: [{{tenant: \"{tenant}\", id: \"{id}\"}}]) {{ {selection} }} }}"
            ),
            vec![json!("users"), json!(0)],
        ),
        (
            format!(
                "{{ searchUsers(tenants: [\"{tenant}\"], query: {}) {{ edges {{ node {{ {selection} }} }} }} }}",
                serde_json::to_string(&format!("user_id:{}", search_query::quote(id))).unwrap()
            ),
            vec![
                json!("searchUsers"),
                json!("edges"),
                json!(0),
                json!("node"),
            ],
        ),
        (
            format!(
                "{{ person(email: \"{}\") {{ accounts {{ {selection} }} }} }}",
                target.email
            ),
            // Accounts are ordered by tenant: the target's comes before globex's.
            vec![json!("person"), json!("accounts"), json!(0)],
        ),
    ];
    if linked {
        ways.push((
            format!(
                "{{ user(tenant: \"globex\", id: \"{}\") {{ linkedAccounts {{ {selection} }} }} }}",
                target.anchor
            ),
            vec![json!("user"), json!("linkedAccounts"), json!(0)],
        ));
    }
    ways
}

fn at<'a>(value: &'a Value, path: &[Value]) -> &'a Value {
    path.iter().fold(value, |v, key| match key {
        Value::String(k) => &v[k.as_str()],
        Value::Number(n) => &v[n.as_u64().unwrap() as usize],
        _ => &Value::Null,
    })
}

fn errors_at(answer: &Value, path: &[Value]) -> Vec<String> {
    answer["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["path"].as_array().is_some_and(|p| p.starts_with(path)))
        .map(|e| e["extensions"]["code"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn every_persona_sees_exactly_the_fields_the_table_grants() {
    // Hundreds of requests per persona: the per-caller budget is not what is tested here.
    let app = spawn_with(Options::default().gateway(|c| {
        c.limits.caller_rate.per_second = 1e6;
        c.limits.caller_rate.burst = 1_000_000;
    }))
    .await;
    let organization = app.env.demo_organization().unwrap();
    let us = blocked_user(&app, "acme-us", Some(&organization)).await;
    let eu = blocked_user(&app, "acme-eu", None).await;
    let all = tenantgraph::demo::ALL_PERMISSIONS;
    let personas = vec![
        (operator(&app, "global", &all).await, &us),
        (operator(&app, "reader", &["read:users"]).await, &eu),
        (
            operator(&app, "logs reader", &["read:users", "read:logs"]).await,
            &us,
        ),
        (
            operator(
                &app,
                "metadata reader",
                &["read:users", "read:users_app_metadata"],
            )
            .await,
            &eu,
        ),
        (
            Persona {
                name: "org admin",
                token: app.tokens.org_admin.clone(),
                owner: false,
                permissions: ["read:users", "update:users", "block:users", "read:logs"].into(),
            },
            &us,
        ),
        (
            Persona {
                name: "auditor",
                token: app.tokens.auditor.clone(),
                owner: false,
                permissions: ["read:users", "read:logs", "read:stats"].into(),
            },
            &eu,
        ),
        (
            Persona {
                name: "end user",
                token: end_user_token(&app, &eu),
                owner: true,
                permissions: BTreeSet::new(),
            },
            &eu,
        ),
    ];
    let truth = app
        .management_get(
            "acme-us",
            &format!("/api/v2/users/{}", us.id.replace('|', "%7C")),
        )
        .await;
    let mut cells = 0;
    for (persona, target) in &personas {
        for (field, selection) in FIELDS {
            let want = expected(persona, field);
            let linked = !persona.owner && persona.name != "org admin";
            for (document, path) in ways(target, selection, persona.owner, linked) {
                let answer = app.query(&persona.token, &document, json!({})).await;
                let user = at(&answer["data"], &path);
                assert!(
                    user.is_object(),
                    "{} · {field}: the user is in reach: {answer}",
                    persona.name
                );
                let key = field.split('.').next().unwrap();
                let mut value = &user[key];
                if field == "bruteForceBlocks.ip" {
                    value = &value[0]["ip"];
                }
                let mut field_path = path.clone();
                field_path.push(json!(key));
                let errors = errors_at(&answer, &field_path);
                let cell = format!("{} · {field} · {document}: {answer}", persona.name);
                match want {
                    Sight::Shown => {
                        assert!(errors.is_empty(), "{cell}");
                        if field == "bruteForceBlocks.ip" {
                            assert!(value.is_string(), "{cell}");
                        }
                        if target.tenant == "acme-us" {
                            match field {
                                "email" => assert_eq!(value, &truth["email"], "{cell}"),
                                "lastIp" => assert_eq!(value, &truth["last_ip"], "{cell}"),
                                _ => {}
                            }
                        }
                    }
                    Sight::Null => {
                        assert!(errors.is_empty(), "{cell}");
                        assert_eq!(value, &Value::Null, "{cell}");
                    }
                    Sight::Refused => {
                        assert_eq!(errors, ["FORBIDDEN"], "{cell}");
                        assert_eq!(value, &Value::Null, "{cell}");
                    }
                }
                cells += 1;
            }
        }
    }
    // Five operators reach a user five ways, the organization admin four, the end user one.
    assert_eq!(cells, 26 * (5 * 5 + 4 + 1));
}

#[tokio::test]
async fn a_user_out_of_reach_shows_nothing_whichever_way_it_is_asked() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let members = app.members_of("acme-us", &organization);
    let outsider_us = app
        .users_of("acme-us")
        .into_iter()
        .find(|u| !members.contains(&u.user_id))
        .unwrap();
    let outsider = Target {
        tenant: "acme-us",
        id: outsider_us.user_id,
        email: outsider_us.email.unwrap_or_default(),
        anchor: String::new(),
    };
    let selection = "id email appMetadata";
    for (name, token) in [
        ("org admin", &app.tokens.org_admin),
        ("tenant admin", &app.tokens.tenant_admin),
    ] {
        for (document, path) in ways(&outsider, selection, false, false) {
            let answer = app.query(token, &document, json!({})).await;
            let cell = format!("{name} · {document}: {answer}");
            assert!(!answer.to_string().contains(&outsider.id), "{cell}");
            if path[0] == "person" {
                let accounts = &answer["data"]["person"]["accounts"];
                assert!(
                    accounts.is_null() || !accounts.to_string().contains(&outsider.id),
                    "{cell}"
                );
            } else if name == "tenant admin" {
                // acme-us is not its tenant: naming it is refused like naming an unknown one.
                assert_eq!(test_kit::error_codes(&answer), ["BAD_USER_INPUT"], "{cell}");
            } else if path[0] == "searchUsers" {
                assert_eq!(answer["data"]["searchUsers"]["edges"], json!([]), "{cell}");
            } else {
                assert!(answer.get("errors").is_none(), "{cell}");
                assert_eq!(at(&answer["data"], &path), &Value::Null, "{cell}");
            }
        }
    }
    // The end user reaches no one but itself.
    let answer = app
        .query(
            &app.tokens.user,
            &format!(
                "{{ user(tenant: \"acme-eu\", id: \"{}\") {{ id }} }}",
                app.users_of("acme-eu")[0].user_id
            ),
            json!({}),
        )
        .await;
    assert_eq!(test_kit::error_codes(&answer), ["FORBIDDEN"]);
}

/// Every searchable field, by persona: a caller may filter on exactly what it may see.
#[tokio::test]
async fn every_search_field_is_allowed_exactly_to_those_who_see_it() {
    let app = spawn().await;
    let all = tenantgraph::demo::ALL_PERMISSIONS;
    let personas = [
        operator(&app, "global", &all).await,
        operator(&app, "reader", &["read:users"]).await,
        operator(&app, "logs reader", &["read:users", "read:logs"]).await,
        operator(
            &app,
            "metadata reader",
            &["read:users", "read:users_app_metadata"],
        )
        .await,
    ];
    // (query, the field of the table it reads; `None`: never searchable here).
    let searches: [(&str, Option<&str>); 24] = [
        ("user_id:\"auth0|x\"", Some("id")),
        ("email:a*", Some("email")),
        ("email.domain:\"example.com\"", Some("email")),
        ("email_verified:true", Some("emailVerified")),
        ("username:a*", Some("username")),
        ("phone_number:\"+1\"", Some("phoneNumber")),
        ("name:a*", Some("name")),
        ("nickname:a*", Some("nickname")),
        ("given_name:a*", Some("givenName")),
        ("family_name:a*", Some("familyName")),
        ("picture:\"x\"", Some("picture")),
        (
            "identities.connection:\"google-oauth2\"",
            Some("identities"),
        ),
        ("created_at:[2020-01-01 TO *]", Some("createdAt")),
        ("updated_at:[2020-01-01 TO *]", Some("updatedAt")),
        ("last_login:[2020-01-01 TO *]", Some("lastLogin")),
        ("logins_count:[1 TO *]", Some("loginsCount")),
        ("blocked:true", Some("blocked")),
        ("user_metadata.language:fr", Some("userMetadata")),
        ("_exists_:user_metadata.address", Some("userMetadata")),
        ("last_ip:\"10.0.0.1\"", Some("lastIp")),
        ("app_metadata.plan:gold", Some("appMetadata")),
        ("_exists_:app_metadata.customer", Some("appMetadata")),
        ("last_password_reset:[2020-01-01 TO *]", None),
        ("multifactor:guardian", None),
    ];
    for persona in &personas {
        for (query, field) in searches {
            let allowed = field.is_some_and(|f| expected(persona, f) == Sight::Shown);
            app.reset_counts();
            let answer = app
                .query(
                    &persona.token,
                    "query($q: String) { searchUsers(query: $q, first: 1) { totalCount } }",
                    json!({"q": query}),
                )
                .await;
            let cell = format!("{} · {query}: {answer}", persona.name);
            if allowed {
                assert!(answer.get("errors").is_none(), "{cell}");
            } else {
                assert_eq!(test_kit::error_codes(&answer), ["BAD_USER_INPUT"], "{cell}");
                assert_eq!(app.total_calls(), 0, "{cell}");
            }
        }
    }
}
