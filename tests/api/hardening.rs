//! Hostile input is refused cheaply, before any tenant is asked: depth, complexity, aliases,
//! body size, batch size, CSRF rules, CORS, per-caller budgets; plus persisted queries,
//! switching introspection and the explorer off, request ids, readiness and metrics.

use serde_json::{Value, json};

use test_kit::{Options, TestApp, data, error_codes, spawn, spawn_with};

async fn post_raw(app: &TestApp, token: &str, body: Value) -> (reqwest::StatusCode, Value) {
    let response = app
        .client
        .post(app.url())
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn deep_complex_and_alias_heavy_documents_are_refused_before_any_upstream_call() {
    let app = spawn().await;
    let token = &app.tokens.global_admin;
    let deep = format!(
        "{{ user(tenant: \"acme-eu\", id: \"x\") {{ {} id {} }} }}",
        "linkedAccounts {".repeat(12),
        "}".repeat(12)
    );
    let aliased: String = (0..300)
        .map(|i| format!("s{i}: searchUsers(query: \"name:a{i}*\") {{ totalCount }} "))
        .collect();
    let expensive = "{ searchUsers(first: 100) { edges { node { id logs(first: 100) { id date type ip } } } } }";
    // Each refusal says what the document measured and the limit it passed: depth apart
    // from cost, cost apart from the calls one tenant would receive.
    for (name, query, says) in [
        (
            "deep",
            deep,
            "nests more than 10 levels deep; at most 10 are allowed",
        ),
        (
            "300 aliased searches",
            format!("{{ {aliased} }}"),
            "aliased",
        ),
        (
            "costly",
            expensive.to_owned(),
            "the document costs 40411; at most 5000 is allowed",
        ),
    ] {
        app.reset_counts();
        let answer = app.query(token, &query, json!({})).await;
        assert_eq!(
            error_codes(&answer),
            ["QUERY_TOO_COMPLEX"],
            "{name}: {answer}"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
        assert_eq!(app.total_calls(), 0, "{name}");
    }
    let few_aliases: String = (0..40)
        .map(|i| format!("u{i}: tenants {{ id }} "))
        .collect();
    let answer = app
        .query(token, &format!("{{ {few_aliases} }}"), json!({}))
        .await;
    assert_eq!(
        error_codes(&answer),
        ["QUERY_TOO_COMPLEX"],
        "40 aliases are more than 30"
    );
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliased")
    );
}

#[tokio::test]
async fn a_page_of_a_hundred_users_with_their_organizations_is_allowed() {
    let app = spawn().await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "{ searchUsers(first: 100) { totalCount edges { cursor node { id email name createdAt organizations { id name displayName } roles { id name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&answer)["searchUsers"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
}

#[tokio::test]
async fn bodies_and_batches_are_bounded() {
    let app = spawn().await;
    let token = &app.tokens.global_admin;
    let huge = json!({"query": "{ tenants { id } }", "variables": {"pad": "x".repeat(1_100_000)}});
    let (status, answer) = post_raw(&app, token, huge).await;
    assert_eq!(status, 413);
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"]);

    let one = json!({"query": "{ tenants { id } }"});
    let (status, answer) = post_raw(&app, token, json!([one, one])).await;
    assert_eq!(status, 200);
    assert_eq!(answer.as_array().unwrap().len(), 2);
    let (status, answer) = post_raw(&app, token, Value::Array(vec![one.clone(); 11])).await;
    assert_eq!(status, 400);
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 10")
    );
}

#[tokio::test]
async fn simple_cross_site_posts_and_mutations_over_get_are_refused() {
    let app = spawn().await;
    let token = &app.tokens.global_admin;
    let body = r#"{"query":"{ tenants { id } }"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .post(app.url())
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    let response = app
        .client
        .post(app.url())
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .header("apollo-require-preflight", "true")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "a custom header forces a preflight, so it is allowed"
    );

    let user = &app.users_of("acme-eu")[0];
    let mutation = format!(
        "mutation {{ blockUser(tenant: \"acme-eu\", id: \"{}\") {{ id }} }}",
        user.user_id
    );
    app.reset_counts();
    let answer: Value = app
        .client
        .get(app.url())
        .bearer_auth(token)
        .query(&[("query", mutation.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer}");
    assert_eq!(app.total_calls(), 0, "nothing was written");
    let answer: Value = app
        .client
        .get(app.url())
        .bearer_auth(token)
        .query(&[("query", "{ tenants { id } }")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        data(&answer)["tenants"].as_array().unwrap().len(),
        3,
        "queries over GET work"
    );
}

#[tokio::test]
async fn cors_answers_only_allowed_origins() {
    let app = spawn_with(
        Options::default()
            .gateway(|c| c.server.cors_origins = vec!["https://admin.example".into()]),
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url())
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://admin.example").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://admin.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn each_caller_has_its_own_budget() {
    let app = spawn_with(Options::default().gateway(|c| {
        c.limits.caller_rate.per_second = 0.5;
        c.limits.caller_rate.burst = 3;
    }))
    .await;
    for _ in 0..3 {
        let answer = app
            .query(&app.tokens.auditor, "{ tenants { id } }", json!({}))
            .await;
        data(&answer);
    }
    let response = app
        .client
        .post(app.url())
        .bearer_auth(&app.tokens.auditor)
        .json(&json!({"query": "{ tenants { id } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(error_codes(&answer), ["RATE_LIMITED"]);
    let other = app
        .query(&app.tokens.global_admin, "{ tenants { id } }", json!({}))
        .await;
    assert_eq!(
        data(&other)["tenants"].as_array().unwrap().len(),
        3,
        "another caller is unaffected"
    );
}

#[tokio::test]
async fn automatic_persisted_queries_follow_apollos_protocol() {
    let app = spawn().await;
    let token = &app.tokens.global_admin;
    let query = "{ tenants { id } }";
    let hash = {
        use sha2::{Digest, Sha256};
        format!("{:x}", Sha256::digest(query.as_bytes()))
    };
    let persisted = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let (_, answer) = post_raw(&app, token, json!({"extensions": persisted})).await;
    assert_eq!(
        answer["errors"][0]["message"], "PersistedQueryNotFound",
        "{answer}"
    );
    let (_, answer) = post_raw(
        &app,
        token,
        json!({"query": query, "extensions": persisted}),
    )
    .await;
    assert_eq!(data(&answer)["tenants"].as_array().unwrap().len(), 3);
    let (_, answer) = post_raw(&app, token, json!({"extensions": persisted})).await;
    assert_eq!(
        data(&answer)["tenants"].as_array().unwrap().len(),
        3,
        "the hash alone now runs the query"
    );
    let get: Value = app
        .client
        .get(app.url())
        .bearer_auth(token)
        .query(&[("extensions", persisted.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        data(&get)["tenants"].as_array().unwrap().len(),
        3,
        "and over GET"
    );
}

#[tokio::test]
async fn introspection_and_the_explorer_can_be_switched_off() {
    let on = spawn().await;
    let html = on
        .client
        .get(on.url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(html.text().await.unwrap().contains("tenantgraph explorer"));
    let answer = on
        .query(
            &on.tokens.auditor,
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&answer)["__schema"]["queryType"]["name"], "Query");

    let off = spawn_with(Options::default().gateway(|c| {
        c.server.introspection = false;
        c.server.graphiql = false;
    }))
    .await;
    let html = off
        .client
        .get(off.url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 404);
    let answer = off
        .query(
            &off.tokens.auditor,
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        answer["data"]["__schema"],
        Value::Null,
        "no schema is revealed: {answer}"
    );
}

#[tokio::test]
async fn request_ids_are_returned_and_sent_to_every_upstream_call() {
    let app = spawn().await;
    let refs: Vec<Value> = ["acme-eu", "acme-us", "globex"]
        .iter()
        .flat_map(|t| {
            app.users_of(t)
                .into_iter()
                .take(3)
                .map(move |u| json!({"tenant": t, "id": u.user_id}))
        })
        .collect();
    let response = app
        .client
        .post(app.url())
        .bearer_auth(&app.tokens.global_admin)
        .header("x-request-id", "trace-me-42")
        .json(&json!({"query": "query($r: [UserRef!]!) { users(refs: $r) { id organizations { id } } }", "variables": {"r": refs}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "trace-me-42"
    );
    data(&response.json::<Value>().await.unwrap());
    for tenant in ["acme-eu", "acme-us", "globex"] {
        let recent: Vec<_> = app
            .tenant(tenant)
            .control()
            .recent_requests()
            .into_iter()
            .filter(|r| r.route != "POST /oauth/token")
            .collect();
        assert!(!recent.is_empty());
        assert!(
            recent
                .iter()
                .all(|r| r.request_id.as_deref() == Some("trace-me-42")),
            "{tenant}: {recent:?}"
        );
    }
    let made = app
        .client
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(
        made.headers().get("x-request-id").unwrap().len(),
        32,
        "one is made when none is given"
    );
}

#[tokio::test]
async fn readiness_reports_each_tenant() {
    let app = spawn().await;
    let ready: Value = app
        .client
        .get(format!("http://{}/readyz", app.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready,
        json!({
            "status": "ready",
            "tenants": {"acme-eu": "UP", "acme-us": "UP", "globex": "UP"},
            "reasons": {},
            "audit": {"ok": true, "failures": 0},
        })
    );
    app.take_down("globex");
    for _ in 0..4 {
        app.query(
            &app.tokens.global_admin,
            "{ searchUsers { totalCount } }",
            json!({}),
        )
        .await;
    }
    let ready: Value = app
        .client
        .get(format!("http://{}/readyz", app.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["tenants"]["globex"], "DOWN");
    assert_eq!(
        ready["reasons"]["globex"],
        "unreachable: circuit open after repeated failures"
    );
    assert_eq!(ready["tenants"]["acme-eu"], "UP");
}

#[tokio::test]
async fn metrics_expose_every_family_with_its_labels() {
    let app = spawn().await;
    let refs: Vec<Value> = app
        .users_of("acme-eu")
        .into_iter()
        .take(5)
        .map(|u| json!({"tenant": "acme-eu", "id": u.user_id}))
        .collect();
    for _ in 0..2 {
        app.query(
            &app.tokens.global_admin,
            "query Page($r: [UserRef!]!) { users(refs: $r) { id } }",
            json!({"r": refs}),
        )
        .await;
    }
    let text = app.metrics().await;
    for needle in [
        "tenantgraph_upstream_requests_total{tenant=\"acme-eu\",endpoint=\"GET /api/v2/users\",status=\"200\"} 1",
        "tenantgraph_upstream_request_duration_seconds_count{tenant=\"acme-eu\",endpoint=\"GET /api/v2/users\"} 1",
        "tenantgraph_cache_requests_total{cache=\"profiles\",result=\"hit\"} 5",
        "tenantgraph_cache_requests_total{cache=\"profiles\",result=\"miss\"} 5",
        "tenantgraph_graphql_requests_total{operation=\"Page\",outcome=\"ok\"} 2",
        "tenantgraph_graphql_request_duration_seconds_count 2",
        "tenantgraph_loader_batch_size_count 1",
        "tenantgraph_tenant_status{tenant=\"globex\"} 0",
    ] {
        assert!(text.contains(needle), "missing {needle}\n{text}");
    }
}

#[tokio::test]
async fn documents_seen_before_are_still_checked_where_it_matters() {
    let app = spawn().await;
    let token = &app.tokens.global_admin;
    let user = &app.users_of("acme-eu")[0];
    let query = "query($id: ID!, $n: Int) { user(tenant: \"acme-eu\", id: $id) { id logs(first: $n) { id } } }";
    for _ in 0..2 {
        let answer = app
            .query(token, query, json!({"id": user.user_id, "n": 2}))
            .await;
        assert_eq!(data(&answer)["user"]["id"], user.user_id.as_str());
    }
    // The document is known now; wrong variables are still refused, with a code.
    for variables in [
        json!({"id": null}),
        json!({"id": user.user_id, "n": "two"}),
        json!({}),
    ] {
        let answer = app.query(token, query, variables.clone()).await;
        let codes = error_codes(&answer);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "BAD_USER_INPUT"),
            "{variables}: {answer}"
        );
    }
    // An invalid document never becomes known.
    for _ in 0..2 {
        let answer = app
            .query(token, "{ tenants { id nosuchfield } }", json!({}))
            .await;
        assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer}");
        assert_eq!(answer["data"], Value::Null);
    }
}
