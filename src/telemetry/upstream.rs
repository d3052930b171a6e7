//! The span of one call to a tenant (`GET /api/v2/users/{id}`, kind CLIENT), and the W3C
//! `traceparent` and `tracestate` sent with each of its requests. The call is the logical one:
//! its waits for the breaker and the budget, its token, and every retry are inside.
//!
//! Attributes: `tenantgraph.tenant.id`, `http.request.method`, `http.route` and `url.template`
//! (the route template, never the path, which holds user ids and emails), `server.address`,
//! `server.port`, `http.response.status_code` (of the last answer), `http.request.resend_count`
//! (when the request was sent more than once), `error.type` when the call failed.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_http::HeaderInjector;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use reqwest::{RequestBuilder, StatusCode};
use tracing::field::Empty;
use tracing::{Instrument, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::TARGET;

const TRACESTATE: &str = "tracestate";

/// Where a tenant's API is served: `server.address` and `server.port` of its calls' spans.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    address: Arc<str>,
    port: u16,
}

impl Peer {
    /// The host and port of `base_url` (an address the configuration has already accepted).
    pub(crate) fn of(base_url: &str) -> Self {
        let url = reqwest::Url::parse(base_url).ok();
        let address = url
            .as_ref()
            .and_then(reqwest::Url::host_str)
            .map_or("", |host| {
                host.trim_start_matches('[').trim_end_matches(']')
            });
        Self {
            address: Arc::from(address),
            port: url
                .as_ref()
                .and_then(reqwest::Url::port_or_known_default)
                .unwrap_or(443),
        }
    }
}

/// One call's span, the requests it sent and the last status answered.
pub(crate) struct CallSpan {
    span: Span,
    sends: u32,
    status: Option<StatusCode>,
}

impl CallSpan {
    /// Opens the span of a call to `tenant` at `peer`; `endpoint` is the route template as the
    /// metrics label it, `GET /api/v2/users/{id}`.
    pub(crate) fn start(tenant: &str, peer: &Peer, endpoint: &'static str) -> Self {
        let span = tracing::info_span!(
            target: TARGET,
            "upstream",
            otel.name = endpoint,
            otel.kind = "client",
            otel.status_code = Empty,
            tenantgraph.tenant.id = tenant,
            http.request.method = endpoint.split_once(' ').map_or(endpoint, |(m, _)| m),
            http.route = endpoint.split_once(' ').map_or(endpoint, |(_, r)| r),
            url.template = endpoint.split_once(' ').map_or(endpoint, |(_, r)| r),
            server.address = &*peer.address,
            server.port = i64::from(peer.port),
            http.response.status_code = Empty,
            http.request.resend_count = Empty,
            error.type = Empty,
        );
        Self {
            span,
            sends: 0,
            status: None,
        }
    }

    /// The span (tests check it is off when spans are not exported).
    #[cfg(test)]
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// `request`, about to be sent, with this call's trace context.
    pub(crate) fn sending(&mut self, request: RequestBuilder) -> RequestBuilder {
        self.sends += 1;
        // The status is the answer to the last request, not one before it.
        self.status = None;
        if self.span.is_disabled() {
            return request;
        }
        let mut headers = HeaderMap::new();
        TraceContextPropagator::new()
            .inject_context(&self.span.context(), &mut HeaderInjector(&mut headers));
        // The propagator writes an empty `tracestate` when there is none; W3C asks for none.
        if headers.get(TRACESTATE).is_some_and(HeaderValue::is_empty) {
            headers.remove(TRACESTATE);
        }
        request.headers(headers)
    }

    /// The tenant answered `status`.
    pub(crate) fn answered(&mut self, status: StatusCode) {
        self.status = Some(status);
    }

    /// Runs `call` inside this span, then closes it with the call's outcome (`kind` names a
    /// failure, as [`CallSpan::end`] takes it).
    pub(crate) async fn around<T, E>(
        mut self,
        call: impl AsyncFnOnce(&mut Self) -> Result<T, E>,
        kind: impl Fn(&E) -> &'static str,
    ) -> Result<T, E> {
        let span = self.span.clone();
        let result = call(&mut self).instrument(span).await;
        self.end(result.as_ref().err().map(kind));
        result
    }

    /// Closes the span; `failure` names what went wrong (`timeout`, `unavailable`, …) when the
    /// call failed. A failed call that had an error status is typed by that status, as the
    /// HTTP conventions ask.
    pub(crate) fn end(self, failure: Option<&'static str>) {
        if self.span.is_disabled() {
            return;
        }
        if let Some(status) = self.status {
            self.span
                .record("http.response.status_code", i64::from(status.as_u16()));
        }
        if self.sends > 1 {
            self.span
                .record("http.request.resend_count", i64::from(self.sends - 1));
        }
        if let Some(failure) = failure {
            let error_type = match &self.status {
                Some(status) if status.is_client_error() || status.is_server_error() => {
                    status.as_str()
                }
                _ => failure,
            };
            self.span.record("error.type", error_type);
            self.span.record("otel.status_code", "error");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_the_host_and_port_of_its_base_url() {
        let peer = Peer::of("https://acme-eu.eu.auth0.com");
        assert_eq!((&*peer.address, peer.port), ("acme-eu.eu.auth0.com", 443));
        let peer = Peer::of("http://127.0.0.1:4101/");
        assert_eq!((&*peer.address, peer.port), ("127.0.0.1", 4101));
        let peer = Peer::of("http://[::1]:4101");
        assert_eq!((&*peer.address, peer.port), ("::1", 4101));
    }
}
