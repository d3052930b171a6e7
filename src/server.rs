//! The HTTP surface: `POST /graphql`, `GET /graphql` (GraphiQL for browsers, queries otherwise),
//! `/healthz`, `/readyz` and `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse};
use async_graphql_axum::GraphQLResponse;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::auth::{Caller, Verifier};
use crate::error::ClientError;
use crate::graphql::{RequestContext, TenantGraphSchema};
use crate::metrics::{GraphqlLabels, Metrics};
use crate::store::Store;
use crate::tenant::Health;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: TenantGraphSchema,
    pub verifier: Arc<Verifier>,
    pub store: Store,
    pub metrics: Metrics,
    /// GraphiQL page, rendered once; `None` when GraphiQL is off.
    pub graphiql: Option<Arc<str>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// GraphiQL, opening on `/graphql` with `default_token` (if any) as its bearer token.
pub fn graphiql_page(default_token: Option<&str>) -> String {
    let authorization = default_token.map(|t| format!("Bearer {t}"));
    let mut source = GraphiQLSource::build()
        .endpoint("/graphql")
        .title("tenantgraph");
    if let Some(value) = authorization.as_deref() {
        source = source.header("Authorization", value);
    }
    source.finish()
}

async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && query.is_none() {
        return match &state.graphiql {
            Some(page) => Html(page.to_string()).into_response(),
            None => (StatusCode::NOT_FOUND, "GraphiQL is switched off").into_response(),
        };
    }
    let request =
        match async_graphql::http::parse_query_string(query.as_deref().unwrap_or_default()) {
            Ok(request) => request,
            Err(error) => {
                return bad_request(&format!(
                    "the query string is not a GraphQL request: {error}"
                ));
            }
        };
    execute(&state, &headers, BatchRequest::Single(request)).await
}

async fn graphql_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return bad_request(&format!("the body is not a GraphQL request: {error}")),
    };
    execute(&state, &headers, request).await
}

async fn execute(state: &AppState, headers: &HeaderMap, request: BatchRequest) -> Response {
    let started = Instant::now();
    let caller = match authenticate(&state.verifier, headers).await {
        Ok(caller) => caller,
        Err(error) => return unauthenticated(&error),
    };
    let context = Arc::new(RequestContext::new(caller, &state.store));
    let request = request.data(context);
    let names = operation_names(&request);
    let mut response = state.schema.execute_batch(request).await;
    for single in responses_mut(&mut response) {
        give_codes(single);
    }
    record(&state.metrics, &names, &response, started);
    GraphQLResponse::from(response).into_response()
}

/// The caller from the `Authorization` header: none → anonymous; anything unverifiable → error.
async fn authenticate(verifier: &Verifier, headers: &HeaderMap) -> Result<Caller, ClientError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let value = value
        .to_str()
        .map_err(|_| ClientError::unauthenticated("the Authorization header is unreadable"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ClientError::unauthenticated("the Authorization header must be `Bearer <token>`")
        })?;
    verifier
        .verify(token)
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

fn bad_request(message: &str) -> Response {
    let error = ClientError::bad_input(message);
    (StatusCode::BAD_REQUEST, axum::Json(error_body(&error))).into_response()
}

fn responses_mut(response: &mut BatchResponse) -> Vec<&mut async_graphql::Response> {
    match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter_mut().collect(),
    }
}

/// Every error carries a code. Resolvers always set one; errors async-graphql raises itself
/// (syntax, validation, input coercion, limits) are given theirs here.
fn give_codes(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let message = error.message.to_ascii_lowercase();
            let code = if message.contains("too complex") || message.contains("nested too deep") {
                crate::error::ErrorCode::QueryTooComplex
            } else {
                crate::error::ErrorCode::BadUserInput
            };
            extensions.set("code", code.as_str());
        }
    }
}

fn operation_names(request: &BatchRequest) -> Vec<String> {
    let name = |r: &async_graphql::Request| {
        r.operation_name
            .clone()
            .unwrap_or_else(|| "anonymous".to_owned())
    };
    match request {
        BatchRequest::Single(r) => vec![name(r)],
        BatchRequest::Batch(rs) => rs.iter().map(name).collect(),
    }
}

fn record(metrics: &Metrics, names: &[String], response: &BatchResponse, started: Instant) {
    let responses: Vec<&async_graphql::Response> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    for (name, response) in names.iter().zip(responses) {
        let outcome = match (
            response.errors.is_empty(),
            response.data == async_graphql::Value::Null,
        ) {
            (true, _) => "ok",
            (false, true) => "error",
            (false, false) => "partial",
        };
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

async fn readyz(State(state): State<AppState>) -> Response {
    let mut tenants = serde_json::Map::new();
    let mut any_up = false;
    for tenant in state.store.tenants.all() {
        let health = tenant.health();
        any_up |= health != Health::Down;
        let status = match health {
            Health::Up => "UP",
            Health::Degraded => "DEGRADED",
            Health::Down => "DOWN",
        };
        tenants.insert(tenant.id.to_string(), status.into());
    }
    let status = if any_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({"status": if any_up { "ready" } else { "no tenant reachable" }, "tenants": tenants});
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    for tenant in state.store.tenants.all() {
        let value = match tenant.health() {
            Health::Up => 0,
            Health::Degraded => 1,
            Health::Down => 2,
        };
        state
            .metrics
            .tenant_status
            .get_or_create(&crate::metrics::TenantLabels {
                tenant: tenant.id.clone(),
            })
            .set(value);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
