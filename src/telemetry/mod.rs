//! OpenTelemetry traces, exported over OTLP/HTTP and off unless configured: a span per GraphQL
//! operation, a child span per call to a tenant, and W3C trace context taken from clients and
//! passed on to Auth0.
//!
//! - `settings`: whether traces are exported and where (`[telemetry]`, then `OTEL_*`).
//! - `export`: the exporter, the span layer, and flushing at shutdown.
//! - `operation`: the span of one GraphQL operation, child of the caller's `traceparent`.
//! - `upstream`: the span of one call to a tenant, and the `traceparent` it sends.
//!
//! The spans are `tracing` spans of their own target, turned into OpenTelemetry spans by a
//! layer that sees nothing else: no log event and no field but those written in `operation`
//! and `upstream` reaches the collector, and those never hold a document, variables, an error's
//! message, a path, an email, a user id or a token. Log output never shows these spans.
//!
//! Off, no layer wants that target: `tracing` answers "disabled" from a flag cached per call
//! site, the spans are `Span::none()`, and nothing is parsed, injected or allocated.

mod export;
pub(crate) mod operation;
mod settings;
pub(crate) mod upstream;

use futures::future::BoxFuture;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

pub use export::Telemetry;
pub(crate) use operation::ClientTrace;
pub use settings::Settings;

/// The `tracing` target of every span exported, and of nothing else.
pub(crate) const TARGET: &str = "tenantgraph::otel";

/// Whether spans are exported from this thread's subscriber.
fn enabled() -> bool {
    tracing::span_enabled!(target: TARGET, tracing::Level::INFO)
}

/// `filter` with the exported spans left out of the log, whatever `RUST_LOG` says: they would
/// add a context to every line and cost a formatted copy of their fields.
pub fn keep_out_of_logs(filter: EnvFilter) -> EnvFilter {
    match format!("{TARGET}=off").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

/// Runs a request's background work (the dataloader's batches) as a task of its own. When
/// spans are exported it carries the current span, so that the calls it makes to tenants are
/// children of the operation that asked.
pub(crate) fn spawn(task: BoxFuture<'static, ()>) {
    if enabled() {
        tokio::spawn(task.in_current_span());
    } else {
        tokio::spawn(task);
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Off, with the log as `main` sets it up at its most verbose, no span is built at all.
    #[test]
    fn off_no_span_is_built_even_when_everything_is_logged() {
        let logs = tracing_subscriber::fmt::layer()
            .with_writer(std::io::sink)
            .with_filter(keep_out_of_logs(EnvFilter::new("trace")));
        let subscriber = tracing_subscriber::registry().with(logs);
        tracing::subscriber::with_default(subscriber, || {
            assert!(!enabled());
            assert!(operation::start(&ClientTrace::default()).is_disabled());
            let peer = upstream::Peer::of("https://acme.eu.auth0.com");
            let call = upstream::CallSpan::start("acme", &peer, "GET /api/v2/users/{id}");
            assert!(call.span().is_disabled());
            // Logging at trace still logs this crate's own events.
            assert!(tracing::event_enabled!(target: "tenantgraph::tenant", tracing::Level::TRACE));
        });
    }
}
