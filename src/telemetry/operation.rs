//! The span of one GraphQL operation (`query Profile`, kind SERVER), child of the caller's
//! `traceparent` when it sent one: the operation's type and name, and how it ended (outcome and
//! first error code). Never the document, the variables or an error's message: those hold
//! emails, user ids and search text, and traces leave for a third-party backend.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::TARGET;

/// Longest operation name put on a span; a longer one is left out.
const MAX_NAME: usize = 64;

/// The caller's W3C trace context (`traceparent`, `tracestate`), when spans are exported and
/// it sent a valid one. Shared by the operations of a batch.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientTrace(Option<opentelemetry::Context>);

impl ClientTrace {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        if !super::enabled() || !headers.contains_key("traceparent") {
            return Self(None);
        }
        let context = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
        // An unreadable traceparent is ignored: the operation starts a trace of its own.
        let valid = context.span().span_context().is_valid();
        Self(valid.then_some(context))
    }
}

/// Opens the operation's span, before its document is read. It starts when first entered, so
/// [`describe`] can still name it.
pub(crate) fn start(client: &ClientTrace) -> Span {
    let span = tracing::info_span!(
        target: TARGET,
        "GraphQL Operation",
        otel.kind = "server",
        otel.name = Empty,
        otel.status_code = Empty,
        graphql.operation.type = Empty,
        graphql.operation.name = Empty,
        tenantgraph.outcome = Empty,
        error.type = Empty,
    );
    if let Some(parent) = &client.0 {
        // Fails only when the span is not exported.
        let _ = span.set_parent(parent.clone());
    }
    span
}

/// Names the span after the operation of `document` that `requested` (the request's operation
/// name) selects: `query Profile`.
pub(crate) fn describe(span: &Span, document: &ExecutableDocument, requested: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    let (name, kind) = match (&document.operations, requested) {
        (DocumentOperations::Single(operation), _) => (None, operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(requested)) => {
            match operations.get_key_value(requested) {
                Some((name, operation)) => (Some(name.as_str()), operation.node.ty),
                None => return,
            }
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            match operations.iter().next() {
                Some((name, operation)) => (Some(name.as_str()), operation.node.ty),
                None => return,
            }
        }
        (DocumentOperations::Multiple(_), None) => return,
    };
    let kind = match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    span.record("graphql.operation.type", kind);
    // A GraphQL name is letters, digits and underscores; only its length needs a bound.
    match name.filter(|name| name.len() <= MAX_NAME) {
        Some(name) => {
            span.record("graphql.operation.name", name);
            span.record("otel.name", format!("{kind} {name}").as_str());
        }
        None => {
            span.record("otel.name", kind);
        }
    }
}

/// Records how the operation ended: `outcome` (ok, partial, error: `crate::metrics::outcome`)
/// as `tenantgraph.outcome`, the first error's code as `error.type`, and an error status when
/// there is no data at all.
pub(crate) fn finish(span: &Span, outcome: &str, errors: &[async_graphql::ServerError]) {
    if span.is_disabled() {
        return;
    }
    span.record("tenantgraph.outcome", outcome);
    if let Some(error) = errors.first() {
        span.record("error.type", error_code(error));
    }
    if outcome == "error" {
        span.record("otel.status_code", "error");
    }
}

/// An error's `extensions.code` when it is one of ours (upper-case words), else `_OTHER`:
/// errors async-graphql raises itself get their code only later, on their way to the client.
fn error_code(error: &async_graphql::ServerError) -> &str {
    let code = error
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .and_then(|code| match code {
            async_graphql::Value::String(code) => Some(code.as_str()),
            _ => None,
        });
    code.filter(|code| {
        (1..=40).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
    })
    .unwrap_or("_OTHER")
}
