//! The query explorer served on `GET /graphql` to browsers (when `server.graphiql` is on).
//!
//! The demo opens it with a persona's token filled in. Such a page must only ever reach the
//! browser of the person at the machine: it is served only to a loopback `Host` (a DNS-rebinding
//! page on another name, resolving to 127.0.0.1, gets nothing), and never inside a frame.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The explorer page, rendered once.
#[derive(Debug)]
pub(crate) struct Explorer {
    page: String,
    /// Whether the page carries a bearer token.
    holds_token: bool,
}

impl Explorer {
    pub(crate) fn new(default_token: Option<&str>) -> Self {
        Self {
            page: super::graphql::graphiql_page(default_token),
            holds_token: default_token.is_some(),
        }
    }

    pub(crate) fn serve(&self, headers: &HeaderMap) -> Response {
        if self.holds_token && !loopback_host(headers) {
            return (
                StatusCode::FORBIDDEN,
                "this page holds a token and is served only on 127.0.0.1 or localhost",
            )
                .into_response();
        }
        let mut response = Html(self.page.clone()).into_response();
        let response_headers = response.headers_mut();
        response_headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
        response_headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        response_headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// Whether the request's `Host` names this machine's loopback (with any port).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_loopback_names_are_trusted_with_a_token() {
        for ok in [
            "127.0.0.1:4000",
            "localhost:4000",
            "[::1]:4000",
            "localhost",
        ] {
            assert!(loopback_host(&host(ok)), "{ok}");
        }
        for bad in [
            "evil.example:4000",
            "127.0.0.1.evil.example",
            "localhost.evil:4000",
        ] {
            assert!(!loopback_host(&host(bad)), "{bad}");
        }
        assert!(!loopback_host(&HeaderMap::new()));
    }
}
