//! The `tenantgraph` binary as operators run it: `serve --config`, JSON logs carrying the
//! request id, a graceful stop on SIGTERM (in-flight requests finish, new ones are refused,
//! exit status 0), and traces exported over OTLP when configured, flushed before the exit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use tenant_emulator::Faults;
use tenantgraph::demo::{AUDIENCE, Environment, TENANTS_CLAIM};
use test_kit::{OtlpReceiver, ReceivedSpan};

fn config(env: &Environment, grace: &str) -> String {
    let mut toml = format!(
        r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace = "{grace}"

[auth]
audience = "{AUDIENCE}"
operator_issuer = "{issuer}"
operator_jwks_url = "{operators}/.well-known/jwks.json"
tenants_claim = "{TENANTS_CLAIM}"

[log]
format = "json"
filter = "info"
"#,
        issuer = env.operators.issuer(),
        operators = env.operators.base_url(),
    );
    for tenant in &env.tenants {
        toml.push_str(&format!(
            "\n[[tenants]]\nid = \"{id}\"\nname = \"{id}\"\ndomain = \"{domain}\"\nbase_url = \"{url}\"\nclient_id = \"tenantgraph\"\n",
            id = tenant.tenant(),
            domain = tenant.domain(),
            url = tenant.base_url(),
        ));
    }
    toml
}

/// A running `tenantgraph serve`, its log lines (JSON) and its address.
struct Gateway {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    logs: Vec<Value>,
    url: String,
}

/// The tests that run `serve` against emulators in this process use a multi-threaded runtime:
/// they wait for the gateway's lines on one thread while the emulators answer on another, and
/// `serve` asks each tenant for a token before it says it serves.
fn spawn_gateway(env: &Environment, grace: &str) -> Gateway {
    spawn_gateway_with(env, grace, "", &[])
}

/// `serve` with `extra` added to the configuration and `vars` to its environment.
fn spawn_gateway_with(
    env: &Environment,
    grace: &str,
    extra: &str,
    vars: &[(&str, &str)],
) -> Gateway {
    let toml = format!("{extra}\n{}", config(env, grace));
    spawn_serve(&format!("grace-{grace}"), &toml, SECRETS, vars)
}

/// The `OTEL_*` variables a test sets itself: none of the machine's may reach the child.
const OTEL_VARIABLES: [&str; 9] = [
    "OTEL_SDK_DISABLED",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_BSP_SCHEDULE_DELAY",
];

/// A command for the `tenantgraph` binary with none of the machine's `OTEL_*` variables.
fn tenantgraph() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenantgraph"));
    for variable in OTEL_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Every emulated tenant's secret, in the variables `serve` reads them from.
const SECRETS: [(&str, &str); 3] = [
    ("TENANTGRAPH_SECRET_ACME_EU", "tenantgraph-secret"),
    ("TENANTGRAPH_SECRET_ACME_US", "tenantgraph-secret"),
    ("TENANTGRAPH_SECRET_GLOBEX", "tenantgraph-secret"),
];

/// `tenantgraph serve` with the configuration `toml` (JSON logs), `secrets` and `vars` in its
/// environment, once it logs that it serves.
fn spawn_serve(
    tag: &str,
    toml: &str,
    secrets: [(&str, &str); 3],
    vars: &[(&str, &str)],
) -> Gateway {
    static SPAWNED: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tenantgraph-process-{}-{tag}-{}",
        std::process::id(),
        SPAWNED.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tenantgraph.toml");
    std::fs::write(&path, toml).unwrap();
    let mut child = tenantgraph()
        .args(["serve", "--config", path.to_str().unwrap()])
        .envs(secrets)
        .envs(vars.iter().copied())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut logs: Vec<Value> = Vec::new();
    let addr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the gateway logs that it serves");
        let log: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        logs.push(log.clone());
        if log["fields"]["message"] == "serving" {
            break log["fields"]["addr"].as_str().unwrap().to_owned();
        }
    };
    Gateway {
        child,
        lines,
        logs,
        url: format!("http://{addr}/graphql"),
    }
}

/// Writes to `user` through the gateway at `graphql` and waits for the audit line naming it.
async fn write_and_see_it_audited(
    graphql: &str,
    token: &str,
    user: &str,
    lines: &mpsc::Receiver<String>,
) {
    let client = reqwest::Client::new();
    let answer = test_kit::post(&client, graphql, Some(token), WRITE, json!({"id": user})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let audit = wait_for_line(lines, &["audit", "updateUser"], Duration::from_secs(10));
    assert!(audit.contains(user), "{audit}");
}

/// The id of acme-eu's first user, found through the running gateway at `graphql`.
async fn first_acme_user(graphql: &str, token: &str) -> String {
    const FIRST: &str =
        "{ searchUsers(tenants: [\"acme-eu\"], first: 1) { edges { node { id } } } }";
    let client = reqwest::Client::new();
    let search = test_kit::post(&client, graphql, Some(token), FIRST, json!({})).await;
    search["data"]["searchUsers"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sigterm(child: &std::process::Child) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// A lookup that takes as long as the tenant's injected latency.
fn slow_lookup(
    env: &Environment,
    url: &str,
    token: &str,
    latency_ms: u64,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    env.tenants[0]
        .control()
        .set_faults(Faults {
            latency_ms,
            paths: vec!["/api/v2/".into()],
            ..Faults::default()
        })
        .unwrap();
    let user = env.tenants[0].control().users(1, 0).users.remove(0).user_id;
    let (url, token) = (url.to_owned(), token.to_owned());
    tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .header("x-request-id", "in-flight-1")
            .json(&json!({"query": "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id } }", "variables": {"id": user}}))
            .send()
            .await
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_requests_in_flight_finish_then_exits_cleanly_with_json_logs() {
    let env = Environment::start(20, 3, |_| {}).await.unwrap();
    let token = env
        .operator_token("Ops", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let Gateway {
        mut child,
        lines,
        mut logs,
        url,
    } = spawn_gateway(&env, "5s");
    let client = reqwest::Client::new();

    // A request that is still in flight when the signal comes.
    let slow = slow_lookup(&env, &url, &token, 1500);
    tokio::time::sleep(Duration::from_millis(400)).await;
    sigterm(&child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"query": "{ tenants { id } }"}))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "no new requests once stopping: {refused:?}"
    );

    let finished = slow
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(finished.status(), 200);
    let body: Value = finished.json().await.unwrap();
    assert!(body["data"]["user"]["id"].is_string(), "{body}");

    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");

    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        logs.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")));
    }
    let served = logs
        .iter()
        .find(|l| l["fields"]["message"] == "served" && l["span"]["request_id"] == "in-flight-1")
        .unwrap_or_else(|| panic!("no access log line with the request id: {logs:#?}"));
    assert_eq!(served["fields"]["status"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_slower_than_the_grace_period_does_not_hold_the_exit() {
    let env = Environment::start(20, 4, |_| {}).await.unwrap();
    let token = env
        .operator_token("Ops", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let Gateway { child, url, .. } = spawn_gateway(&env, "500ms");
    let _slow = slow_lookup(&env, &url, &token, 20_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = std::time::Instant::now();
    sigterm(&child);
    let mut child = child;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    // Half a second of grace, not the twenty seconds the request would take.
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "{:?}",
        signalled.elapsed()
    );
}

/// Reads `child`'s stdout lines on a thread of their own.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    lines
}

/// Waits for a line containing every one of `words`, within `limit`.
fn wait_for_line(lines: &mpsc::Receiver<String>, words: &[&str], limit: Duration) -> String {
    let deadline = std::time::Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if words.iter().all(|w| line.contains(w)) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!(
        "no line with {words:?} within {limit:?}; saw:\n{}",
        seen.join("\n")
    )
}

const WRITE: &str = "mutation($id: ID!) { updateUser(tenant: \"acme-eu\", id: $id, input: {nickname: \"audited\"}) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_audit_events_with_its_default_settings() {
    let env = Environment::start(20, 5, |_| {}).await.unwrap();
    let token = env
        .operator_token("Auditee", &["update:users"], json!("*"), None)
        .await
        .unwrap();
    // The configuration of the other tests without its [log] table: every default.
    let toml = config(&env, "1s");
    let toml =
        toml[..toml.find("[log]").unwrap()].to_owned() + &toml[toml.find("[[tenants]]").unwrap()..];
    let dir = std::env::temp_dir().join(format!("tenantgraph-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tenantgraph.toml");
    std::fs::write(&path, toml).unwrap();
    let mut child = tenantgraph()
        .args(["serve", "--config", path.to_str().unwrap()])
        .env("TENANTGRAPH_SECRET_ACME_EU", "tenantgraph-secret")
        .env("TENANTGRAPH_SECRET_ACME_US", "tenantgraph-secret")
        .env("TENANTGRAPH_SECRET_GLOBEX", "tenantgraph-secret")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut child);
    let serving = wait_for_line(&lines, &["serving"], Duration::from_secs(30));
    let addr = serving
        .split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .unwrap()
        .to_owned();
    assert!(
        !serving.contains('\u{1b}'),
        "no colour codes when stdout is not a terminal"
    );
    let user = env.tenants[0].control().users(1, 0).users.remove(0).user_id;
    write_and_see_it_audited(&format!("http://{addr}/graphql"), &token, &user, &lines).await;
    sigterm(&child);
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
}

#[tokio::test]
async fn the_demo_logs_audit_events() {
    let dir = std::env::temp_dir().join(format!("tenantgraph-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tokens_file = dir.join("tokens.json");
    let _ = std::fs::remove_file(&tokens_file);
    let mut child = tenantgraph()
        .args(["demo", "--port", "0", "--users", "20", "--tokens-file"])
        .arg(&tokens_file)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut child);
    wait_for_line(&lines, &["Press Ctrl-C to stop"], Duration::from_secs(60));
    let tokens: Value = serde_json::from_slice(&std::fs::read(&tokens_file).unwrap()).unwrap();
    let graphql = tokens["graphql"].as_str().unwrap();
    let token = tokens["tokens"]["global_admin"].as_str().unwrap();
    assert!(tokens["operator_issuer"]["issuer"].is_string(), "{tokens}");
    let user = first_acme_user(graphql, token).await;
    write_and_see_it_audited(graphql, token, &user, &lines).await;
    sigterm(&child);
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
}

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN_ID: &str = "b7ad6b7169203331";

/// A named lookup of one acme-eu user, continuing the trace `TRACE_ID`.
async fn traced_lookup(graphql: &str, token: &str, user: &str) {
    let answer: Value = reqwest::Client::new()
        .post(graphql)
        .bearer_auth(token)
        .header("traceparent", format!("00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"))
        .json(&json!({
            "query": "query Lookup($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id } }",
            "variables": {"id": user},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["user"]["id"], user, "{answer}");
}

/// The lookup's operation span, a child of the caller's, and the call under it.
fn assert_lookup_traced(spans: &[ReceivedSpan], service: &str) {
    let operation = spans
        .iter()
        .find(|s| s.name == "query Lookup")
        .unwrap_or_else(|| panic!("no operation span: {spans:#?}"));
    assert_eq!(operation.trace_id, TRACE_ID);
    assert_eq!(operation.parent_span_id, CLIENT_SPAN_ID);
    assert_eq!(
        operation.resource.get("service.name").map(String::as_str),
        Some(service)
    );
    let call = spans
        .iter()
        .find(|s| s.name == "GET /api/v2/users/{id}")
        .unwrap_or_else(|| panic!("no call span: {spans:#?}"));
    assert_eq!(call.parent_span_id, operation.span_id);
    assert_eq!(call.attribute("tenantgraph.tenant.id"), Some("acme-eu"));
}

/// Only the export at shutdown can deliver spans within the test.
const NO_TIMED_EXPORT: (&str, &str) = ("OTEL_BSP_SCHEDULE_DELAY", "600000");

#[tokio::test]
async fn the_demo_exports_traces_where_the_otel_variables_say_and_flushes_them_at_exit() {
    let receiver = OtlpReceiver::start().await;
    let dir = std::env::temp_dir().join(format!("tenantgraph-otel-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tokens_file = dir.join("tokens.json");
    let _ = std::fs::remove_file(&tokens_file);
    let mut child = tenantgraph()
        .args(["demo", "--port", "0", "--users", "20", "--tokens-file"])
        .arg(&tokens_file)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env("OTEL_SERVICE_NAME", "tenantgraph-demo-traced")
        .env(NO_TIMED_EXPORT.0, NO_TIMED_EXPORT.1)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut child);
    let announced = wait_for_line(
        &lines,
        &["exporting traces over OTLP/HTTP"],
        Duration::from_secs(60),
    );
    assert!(
        announced.contains(&format!("{}/v1/traces", receiver.endpoint())),
        "{announced}"
    );
    wait_for_line(&lines, &["Press Ctrl-C to stop"], Duration::from_secs(60));
    let tokens: Value = serde_json::from_slice(&std::fs::read(&tokens_file).unwrap()).unwrap();
    let graphql = tokens["graphql"].as_str().unwrap();
    let token = tokens["tokens"]["global_admin"].as_str().unwrap();
    let user = first_acme_user(graphql, token).await;
    traced_lookup(graphql, token, &user).await;
    assert!(
        receiver.spans().is_empty(),
        "nothing is exported before the batch is due or the process stops"
    );

    sigterm(&child);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    let spans = receiver.spans();
    assert_lookup_traced(&spans, "tenantgraph-demo-traced");
}

#[tokio::test]
async fn serve_takes_the_telemetry_section_over_the_otel_variables() {
    let env = Environment::start(20, 6, |_| {}).await.unwrap();
    let token = env
        .operator_token("Ops", &["read:users"], json!("*"), None)
        .await
        .unwrap();
    let from_file = OtlpReceiver::start().await;
    let from_env = OtlpReceiver::start().await;
    let section = format!(
        "[telemetry]\notlp_endpoint = \"{}\"\nservice_name = \"from-the-file\"\n",
        from_file.endpoint()
    );
    let Gateway { child, url, .. } = spawn_gateway_with(
        &env,
        "1s",
        &section,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &from_env.endpoint()),
            ("OTEL_SERVICE_NAME", "from-the-environment"),
            NO_TIMED_EXPORT,
        ],
    );
    let user = env.tenants[0].control().users(1, 0).users.remove(0).user_id;
    traced_lookup(&url, &token, &user).await;
    sigterm(&child);
    let mut child = child;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert_lookup_traced(&from_file.spans(), "from-the-file");
    assert!(from_env.spans().is_empty());
}

/// `serve` with `telemetry` as its [telemetry] section and `vars` set: its exit status and
/// what it wrote to stderr. Nothing is started: the settings are refused first.
fn serve_with_telemetry(telemetry: &str, vars: &[(&str, &str)]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!(
        "tenantgraph-otel-refused-{}-{}",
        std::process::id(),
        telemetry.len() + vars.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tenantgraph.toml");
    std::fs::write(
        &path,
        format!(
            "[auth]\naudience = \"{AUDIENCE}\"\n[telemetry]\n{telemetry}\n[[tenants]]\nid = \"acme-eu\"\nname = \"ACME\"\ndomain = \"acme-eu.eu.auth0.com\"\nclient_id = \"x\"\n"
        ),
    )
    .unwrap();
    let output = tenantgraph()
        .args(["serve", "--config", path.to_str().unwrap()])
        .env("TENANTGRAPH_SECRET_ACME_EU", "s")
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_telemetry_settings_stop_the_start_with_an_error_naming_them() {
    for (telemetry, vars, named) in [
        (
            "otlp_endpoint = \"collector:4318\"",
            &[][..],
            "telemetry.otlp_endpoint",
        ),
        (
            "otlp_endpoint = \"http://c:4318\"\nsample_ratio = 2.0",
            &[],
            "telemetry.sample_ratio",
        ),
        (
            "",
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:hunter2@c:4318")],
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            "",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ],
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
    ] {
        let (started, stderr) = serve_with_telemetry(telemetry, vars);
        assert!(!started, "{telemetry} {vars:?} was accepted");
        assert!(stderr.contains(named), "{named} is not named: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_says_at_start_up_which_credentials_are_refused_and_readyz_shows_those_tenants_down()
{
    const WRONG: &str = "a-wrong-secret-for-acme-us";
    let env = Environment::start(20, 6, |_| {}).await.unwrap();
    // globex keeps the example configuration's placeholder; acme-us gets a wrong secret.
    let toml = config(&env, "1s").replacen("[auth]", "open_ops = true\n\n[auth]", 1);
    let globex = toml.rfind("client_id = \"tenantgraph\"").unwrap();
    let toml = format!(
        "{}client_id = \"REPLACE_WITH_THE_M2M_CLIENT_ID\"{}",
        &toml[..globex],
        &toml[globex + "client_id = \"tenantgraph\"".len()..]
    );
    let mut secrets = SECRETS;
    secrets[1].1 = WRONG;
    let Gateway {
        child,
        lines,
        logs,
        url,
    } = spawn_serve("credentials", &toml, secrets, &[]);
    let mut child = Reaper(Some(child));

    // Said before it serves, naming each tenant and why, never the secret.
    let said = |tenant: &str, level: &str| {
        logs.iter()
            .find(|l| l["fields"]["tenant"] == tenant && l["level"] == level)
            .unwrap_or_else(|| panic!("no {level} line for {tenant}: {logs:#?}"))
            .clone()
    };
    let refused = said("acme-us", "ERROR");
    assert!(
        refused["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("refuses tenantgraph's credentials"),
        "{refused}"
    );
    assert_eq!(
        refused["fields"]["reason"],
        "credentials refused: the token endpoint answered 401 access_denied \"Unauthorized\": wrong client_id or client secret, or a secret rotated since"
    );
    let placeholder = said("globex", "ERROR");
    assert!(
        placeholder["fields"]["reason"]
            .as_str()
            .unwrap()
            .contains("client_id \"REPLACE_WITH_THE_M2M_CLIENT_ID\" is a placeholder"),
        "{placeholder}"
    );
    let accepted = said("acme-eu", "INFO");
    assert!(
        accepted["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("accepts"),
        "{accepted}"
    );
    assert!(
        logs.iter().all(|l| !l.to_string().contains(WRONG)),
        "the secret is never logged"
    );

    let base = url.trim_end_matches("/graphql").to_owned();
    let ready: Value = reqwest::get(format!("{base}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready["tenants"],
        json!({"acme-eu": "UP", "acme-us": "DOWN", "globex": "DOWN"}),
        "{ready}"
    );
    assert_eq!(ready["reasons"]["acme-us"], refused["fields"]["reason"]);
    assert_eq!(ready["reasons"]["globex"], placeholder["fields"]["reason"]);
    drop(lines);
    let mut child = child.0.take().unwrap();
    sigterm(&child);
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
}

/// Kills the gateway if the test ends before stopping it (a failed assertion): no process
/// outlives its test.
struct Reaper(Option<std::process::Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
