//! One regression test per hole an attacker found in who-may-see-what: each would pass again
//! if the hole came back.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenant_emulator::{Faults, KeyChoice, MintRequest};
use tenantgraph::demo::AUDIENCE;

use test_kit::{Options, data, error_codes, spawn, spawn_with};

const SEARCH: &str =
    "query($q: String) { searchUsers(query: $q) { totalCount edges { node { id } } } }";

/// Searching a field the caller may not see is refused, naming the field, before any call: a
/// filter, an existence test or a range would read it back value by value.
#[tokio::test]
async fn hidden_fields_cannot_be_searched_in_any_form() {
    let app = spawn().await;
    for token in [&app.tokens.auditor, &app.tokens.org_admin] {
        for query in [
            "app_metadata.plan:gold",
            "_exists_:app_metadata.customer",
            "app_metadata.seats:[10 TO *]",
            "name:a* AND NOT app_metadata.plan:free",
        ] {
            app.reset_counts();
            let answer = app.query(token, SEARCH, json!({"q": query})).await;
            assert_eq!(
                error_codes(&answer),
                ["BAD_USER_INPUT"],
                "{query}: {answer}"
            );
            let message = answer["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("app_metadata"), "{message}");
            assert_eq!(app.total_calls(), 0, "{query}: refused before any call");
        }
    }
    // last_ip goes with read:logs, which the organization admin has and a plain reader not.
    let reader = app
        .env
        .operator_token("Reader", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let answer = app
        .query(&reader, SEARCH, json!({"q": "last_ip:\"10.0.0.1\""}))
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);
    let answer = app
        .query(
            &app.tokens.global_admin,
            SEARCH,
            json!({"q": "app_metadata.plan:pro"}),
        )
        .await;
    assert!(data(&answer)["searchUsers"]["totalCount"].as_i64().unwrap() > 0);
}

/// A member removed from an organization elsewhere is out of its administrator's writes at
/// once, and out of its reads within `cache.admission_ttl`.
#[tokio::test]
async fn a_removed_member_leaves_its_administrators_reach() {
    let app = spawn_with(
        Options::default().gateway(|c| c.cache.admission_ttl = Duration::from_millis(300)),
    )
    .await;
    let organization = app.env.demo_organization().unwrap();
    let member = app
        .fixture_user("acme-us", "leaver@holes.example", Some(&organization))
        .await;
    let read = "query($id: ID!) { user(tenant: \"acme-us\", id: $id) { id } }";
    let write = "mutation($id: ID!) { updateUser(tenant: \"acme-us\", id: $id, input: {nickname: \"x\"}) { id } }";
    let answer = app
        .query(&app.tokens.org_admin, read, json!({"id": member}))
        .await;
    assert_eq!(data(&answer)["user"]["id"], member.as_str());

    let (status, _) = app
        .management(
            "acme-us",
            Method::DELETE,
            &format!("/api/v2/organizations/{organization}/members"),
            Some(json!({"members": [member]})),
        )
        .await;
    assert!(status.is_success());
    let answer = app
        .query(&app.tokens.org_admin, write, json!({"id": member}))
        .await;
    assert_eq!(
        error_codes(&answer),
        ["NOT_FOUND"],
        "the write asks the tenant: {answer}"
    );

    tokio::time::sleep(Duration::from_millis(400)).await;
    let answer = app
        .query(&app.tokens.org_admin, read, json!({"id": member}))
        .await;
    assert_eq!(
        data(&answer)["user"],
        Value::Null,
        "read after admission_ttl"
    );
}

/// An organization administrator cannot attach someone else's address to an account and have
/// it joined with that person.
#[tokio::test]
async fn an_organization_admin_cannot_take_over_a_verified_email() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let member = app
        .fixture_user("acme-us", "member@holes.example", Some(&organization))
        .await;
    let victim = app
        .verified_fixture_user("globex", "victim@holes.example", None)
        .await;
    let update = "mutation($id: ID!, $input: UpdateUserInput!) { updateUser(tenant: \"acme-us\", id: $id, input: $input) { email emailVerified } }";

    let answer = app
        .query(
            &app.tokens.org_admin,
            update,
            json!({"id": member, "input": {"email": "victim@holes.example", "emailVerified": true}}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["FORBIDDEN"]);
    let answer = app
        .query(
            &app.tokens.org_admin,
            update,
            json!({"id": member, "input": {"email": "victim@holes.example"}}),
        )
        .await;
    assert_eq!(
        data(&answer)["updateUser"],
        json!({"email": "victim@holes.example", "emailVerified": false})
    );
    let logs = app
        .management_get(
            "acme-us",
            &format!("/api/v2/users/{}/logs", member.replace('|', "%7C")),
        )
        .await;
    assert!(
        logs.as_array().unwrap().iter().any(|e| e["type"] == "svr"),
        "Auth0 sent the new address its verification email: {logs}"
    );

    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { person(email: $e) { accounts { id } } }",
            json!({"e": "victim@holes.example"}),
        )
        .await;
    assert_eq!(data(&answer)["person"]["accounts"], json!([{"id": victim}]));
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($id: ID!) { user(tenant: \"globex\", id: $id) { linkedAccounts { id } } }",
            json!({"id": victim}),
        )
        .await;
    assert_eq!(data(&answer)["user"]["linkedAccounts"], json!([]));

    // An address taken in the tenant: refused without saying it exists elsewhere.
    app.fixture_user("acme-us", "taken@holes.example", None)
        .await;
    let answer = app
        .query(
            &app.tokens.org_admin,
            update,
            json!({"id": member, "input": {"email": "taken@holes.example"}}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["CONFLICT"]);
    assert_eq!(
        answer["errors"][0]["message"],
        "that email address cannot be used for this account"
    );
}

/// A request whose per-user fields would fan out past the bound is refused before any call.
#[tokio::test]
async fn a_request_that_would_starve_a_tenant_is_refused_before_any_call() {
    let app = spawn().await;
    let refs: Vec<Value> = app
        .users_of("acme-us")
        .iter()
        .take(100)
        .chain(app.users_of("acme-us").iter().take(50))
        .map(|u| json!({"tenant": "acme-us", "id": u.user_id}))
        .collect();
    app.reset_counts();
    let answer = app
        .query(
            &app.tokens.auditor,
            "query($r: [UserRef!]!) { users(refs: $r) { bruteForceBlocks { ip } } }",
            json!({"r": refs}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["QUERY_TOO_COMPLEX"], "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("150 calls") && message.contains("25"),
        "{message}"
    );
    assert_eq!(app.total_calls(), 0);
}

/// One caller's heavy requests take at most its share of a tenant's budget: another caller's
/// single read still finds room. The tenant here allows two calls a second; the greedy caller
/// asks for sixty at once, which without shares would queue every token for longer than a
/// call's deadline.
#[tokio::test]
async fn one_caller_cannot_starve_another() {
    let app = spawn_with(Options::default().gateway(|c| {
        for tenant in &mut c.tenants {
            tenant.rate_limit = tenantgraph::config::TenantRateLimit {
                per_second: 2.0,
                burst: 2,
                caller_share: 0.5,
            };
        }
    }))
    .await;
    let users = app.users_of("acme-eu");
    let greedy = app.tokens.auditor.clone();
    let query = "query($r: [UserRef!]!) { users(refs: $r) { id bruteForceBlocks { identifier } } }";
    let mut heavy = Vec::new();
    for batch in 0..3 {
        let refs: Vec<Value> = users[batch * 20..batch * 20 + 20]
            .iter()
            .map(|u| json!({"tenant": "acme-eu", "id": u.user_id}))
            .collect();
        let (client, url, token) = (app.client.clone(), app.url(), greedy.clone());
        heavy.push(tokio::spawn(async move {
            test_kit::post(&client, &url, Some(&token), query, json!({"r": refs})).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let answer = app
        .query(
            &app.tokens.tenant_admin,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id email } }",
            json!({"id": users[100].user_id}),
        )
        .await;
    eprintln!(
        "the other caller's read answered in {:?}",
        started.elapsed()
    );
    assert_eq!(data(&answer)["user"]["id"], users[100].user_id.as_str());
    for request in heavy {
        let answer = request.await.unwrap();
        // Whatever ran out of budget or time is null with an error naming the tenant, never `[]`.
        for error in answer["errors"].as_array().into_iter().flatten() {
            let code = error["extensions"]["code"].as_str().unwrap();
            assert!(
                ["TENANT_RATE_LIMITED", "TENANT_TIMEOUT"].contains(&code),
                "{error}"
            );
            assert_eq!(error["extensions"]["tenant"], "acme-eu");
        }
    }
}

/// A nested field whose call failed is null with an error, not an empty list that would read
/// as "not blocked".
#[tokio::test]
async fn a_failed_nested_call_is_null_with_an_error() {
    let app = spawn().await;
    let user = app.users_of("acme-eu")[0].user_id.clone();
    app.tenant("acme-eu")
        .control()
        .set_faults(Faults {
            error_rate: 1.0,
            error_status: Some(503),
            paths: vec!["/api/v2/user-blocks".into()],
            ..Faults::default()
        })
        .unwrap();
    let answer = app
        .query(
            &app.tokens.auditor,
            "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id bruteForceBlocks { ip } } }",
            json!({"id": user}),
        )
        .await;
    assert_eq!(answer["data"]["user"]["id"], user.as_str());
    assert_eq!(answer["data"]["user"]["bruteForceBlocks"], Value::Null);
    assert_eq!(error_codes(&answer), ["TENANT_UNAVAILABLE"]);
    assert_eq!(
        answer["errors"][0]["path"],
        json!(["user", "bruteForceBlocks"])
    );
}

/// An operator who may change users but not read them learns nothing through a mutation's
/// result, and the refused write is not made.
#[tokio::test]
async fn a_mutation_result_shows_only_what_the_caller_may_read() {
    let app = spawn().await;
    let writer = app
        .env
        .operator_token("Writer", &["update:users"], json!("*"), None)
        .await
        .unwrap();
    let user = app.users_of("acme-eu")[3].user_id.clone();
    let mutation = |selection: &str| {
        format!(
            "mutation($id: ID!, $n: String) {{ updateUser(tenant: \"acme-eu\", id: $id, input: {{nickname: $n}}) {{ {selection} }} }}"
        )
    };
    let answer = app
        .query(
            &writer,
            &mutation("id tenant { id }"),
            json!({"id": user, "n": "first"}),
        )
        .await;
    assert_eq!(data(&answer)["updateUser"]["id"], user.as_str());
    for selection in [
        "id email",
        "id appMetadata organizations { id }",
        "... on User { name }",
        "bruteForceBlocks { ip }",
    ] {
        let answer = app
            .query(
                &writer,
                &mutation(selection),
                json!({"id": user, "n": "second"}),
            )
            .await;
        assert_eq!(error_codes(&answer), ["FORBIDDEN"], "{selection}: {answer}");
    }
    let stored = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/users/{}", user.replace('|', "%7C")),
        )
        .await;
    assert_eq!(stored["nickname"], "first", "refused writes were not made");
}

/// Addresses are personal data: a block's `ip` and `lastIp` go with `read:logs`, and a user
/// is not shown the address that failed to sign in as them.
#[tokio::test]
async fn addresses_need_read_logs() {
    let app = spawn().await;
    let handle = app.tenant("acme-eu");
    let victim = app
        .users_of("acme-eu")
        .into_iter()
        .find(|u| u.email_verified && u.user_id.starts_with("auth0|"))
        .unwrap();
    let email = victim.email.clone().unwrap();
    for _ in 0..10 {
        let _ = app.env.sign_in(handle, &email, "not-the-password").await;
    }
    let query = "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { bruteForceBlocks { identifier ip } } }";
    let reader = app
        .env
        .operator_token("Reader", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let answer = app
        .query(&reader, query, json!({"id": victim.user_id}))
        .await;
    let blocks = &data(&answer)["user"]["bruteForceBlocks"];
    assert_eq!(blocks[0]["identifier"], email.as_str());
    assert_eq!(blocks[0]["ip"], Value::Null);
    let answer = app
        .query(&app.tokens.auditor, query, json!({"id": victim.user_id}))
        .await;
    assert!(data(&answer)["user"]["bruteForceBlocks"][0]["ip"].is_string());

    let own = handle
        .control()
        .mint_token(MintRequest {
            claims: json!({"sub": victim.user_id, "aud": AUDIENCE})
                .as_object()
                .cloned()
                .unwrap(),
            key: KeyChoice::Tenant,
            kid: None,
        })
        .unwrap();
    let answer = app
        .query(
            &own,
            "{ me { bruteForceBlocks { identifier ip } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&answer)["me"]["bruteForceBlocks"],
        json!([{"identifier": email, "ip": null}])
    );
}

/// Audit events that cannot be appended are logged, counted and shown on /readyz. Linux's
/// `/dev/full` opens and refuses every write (ENOSPC), as a full disk does.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn audit_failures_are_counted_and_shown() {
    let app = spawn_with(Options::default().gateway(|c| {
        c.audit.path = Some("/dev/full".into());
    }))
    .await;
    let user = app.users_of("acme-eu")[0].user_id.clone();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { updateUser(tenant: \"acme-eu\", id: $id, input: {nickname: \"a\"}) { id } }",
            json!({"id": user}),
        )
        .await;
    assert!(
        answer.get("errors").is_none(),
        "the write itself went through"
    );
    let ready: Value = app
        .client
        .get(format!("http://{}/readyz", app.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["audit"], json!({"ok": false, "failures": 1}));
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("tenantgraph_audit_failures_total 1"),
        "{metrics}"
    );
}

/// Persisted documents are never served to a caller without a token, nor to another caller:
/// a hash alone cannot tell anyone what others asked.
#[tokio::test]
async fn persisted_queries_are_not_an_oracle() {
    let app = spawn().await;
    let document = "query { tenants { id } }";
    let hash = sha256_hex(document);
    let persisted = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let by_hash = |token: Option<&str>| {
        let mut request = app
            .client
            .post(app.url())
            .json(&json!({"extensions": persisted}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let answer = app
        .client
        .post(app.url())
        .bearer_auth(&app.tokens.global_admin)
        .json(&json!({"query": document, "extensions": persisted}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let own: Value = by_hash(Some(&app.tokens.global_admin))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(own["data"]["tenants"].is_array(), "{own}");
    let anonymous = by_hash(None).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let other: Value = by_hash(Some(&app.tokens.auditor))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["errors"][0]["message"], "PersistedQueryNotFound");
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}

/// A signing key the operator issuer retired stops being trusted within `auth.jwks_max_age`,
/// even for a token verified before and even if no token names a new key.
#[tokio::test]
async fn a_retired_key_is_trusted_at_most_jwks_max_age() {
    let app = spawn_with(
        Options::default().gateway(|c| c.auth.jwks_max_age = Duration::from_millis(800)),
    )
    .await;
    let token = app
        .env
        .operator_token("Rotated", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let query = "{ tenants { id } }";
    assert!(app.query(&token, query, json!({})).await["data"]["tenants"].is_array());
    app.env.operators.control().rotate_keys(true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let answer = app.query(&token, query, json!({})).await;
    assert_eq!(error_codes(&answer), ["UNAUTHENTICATED"]);
}

/// Ids that would climb the Management API's path are refused before any call.
#[tokio::test]
async fn dot_segment_ids_are_refused_before_any_call() {
    let app = spawn().await;
    for id in [".", "..", ""] {
        app.reset_counts();
        for (query, variables) in [
            (
                "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id } }",
                json!({"id": id}),
            ),
            (
                "query($id: ID!) { users(refs: [{tenant: \"acme-eu\", id: $id}]) { id } }",
                json!({"id": id}),
            ),
            (
                "mutation($id: ID!) { blockUser(tenant: \"acme-eu\", id: $id) { id } }",
                json!({"id": id}),
            ),
        ] {
            let answer = app.query(&app.tokens.global_admin, query, variables).await;
            assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{id:?}: {answer}");
        }
        assert_eq!(app.total_calls(), 0, "{id:?}");
    }
}

/// A stream of bad tokens from one address costs a bounded number of signature checks: past
/// the per-caller budget, the address is turned away before any check.
#[tokio::test]
async fn bad_tokens_spend_their_addresss_budget() {
    let app = spawn_with(Options::default().gateway(|c| {
        c.limits.caller_rate = tenantgraph::config::RateLimitConfig {
            per_second: 1.0,
            burst: 5,
        };
    }))
    .await;
    let known = "{ tenants { id } }";
    assert!(
        app.query(&app.tokens.global_admin, known, json!({})).await["data"]["tenants"].is_array()
    );
    let mut statuses = Vec::new();
    for n in 0..8 {
        let response = app
            .client
            .post(app.url())
            .bearer_auth(format!("not.a.token{n}"))
            .json(&json!({"query": "{ tenants { id } }"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..5], [401; 5]);
    assert_eq!(&statuses[5..], [429; 3]);
    // A caller whose token was verified before, from the same address, is not held back.
    let answer = app
        .query(&app.tokens.global_admin, "{ tenants { id } }", json!({}))
        .await;
    assert!(answer["data"]["tenants"].is_array(), "{answer}");
}

/// Costs never overflow: a document nesting linkedAccounts 28 deep is refused for its depth,
/// not by a panic (debug) or a wrapped-around cost (release).
#[tokio::test]
async fn deep_documents_are_refused_for_their_depth() {
    let app = spawn().await;
    let mut document = String::from("{ user(tenant: \"acme-eu\", id: \"x\") { ");
    document.push_str(&"linkedAccounts { ".repeat(28));
    document.push_str("id");
    document.push_str(&" }".repeat(30));
    app.reset_counts();
    let answer = app
        .query(&app.tokens.global_admin, &document, json!({}))
        .await;
    assert_eq!(error_codes(&answer), ["QUERY_TOO_COMPLEX"]);
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("levels deep"), "{message}");
    assert_eq!(app.total_calls(), 0, "refused before any upstream call");
}

/// `serve`'s defaults are closed: no explorer, no metrics or tenant details on the API address,
/// nothing without a token; the operations address, or the operations token, opens them.
#[tokio::test]
async fn serve_defaults_are_closed() {
    let app = spawn().await;
    let mut toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nops_token_env = \"OPS_TOKEN\"\n\
         [auth]\naudience = \"{AUDIENCE}\"\noperator_issuer = \"{}\"\n\
         operator_jwks_url = \"{}/.well-known/jwks.json\"\n",
        app.env.operators.issuer(),
        app.env.operators.base_url()
    );
    for tenant in &app.env.tenants {
        toml.push_str(&format!(
            "[[tenants]]\nid = \"{}\"\nname = \"x\"\ndomain = \"{}\"\nbase_url = \"{}\"\nclient_id = \"tenantgraph\"\n",
            tenant.tenant(),
            tenant.domain(),
            tenant.base_url()
        ));
    }
    let secrets = |name: &str| {
        Some(
            if name == "OPS_TOKEN" {
                "ops-secret"
            } else {
                "tenantgraph-secret"
            }
            .to_owned(),
        )
    };
    let config = tenantgraph::Config::from_toml(&toml, secrets).unwrap();
    let closed = test_kit::start_gateway(config.clone()).await;
    let get = |url: String, token: Option<&'static str>| {
        let mut request = app.client.get(url).header("accept", "text/html");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let base = format!("http://{}", closed.addr);
    assert_eq!(
        get(format!("{base}/graphql"), None).await.unwrap().status(),
        404
    );
    assert_eq!(
        get(format!("{base}/metrics"), None).await.unwrap().status(),
        404
    );
    assert_eq!(
        get(format!("{base}/metrics"), Some("wrong"))
            .await
            .unwrap()
            .status(),
        404
    );
    let metrics = get(format!("{base}/metrics"), Some("ops-secret"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let ready: Value = get(format!("{base}/readyz"), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({"status": "ready"}));
    let introspection = app
        .client
        .post(closed.url())
        .json(&json!({"query": "{ __schema { types { name } } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(introspection.status(), 401);

    let mut with_ops = config;
    with_ops.server.ops_listen = Some("127.0.0.1:0".parse().unwrap());
    let opened = test_kit::start_gateway(with_ops).await;
    let ops = opened.ops_addr.unwrap();
    let metrics = get(format!("http://{ops}/metrics"), None).await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("tenantgraph_"));
    let ready: Value = get(format!("http://{ops}/readyz"), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["tenants"]["acme-eu"], "UP", "{ready}");
}
