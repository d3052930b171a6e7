//! OpenTelemetry traces: the span of each operation continues the caller's `traceparent`, each
//! call to a tenant is its child with the route template, status and retries, the trace context
//! reaches the tenant with every request, and no attribute carries an email, a user id or a
//! token. Spans go to an OTLP receiver in the test; acme-eu sits behind a recording proxy, so
//! what it was sent can be read without changing it. Without telemetry, nothing of the caller's
//! trace goes upstream.
//!
//! Each test installs its subscriber for its own thread (`#[tokio::test]` runs every task of the
//! test there), so the tests of this binary do not see each other's spans.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use tenant_emulator::Faults;
use tenantgraph::config::TelemetryConfig;
use tenantgraph::demo::Environment;
use tenantgraph::telemetry::{Settings, Telemetry};
use test_kit::{
    OtlpReceiver, ReceivedSpan, RecordingProxy, RunningGateway, data, error_codes, fast_failing,
    start_gateway,
};
use tracing_subscriber::layer::SubscriberExt;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";
const TRACESTATE: &str = "vendor=opaque-value";

const PROFILE: &str = "query Profile($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id email } }";

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{CLIENT_SPAN_ID}-01")
}

/// Emulated tenants, a gateway with acme-eu behind a recording proxy, and an operator's token.
struct Setup {
    env: Environment,
    token: String,
    proxy: RecordingProxy,
    gateway: RunningGateway,
    client: reqwest::Client,
}

impl Setup {
    async fn start(seed: u64) -> Self {
        let env = Environment::start(30, seed, |_| {}).await.unwrap();
        let token = env
            .operator_token("Tracer", &["read:users", "update:users"], json!("*"), None)
            .await
            .unwrap();
        let proxy = RecordingProxy::start(&env.tenant("acme-eu").unwrap().base_url()).await;
        let mut config = env.gateway_config(SocketAddr::from(([127, 0, 0, 1], 0)));
        fast_failing(&mut config);
        for tenant in &mut config.tenants {
            if tenant.id == "acme-eu" {
                tenant.base_url = Some(proxy.url());
            }
        }
        let gateway = start_gateway(config).await;
        Self {
            env,
            token,
            proxy,
            gateway,
            client: reqwest::Client::new(),
        }
    }

    /// A user of acme-eu with an email: (id, email).
    fn user(&self, index: usize) -> (String, String) {
        let user = self
            .env
            .tenant("acme-eu")
            .unwrap()
            .control()
            .users(100, 0)
            .users
            .into_iter()
            .filter(|u| u.email.is_some())
            .nth(index)
            .unwrap();
        (user.user_id, user.email.unwrap())
    }

    /// Posts `body` with the operator's token and `headers`.
    async fn post(&self, body: Value, headers: &[(&str, &str)]) -> Value {
        let mut request = self
            .client
            .post(self.gateway.url())
            .bearer_auth(&self.token)
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// `POST`s `query` with `variables`, continuing the client's trace.
    async fn traced(&self, query: &str, variables: Value) -> Value {
        self.post(
            json!({"query": query, "variables": variables}),
            &[("traceparent", &traceparent()), ("tracestate", TRACESTATE)],
        )
        .await
    }
}

/// A trace pipeline to an OTLP receiver, installed for this thread only.
struct Tracing {
    receiver: OtlpReceiver,
    telemetry: Telemetry,
    _installed: tracing::subscriber::DefaultGuard,
}

impl Tracing {
    async fn install() -> Self {
        let receiver = OtlpReceiver::start().await;
        let config = TelemetryConfig {
            otlp_endpoint: Some(receiver.endpoint()),
            service_name: Some("tenantgraph-under-test".into()),
            sample_ratio: None,
        };
        // The process's own variables must not decide for the test.
        let settings = Settings::resolve(&config, |_| None).unwrap().unwrap();
        let telemetry = Telemetry::start(&settings).unwrap();
        let subscriber = tracing_subscriber::registry().with(telemetry.layer());
        let installed = tracing::subscriber::set_default(subscriber);
        Self {
            receiver,
            telemetry,
            _installed: installed,
        }
    }

    /// Flushes until the spans received satisfy `done`.
    async fn spans_until(&self, done: impl Fn(&[ReceivedSpan]) -> bool) -> Vec<ReceivedSpan> {
        for _ in 0..100 {
            self.telemetry.flush().await.unwrap();
            let spans = self.receiver.spans();
            if done(&spans) {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the spans expected never arrived; got {:#?}",
            self.receiver.spans()
        )
    }
}

fn named<'a>(spans: &'a [ReceivedSpan], name: &str) -> Vec<&'a ReceivedSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found = named(spans, name);
    assert_eq!(found.len(), 1, "one span {name}: {spans:#?}");
    found[0]
}

fn children<'a>(spans: &'a [ReceivedSpan], parent: &ReceivedSpan) -> Vec<&'a ReceivedSpan> {
    spans
        .iter()
        .filter(|s| s.trace_id == parent.trace_id && s.parent_span_id == parent.span_id)
        .collect()
}

/// No span name, attribute or resource attribute holds any of `secrets`, and none is one of
/// the attributes that would carry a path, a document or a body.
fn assert_nothing_sensitive(spans: &[ReceivedSpan], secrets: &[&str]) {
    for span in spans {
        for forbidden in [
            "url.full",
            "url.path",
            "url.query",
            "http.url",
            "http.target",
            "graphql.document",
            "enduser.id",
        ] {
            assert!(
                !span.attributes.contains_key(forbidden),
                "{forbidden} on {span:#?}"
            );
        }
        let texts = std::iter::once(&span.name)
            .chain(span.attributes.keys())
            .chain(span.attributes.values())
            .chain(span.resource.values())
            .chain(std::iter::once(&span.status_message));
        for text in texts {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                assert!(
                    !text.contains(secret),
                    "`{secret}` in `{text}` of {span:#?}"
                );
            }
            for marker in ["eyJ", "Bearer", "tenantgraph-secret", "@"] {
                assert!(!text.contains(marker), "`{marker}` in `{text}`");
            }
        }
    }
}

/// Every secret a test can see: the user's id (as sent and percent-encoded) and email, the
/// caller's token, and the management token the gateway sent the tenant.
fn secrets<'a>(setup: &'a Setup, user: &'a (String, String)) -> Vec<String> {
    let mut secrets = vec![
        user.0.clone(),
        user.0.replace('|', "%7C"),
        user.1.clone(),
        setup.token.clone(),
    ];
    for request in setup.proxy.requests() {
        if let Some(authorization) = request.header("authorization") {
            secrets.push(authorization.trim_start_matches("Bearer ").to_owned());
        }
    }
    secrets
}

#[tokio::test]
async fn an_operation_continues_the_callers_trace_down_to_the_tenant() {
    let tracing = Tracing::install().await;
    let setup = Setup::start(21).await;
    let user = setup.user(0);

    let answer = setup.traced(PROFILE, json!({"id": user.0})).await;
    assert_eq!(data(&answer)["user"]["email"], user.1.as_str());

    let spans = tracing
        .spans_until(|s| {
            !named(s, "query Profile").is_empty()
                && !named(s, "GET /api/v2/users/{id}").is_empty()
                && !named(s, "POST /oauth/token").is_empty()
        })
        .await;

    let operation = one(&spans, "query Profile");
    assert_eq!(operation.kind, "server");
    assert_eq!(operation.trace_id, TRACE_ID, "the caller's trace");
    assert_eq!(
        operation.parent_span_id, CLIENT_SPAN_ID,
        "the caller's span"
    );
    assert_eq!(operation.attribute("graphql.operation.type"), Some("query"));
    assert_eq!(
        operation.attribute("graphql.operation.name"),
        Some("Profile")
    );
    assert_eq!(operation.attribute("tenantgraph.outcome"), Some("ok"));
    assert_eq!(operation.attribute("error.type"), None);
    assert_eq!(operation.status, "unset");
    assert_eq!(
        operation.resource.get("service.name").map(String::as_str),
        Some("tenantgraph-under-test")
    );
    assert_eq!(operation.scope, "tenantgraph");

    let call = one(&spans, "GET /api/v2/users/{id}");
    assert_eq!(call.kind, "client");
    assert_eq!(call.trace_id, TRACE_ID);
    assert_eq!(
        call.parent_span_id, operation.span_id,
        "a child of the operation"
    );
    let port = setup.proxy.addr.port().to_string();
    for (key, value) in [
        ("tenantgraph.tenant.id", "acme-eu"),
        ("http.request.method", "GET"),
        ("http.route", "/api/v2/users/{id}"),
        ("url.template", "/api/v2/users/{id}"),
        ("server.address", "127.0.0.1"),
        ("server.port", port.as_str()),
        ("http.response.status_code", "200"),
    ] {
        assert_eq!(call.attribute(key), Some(value), "{key} of {call:#?}");
    }
    assert_eq!(
        call.attribute("http.request.resend_count"),
        None,
        "sent once"
    );
    assert_eq!(call.attribute("error.type"), None);
    // The management token was fetched by the start-up credentials check, one root span per
    // tenant (a trace of its own, no caller's), so the call found it cached.
    let tokens = named(&spans, "POST /oauth/token");
    assert_eq!(tokens.len(), 3, "one check per tenant: {spans:#?}");
    for token in &tokens {
        assert_eq!(token.parent_span_id, "", "a start-up check has no parent");
        assert_ne!(token.trace_id, TRACE_ID);
        assert_eq!(token.attribute("http.response.status_code"), Some("200"));
    }
    assert!(
        children(&spans, call).is_empty(),
        "no token fetched in the call"
    );
    assert_eq!(
        children(&spans, operation)
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["GET /api/v2/users/{id}"]
    );

    // The tenant was sent the trace context of the span of each of its requests.
    let requests = setup.proxy.requests();
    let lookup = requests
        .iter()
        .find(|r| r.method == "GET" && r.path.starts_with("/api/v2/users/"))
        .expect("the lookup went through the proxy");
    assert_eq!(
        lookup.header("traceparent"),
        Some(format!("00-{TRACE_ID}-{}-01", call.span_id).as_str())
    );
    assert_eq!(lookup.header("tracestate"), Some(TRACESTATE));
    let token_request = requests
        .iter()
        .find(|r| r.path == "/oauth/token")
        .expect("acme-eu's start-up check went through the proxy");
    let sent = token_request.header("traceparent").unwrap_or_default();
    assert!(
        tokens
            .iter()
            .any(|t| sent == format!("00-{}-{}-01", t.trace_id, t.span_id)),
        "the check sent its own span's context: {sent}"
    );

    assert_nothing_sensitive(
        &spans,
        &secrets(&setup, &user)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
}

#[tokio::test]
async fn a_call_counts_its_retries_and_a_failed_call_its_status() {
    let tracing = Tracing::install().await;
    let setup = Setup::start(22).await;
    let user = setup.user(1);
    let acme = setup.env.tenant("acme-eu").unwrap();
    // The gateway holds its management token already: the one request failing is the lookup.
    let warm = setup
        .traced(
            "query Warm { user(tenant: \"acme-eu\", id: \"auth0|warm-up\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&warm)["user"], Value::Null);
    acme.control()
        .set_faults(Faults {
            error_rate: 1.0,
            error_status: Some(503),
            paths: vec!["/api/v2/users/".into()],
            count: Some(1),
            ..Faults::default()
        })
        .unwrap();
    setup.proxy.clear();

    let answer = setup.traced(PROFILE, json!({"id": user.0})).await;
    assert_eq!(data(&answer)["user"]["id"], user.0.as_str());

    let spans = tracing
        .spans_until(|s| !named(s, "query Profile").is_empty())
        .await;
    let operation = one(&spans, "query Profile");
    let calls = children(&spans, operation);
    assert_eq!(calls.len(), 1, "one call, retried: {calls:#?}");
    let call = calls[0];
    assert_eq!(call.name, "GET /api/v2/users/{id}");
    assert_eq!(call.attribute("http.response.status_code"), Some("200"));
    assert_eq!(call.attribute("http.request.resend_count"), Some("1"));
    assert_eq!(call.attribute("error.type"), None);
    assert_eq!(call.status, "unset");
    // Both requests of the call carried its context.
    let sent: Vec<_> = setup
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/users/"))
        .collect();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    for request in &sent {
        assert_eq!(
            request.header("traceparent"),
            Some(format!("00-{TRACE_ID}-{}-01", call.span_id).as_str())
        );
    }

    // The warm-up's lookup found nobody: a client call answered 404 failed, and says so.
    let warm = one(&spans, "query Warm");
    assert_eq!(warm.attribute("tenantgraph.outcome"), Some("ok"));
    let missing = children(&spans, warm);
    let missing = missing
        .iter()
        .find(|s| s.name == "GET /api/v2/users/{id}")
        .expect("the warm-up's lookup");
    assert_eq!(missing.attribute("http.response.status_code"), Some("404"));
    assert_eq!(missing.attribute("error.type"), Some("404"));
    assert_eq!(missing.status, "error");

    assert_nothing_sensitive(
        &spans,
        &secrets(&setup, &user)
            .iter()
            .map(String::as_str)
            .chain(["warm-up"])
            .collect::<Vec<_>>(),
    );
}

#[tokio::test]
async fn operations_are_typed_named_and_judged_each_in_its_own_span() {
    let tracing = Tracing::install().await;
    let setup = Setup::start(23).await;
    let user = setup.user(2);

    // A batch: two operations, two spans, both children of the caller's span.
    let batch = setup
        .post(
            json!([
                {"query": "query First { tenants { id } }"},
                {"query": "query Second { tenants { id } }"},
            ]),
            &[("traceparent", &traceparent())],
        )
        .await;
    assert!(batch.as_array().is_some_and(|a| a.len() == 2), "{batch}");
    // A mutation, without a trace of the caller's: it starts one.
    let renamed = setup
        .post(
            json!({
                "query": "mutation Rename($id: ID!) { updateUser(tenant: \"acme-eu\", id: $id, input: {nickname: \"traced\"}) { id } }",
                "variables": {"id": user.0},
            }),
            &[],
        )
        .await;
    assert_eq!(data(&renamed)["updateUser"]["id"], user.0.as_str());
    // A document that does not parse, holding the user's email.
    let broken = setup
        .traced(
            &format!("query {{ usersByEmail(email: \"{}\" {{ id }}", user.1),
            json!({}),
        )
        .await;
    assert!(broken["errors"].is_array(), "{broken}");
    // An anonymous search by email.
    let found = setup
        .traced(
            "query($e: String!) { usersByEmail(email: $e) { id } }",
            json!({"e": user.1}),
        )
        .await;
    assert_eq!(data(&found)["usersByEmail"][0]["id"], user.0.as_str());

    let spans = tracing
        .spans_until(|s| {
            named(s, "query First").len() == 1
                && named(s, "query Second").len() == 1
                && named(s, "mutation Rename").len() == 1
                && named(s, "GraphQL Operation").len() == 1
                && named(s, "query").len() == 1
        })
        .await;

    for name in ["query First", "query Second"] {
        let operation = one(&spans, name);
        assert_eq!(operation.trace_id, TRACE_ID, "{name}");
        assert_eq!(operation.parent_span_id, CLIENT_SPAN_ID, "{name}");
        assert_eq!(operation.attribute("tenantgraph.outcome"), Some("ok"));
    }
    assert_ne!(
        one(&spans, "query First").span_id,
        one(&spans, "query Second").span_id
    );

    let rename = one(&spans, "mutation Rename");
    assert_eq!(rename.attribute("graphql.operation.type"), Some("mutation"));
    assert_eq!(rename.attribute("graphql.operation.name"), Some("Rename"));
    assert_eq!(rename.parent_span_id, "", "a trace of its own");
    assert_ne!(rename.trace_id, TRACE_ID);
    let write = children(&spans, rename)
        .into_iter()
        .find(|s| s.name == "PATCH /api/v2/users/{id}")
        .expect("the write is a child of the mutation");
    assert_eq!(write.attribute("http.request.method"), Some("PATCH"));
    assert_eq!(write.attribute("http.response.status_code"), Some("200"));
    let patch = setup
        .proxy
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("the write went through the proxy");
    assert_eq!(
        patch.header("traceparent"),
        Some(format!("00-{}-{}-01", rename.trace_id, write.span_id).as_str())
    );
    assert_eq!(patch.header("tracestate"), None, "nobody sent one");

    let refused = one(&spans, "GraphQL Operation");
    assert_eq!(refused.attribute("tenantgraph.outcome"), Some("error"));
    assert_eq!(refused.attribute("error.type"), Some("BAD_USER_INPUT"));
    assert_eq!(refused.attribute("graphql.operation.type"), None);
    assert_eq!(refused.status, "error");
    assert_eq!(refused.parent_span_id, CLIENT_SPAN_ID);

    let anonymous = one(&spans, "query");
    assert_eq!(anonymous.attribute("graphql.operation.type"), Some("query"));
    assert_eq!(anonymous.attribute("graphql.operation.name"), None);

    assert_nothing_sensitive(
        &spans,
        &secrets(&setup, &user)
            .iter()
            .map(String::as_str)
            .chain(["traced", "nickname"])
            .collect::<Vec<_>>(),
    );
}

#[tokio::test]
async fn without_telemetry_no_trace_context_goes_upstream() {
    let setup = Setup::start(24).await;
    let user = setup.user(0);
    let answer = setup.traced(PROFILE, json!({"id": user.0})).await;
    assert_eq!(data(&answer)["user"]["id"], user.0.as_str());
    let requests = setup.proxy.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path.starts_with("/api/v2/users/")),
        "{requests:#?}"
    );
    for request in &requests {
        assert_eq!(request.header("traceparent"), None, "{request:#?}");
        assert_eq!(request.header("tracestate"), None, "{request:#?}");
    }
}

/// A document answered by its compiled plan (the second time it is sent, once validated) is
/// traced as async-graphql's answer is: one span named after it, its outcome and error code.
#[tokio::test]
async fn an_operation_answered_by_its_plan_has_the_same_span() {
    let tracing = Tracing::install().await;
    let setup = Setup::start(24).await;
    let user = setup.user(3);
    for _ in 0..2 {
        let answer = setup.traced(PROFILE, json!({"id": user.0})).await;
        assert_eq!(data(&answer)["user"]["email"], user.1.as_str());
    }
    const UNKNOWN: &str = "query Elsewhere($id: ID!) { user(tenant: \"nowhere\", id: $id) { id } }";
    for _ in 0..2 {
        let answer = setup.traced(UNKNOWN, json!({"id": user.0})).await;
        assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer}");
    }
    let metrics = setup.gateway.metrics().await;
    assert!(
        metrics.contains("tenantgraph_graphql_planned_total 2"),
        "the second sending of each was answered by its plan: {metrics}"
    );
    let spans = tracing
        .spans_until(|s| {
            named(s, "query Profile").len() == 2 && named(s, "query Elsewhere").len() == 2
        })
        .await;
    for (name, outcome, error) in [
        ("query Profile", "ok", None),
        ("query Elsewhere", "error", Some("BAD_USER_INPUT")),
    ] {
        for span in named(&spans, name) {
            assert_eq!(span.trace_id, TRACE_ID, "{name}");
            assert_eq!(span.parent_span_id, CLIENT_SPAN_ID, "{name}");
            assert_eq!(
                span.attribute("graphql.operation.name"),
                name.split(' ').nth(1)
            );
            assert_eq!(
                span.attribute("tenantgraph.outcome"),
                Some(outcome),
                "{name}"
            );
            assert_eq!(span.attribute("error.type"), error, "{name}");
        }
    }
}
