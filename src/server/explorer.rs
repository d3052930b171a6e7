//! The query explorer served on `GET /graphql` to browsers (when `server.graphiql` is on), and
//! its script and style sheet under `/explorer/`.
//!
//! The explorer is our own page: hand-written HTML, CSS and JavaScript in `explorer/`, built
//! into the binary. It loads nothing from anywhere else, so it works on a machine without
//! internet, and every response carries a Content-Security-Policy that holds it to that:
//! scripts, styles and requests from this origin only, Trusted Types for the DOM, no inline
//! script or style, no frames, no forms, no `<base>`.
//!
//! The demo opens it with a persona's token filled in. No inline script may carry it, so it
//! rides in the page's `data-authorization` attribute, HTML-escaped. Such a page must only ever
//! reach the browser of the person at the machine: it is served only to a loopback `Host` (a
//! DNS-rebinding page on another name, resolving to 127.0.0.1, gets nothing), never stored by
//! a cache, and never inside a frame. The assets hold no secret and are served to anyone while
//! the explorer is on, revalidated by `ETag` so that a new binary's assets are picked up at once.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;

/// Scripts, styles, images and requests from this origin only (images also as `data:` URLs:
/// the page's empty icon, which spares the browser asking for `/favicon.ico`); no frames,
/// forms or `<base>`; DOM sinks (`innerHTML` and the like) refused outright: the script never
/// uses them.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

const PAGE: &str = include_str!("explorer/index.html");
/// Where the page's `data-authorization` value goes.
const AUTHORIZATION_SLOT: &str = "{{authorization}}";

/// The files under `/explorer/`: (name, content type, body).
const ASSETS: [(&str, &str, &str); 2] = [
    (
        "explorer.js",
        "text/javascript; charset=utf-8",
        include_str!("explorer/explorer.js"),
    ),
    (
        "explorer.css",
        "text/css; charset=utf-8",
        include_str!("explorer/explorer.css"),
    ),
];

/// The explorer page, rendered once, and its assets.
#[derive(Debug)]
pub(crate) struct Explorer {
    page: String,
    /// Whether the page carries a bearer token.
    holds_token: bool,
    assets: Vec<Asset>,
}

#[derive(Debug)]
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    etag: HeaderValue,
}

impl Explorer {
    pub(crate) fn new(default_token: Option<&str>) -> Self {
        let authorization = default_token.map_or_else(String::new, |t| format!("Bearer {t}"));
        let assets = ASSETS
            .iter()
            .map(|&(name, content_type, body)| Asset {
                name,
                content_type,
                body,
                etag: etag(body),
            })
            .collect();
        Self {
            page: PAGE.replace(AUTHORIZATION_SLOT, &escape_html(&authorization)),
            holds_token: default_token.is_some(),
            assets,
        }
    }

    pub(crate) fn serve(&self, headers: &HeaderMap) -> Response {
        if self.holds_token && !loopback_host(headers) {
            let mut response = (
                StatusCode::FORBIDDEN,
                "this page holds a token and is served only on 127.0.0.1 or localhost",
            )
                .into_response();
            secure(response.headers_mut());
            return response;
        }
        let mut response = self.page.clone().into_response();
        let response_headers = response.headers_mut();
        response_headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        secure(response_headers);
        // A token must not outlive the tab; without one, revalidating is enough.
        let cache = if self.holds_token {
            "no-store"
        } else {
            "no-cache"
        };
        response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        // `GET /graphql` answers JSON to other clients.
        response_headers.insert(header::VARY, HeaderValue::from_static("Accept"));
        response
    }

    fn asset(&self, name: &str, headers: &HeaderMap) -> Response {
        let Some(asset) = self.assets.iter().find(|a| a.name == name) else {
            return (StatusCode::NOT_FOUND, "no such file").into_response();
        };
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag));
        let mut response = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            asset.body.into_response()
        };
        let response_headers = response.headers_mut();
        if !fresh {
            response_headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
        }
        secure(response_headers);
        response_headers.insert(header::ETAG, asset.etag.clone());
        response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

/// `GET /explorer/{file}`: the page's script and style sheet, while the explorer is on.
pub(crate) async fn asset(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    match &state.explorer {
        Some(explorer) => explorer.asset(&file, &headers),
        None => (StatusCode::NOT_FOUND, "the explorer is switched off").into_response(),
    }
}

/// The headers every explorer response carries.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
}

/// A strong validator: the first 128 bits of the body's SHA-256.
fn etag(body: &str) -> HeaderValue {
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Text made safe inside an HTML attribute value (quoted) or element.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
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

    #[test]
    fn the_token_is_escaped_into_one_attribute() {
        let explorer = Explorer::new(Some("a\"b<c>&'d"));
        assert!(
            explorer
                .page
                .contains("data-authorization=\"Bearer a&quot;b&lt;c&gt;&amp;&#39;d\""),
            "{}",
            explorer.page
        );
        assert!(!explorer.page.contains(AUTHORIZATION_SLOT));
        let anonymous = Explorer::new(None);
        assert!(anonymous.page.contains("data-authorization=\"\""));
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let page = PAGE.to_ascii_lowercase();
        assert!(!page.contains("<style"), "no <style> element");
        assert!(!page.contains(" style="), "no style attribute");
        assert_eq!(
            page.matches("<script").count(),
            page.matches("<script src=\"/explorer/explorer.js\"")
                .count(),
            "only the one external script"
        );
        let handler = page.match_indices(" on").any(|(at, _)| {
            let rest = &page[at + 3..];
            let name = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            name > 0 && rest[name..].starts_with('=')
        });
        assert!(!handler, "no inline event handler attribute");
    }
}
