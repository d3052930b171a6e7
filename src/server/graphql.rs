//! The GraphQL endpoint. A POST must be JSON (CSRF), fit the body limit and the batch limit; a
//! GET serves the explorer to browsers and may run queries, never mutations. Then: the bearer
//! token (401 when absent or bad; a client address whose tokens keep failing is slowed down
//! before any signature is checked), the caller's budget (each operation of a batch counts; 429
//! with `Retry-After`), the caller's scope, execution, a code on every error, and
//! `extensions.stale` when a failing tenant was answered from cache.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::{BatchRequest, Name, ServerError};
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::auth::{Caller, Verifier};
use crate::error::{ClientError, ErrorCode};
use crate::graphql::{Answers, RequestContext};
use crate::metrics::{GraphqlLabels, Metrics};
use crate::request;
use crate::store::StaleProfile;
use crate::telemetry::ClientTrace;

pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && query.is_none() {
        return match &state.explorer {
            Some(explorer) => explorer.serve(&headers),
            None => (StatusCode::NOT_FOUND, "the explorer is switched off").into_response(),
        };
    }
    let request =
        match async_graphql::http::parse_query_string(query.as_deref().unwrap_or_default()) {
            Ok(request) => request,
            Err(error) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    &format!("the query string is not a GraphQL request: {error}"),
                );
            }
        };
    execute(&state, peer, &headers, BatchRequest::Single(request), true).await
}

pub(crate) async fn post(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !json_or_preflighted(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes Content-Type: application/json (or an `apollo-require-preflight` header)",
        );
    }
    let limit = state.limits.body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return too_large(limit);
    }
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return too_large(limit);
    };
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a GraphQL request: {error}"),
            );
        }
    };
    if let BatchRequest::Batch(operations) = &request {
        let max = state.limits.batch_operations;
        if operations.is_empty() || operations.len() > max {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("a batch holds 1 to {max} operations"),
            );
        }
    }
    execute(&state, peer, &headers, request, false).await
}

/// CSRF: a browser sends a cross-site POST without a preflight only with a "simple" content
/// type, and then cannot add custom headers; requiring JSON or a custom header closes that door.
fn json_or_preflighted(headers: &HeaderMap) -> bool {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    let preflighted = ["apollo-require-preflight", "x-apollo-operation-name"]
        .iter()
        .any(|name| headers.get(*name).is_some_and(|v| !v.is_empty()));
    json || preflighted
}

fn too_large(limit: usize) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the request body is larger than {limit} bytes"),
    )
}

async fn execute(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    batch: BatchRequest,
    via_get: bool,
) -> Response {
    let started = Instant::now();
    // A client address whose tokens keep failing costs no more signature checks once past its
    // budget; a token verified lately (a caller already known) is not held back by them.
    let known = match bearer_token(headers) {
        Some(token) => state.verifier.known(token).await,
        None => None,
    };
    if known.is_none()
        && let Err(wait) = state.failed_auth.peek(&peer.ip())
    {
        return rate_limited(wait);
    }
    // A token verified lately is not looked up twice.
    let caller = match known {
        Some(caller) => caller,
        None => match authenticate(&state.verifier, headers).await {
            Ok(caller) => caller,
            Err(error) => {
                let _ = state.failed_auth.check(&peer.ip());
                return unauthenticated(&error);
            }
        },
    };
    let operations = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(operations) => operations.len(),
    };
    if let Err(wait) = state
        .caller_limit
        .check_n(&state.access.budget_key(&caller), operations)
    {
        return rate_limited(wait);
    }
    let id = request::current_id().unwrap_or_else(|| request::choose_id(None));
    let context = Arc::new(
        RequestContext::new(state.access.scope(caller, id))
            .with_client_trace(ClientTrace::from_headers(headers)),
    );
    let names = operation_names(&state.metrics, &batch);
    let tag = context.scope.tag().clone();
    let mut answers =
        request::scope(tag, state.schema.answer_batch(batch, via_get, &context)).await;
    let stale = context.scope.stale();
    for answer in answers.iter_mut() {
        give_codes(answer.errors_mut());
        if !stale.is_empty() {
            answer.set_extension("stale", stale_extension(&stale));
        }
    }
    record(&state.metrics, &names, &answers, started);
    answers.into_response()
}

/// RATE_LIMITED, saying when to retry (in whole seconds, rounded up).
pub(crate) fn too_many_requests(wait: std::time::Duration) -> ClientError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ClientError::new(
        ErrorCode::RateLimited,
        format!("too many requests from this caller; retry in {seconds} s"),
    )
}

fn rate_limited(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let error = too_many_requests(wait);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(error_body(&error)),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// `extensions.stale`: the profiles served from cache past their TTL because their tenant
/// failed, with how far past it they were.
fn stale_extension(stale: &[StaleProfile]) -> async_graphql::Value {
    let items = stale
        .iter()
        .map(|s| {
            let mut item = async_graphql::indexmap::IndexMap::new();
            item.insert(
                Name::new("tenant"),
                async_graphql::Value::from(s.key.tenant.to_string()),
            );
            item.insert(
                Name::new("id"),
                async_graphql::Value::from(s.key.id.to_string()),
            );
            item.insert(
                Name::new("staleSeconds"),
                async_graphql::Value::from(s.past_ttl.as_secs()),
            );
            async_graphql::Value::Object(item)
        })
        .collect();
    async_graphql::Value::List(items)
}

/// The bearer token of the `Authorization` header, if it has one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).ok()
}

/// The bearer token of the `Authorization` header, or why there is none.
fn bearer(headers: &HeaderMap) -> Result<&str, ClientError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ClientError::unauthenticated(
            "a bearer token is required (Authorization: Bearer <token>)",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| ClientError::unauthenticated("the Authorization header is unreadable"))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ClientError::unauthenticated("the Authorization header must be `Bearer <token>`")
        })
}

/// The caller from the `Authorization` header. Every operation needs one: without a token the
/// answer is 401 like a bad token's, so that nothing (a persisted document, the schema) is
/// learnt anonymously.
pub(crate) async fn authenticate(
    verifier: &Verifier,
    headers: &HeaderMap,
) -> Result<Arc<Caller>, ClientError> {
    verifier
        .verify(bearer(headers)?)
        .await
        .map_err(|e| ClientError::unauthenticated(format!("invalid bearer token: {e}")))
}

fn error_body(error: &ClientError) -> serde_json::Value {
    serde_json::json!({
        "errors": [{"message": error.message, "extensions": {"code": error.code.as_str()}}]
    })
}

fn unauthenticated(error: &ClientError) -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(error_body(error))).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// An HTTP-level refusal, in GraphQL's error shape.
fn refuse(status: StatusCode, message: &str) -> Response {
    let error = ClientError::bad_input(message);
    (status, axum::Json(error_body(&error))).into_response()
}

/// Every error carries a code. Resolvers always set one; errors async-graphql raises itself
/// (syntax, validation, input coercion, limits) are given theirs here.
pub(crate) fn give_codes(errors: &mut [ServerError]) {
    for error in errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let message = error.message.to_ascii_lowercase();
            let code = if message.contains("too complex") || message.contains("nested too deep") {
                ErrorCode::QueryTooComplex
            } else {
                ErrorCode::BadUserInput
            };
            extensions.set("code", code.as_str());
        }
    }
}

fn operation_names(metrics: &Metrics, request: &BatchRequest) -> Vec<Arc<str>> {
    let name =
        |r: &async_graphql::Request| metrics.operation_label(r.operation_name.as_deref(), &r.query);
    match request {
        BatchRequest::Single(r) => vec![name(r)],
        BatchRequest::Batch(rs) => rs.iter().map(name).collect(),
    }
}

fn record(metrics: &Metrics, names: &[Arc<str>], answers: &Answers, started: Instant) {
    for (name, answer) in names.iter().zip(answers.iter()) {
        let outcome = answer.outcome();
        if answer.is_planned() {
            metrics.graphql_planned.inc();
        }
        metrics
            .graphql_requests
            .get_or_create(&GraphqlLabels {
                operation: name.clone(),
                outcome,
            })
            .inc();
    }
    metrics
        .graphql_duration
        .observe(started.elapsed().as_secs_f64());
}
