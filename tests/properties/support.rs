//! What every property shares: case counts, one Tokio runtime, a log of panics on its worker
//! threads, and what a well-formed GraphQL answer is.
//!
//! The properties are plain `#[test]`s driven by `proptest!`; those that need the network run
//! their async part with [`block_on`] on one shared multi-thread runtime, so gateways and
//! emulated tenants started once keep serving every case (and every test) of the binary.

use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

use proptest::test_runner::Config;
use serde_json::Value;

/// The closed set of `extensions.code` values (docs/ARCHITECTURE.md "Errors"; `tenantgraph::error`).
pub const CODES: [&str; 12] = [
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "TENANT_UNAVAILABLE",
    "TENANT_TIMEOUT",
    "TENANT_RATE_LIMITED",
    "UPSTREAM_OUTCOME_UNKNOWN",
    "QUERY_TOO_COMPLEX",
    "RATE_LIMITED",
    "INTERNAL",
];

/// The proptest configuration of one property: `default` cases, or `PROPTEST_CASES` when set
/// (proptest's own variable, so one setting scales every property of the binary). The count is
/// printed (see it with `--nocapture`) because the issue asks how many cases ran.
pub fn config(property: &str, default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    println!("property {property}: {cases} cases");
    Config {
        cases,
        // Shrinking a network-bound case is slow; a bounded search still finds a small input.
        max_shrink_time: 60_000,
        ..Config::default()
    }
}

/// Worker threads of the shared runtime are named so; a panic on one is a gateway (or emulator)
/// panic, never a failed assertion of ours (those run on the test's own thread).
const WORKER: &str = "tg-prop-worker";

/// The runtime every async property runs on (two workers: the CI machine has two cores).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        watch_panics();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(WORKER)
            .enable_all()
            .build()
            .expect("a Tokio runtime")
    })
}

/// Runs `future` on the shared runtime, failing the case if it takes longer than `limit`: a
/// request that never answers (a deadlock, a lost dataloader task) is as bad as a panic.
pub fn block_on<T>(limit: Duration, future: impl Future<Output = T>) -> Result<T, String> {
    runtime()
        .block_on(async { tokio::time::timeout(limit, future).await })
        .map_err(|_| format!("no answer within {limit:?}"))
}

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records panics on the runtime's worker threads. A panic in a spawned task (a connection
/// handler, a dataloader batch) does not reach the test: without this log it could pass
/// unnoticed as a dropped connection or an empty field.
fn watch_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if thread.name().is_some_and(|name| name.starts_with(WORKER))
                && let Ok(mut panics) = PANICS.lock()
            {
                panics.push(info.to_string());
            }
            previous(info);
        }));
    });
}

/// Fails if anything panicked on a worker thread so far.
pub fn no_worker_panics() -> Result<(), String> {
    let panics = PANICS.lock().map(|p| p.clone()).unwrap_or_default();
    if panics.is_empty() {
        Ok(())
    } else {
        Err(format!("panics on runtime workers: {panics:#?}"))
    }
}

/// Checks one GraphQL answer (or a batch of them) against the GraphQL-over-HTTP response shape
/// and tenantgraph's error contract: `data` and/or `errors`, nothing else at the top but
/// `extensions`; each error with a `message` and an `extensions.code` from [`CODES`].
pub fn check_answer(answer: &Value) -> Result<(), String> {
    if let Value::Array(batch) = answer {
        if batch.is_empty() {
            return Err("an empty batch answer".into());
        }
        return batch.iter().try_for_each(check_single);
    }
    check_single(answer)
}

fn check_single(answer: &Value) -> Result<(), String> {
    let object = answer
        .as_object()
        .ok_or_else(|| format!("the answer is not an object: {answer}"))?;
    if let Some(key) = object
        .keys()
        .find(|k| !["data", "errors", "extensions"].contains(&k.as_str()))
    {
        return Err(format!("unexpected top-level key {key:?}"));
    }
    if !object.contains_key("data") && !object.contains_key("errors") {
        return Err("neither data nor errors".into());
    }
    if let Some(data) = object.get("data")
        && !(data.is_object() || data.is_null())
    {
        return Err(format!("data is neither an object nor null: {data}"));
    }
    let Some(errors) = object.get("errors") else {
        return Ok(());
    };
    let errors = errors
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| format!("errors is not a non-empty list: {errors}"))?;
    for error in errors {
        if !error.get("message").is_some_and(Value::is_string) {
            return Err(format!("an error without a message: {error}"));
        }
        let code = error
            .pointer("/extensions/code")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("an error without extensions.code: {error}"))?;
        if !CODES.contains(&code) {
            return Err(format!("code {code:?} is not in the closed set: {error}"));
        }
        if let Some(locations) = error.get("locations") {
            let ok = locations.as_array().is_some_and(|all| {
                all.iter().all(|l| {
                    l.get("line").and_then(Value::as_u64).is_some_and(|n| n > 0)
                        && l.get("column")
                            .and_then(Value::as_u64)
                            .is_some_and(|n| n > 0)
                })
            });
            if !ok {
                return Err(format!("malformed locations: {error}"));
            }
        }
        if let Some(path) = error.get("path")
            && !path
                .as_array()
                .is_some_and(|p| p.iter().all(|s| s.is_string() || s.is_u64()))
        {
            return Err(format!("malformed path: {error}"));
        }
    }
    Ok(())
}

/// The first `max` characters of `text`, for failure messages about huge inputs.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}… ({} bytes)", &text[..at], text.len()),
        None => text.to_owned(),
    }
}
