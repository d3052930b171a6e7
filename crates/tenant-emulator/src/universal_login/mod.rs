//! The browser side of signing in, as Auth0's Universal Login offers it to a web app using the
//! authorization code flow (with PKCE): `GET /authorize` (`authorize`), the login page at
//! `/u/login` with its persona buttons (`login`), the logout endpoints (`logout`), and the pages
//! they render (`page`). The code is then exchanged at `POST /oauth/token` (`auth_api`).
//!
//! The browser is known by one cookie, `auth0`, as at Auth0: it ties login transactions to the
//! browser that started them and, after sign-in, carries the login session that lets the next
//! `/authorize` skip the form.

mod authorize;
mod login;
mod logout;
mod page;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/authorize", get(authorize::authorize))
        .route("/u/login", get(login::show).post(login::submit))
        .route("/v2/logout", get(logout::v2_logout))
        .route("/oidc/logout", get(logout::oidc_logout))
}

/// The cookie naming the browser (Auth0's session cookie has the same name).
const COOKIE: &str = "auth0";

/// The value of the browser cookie, if the request carries one.
fn browser_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Sets the browser cookie. Not `Secure`: the emulator speaks plain HTTP. `Lax` still sends it
/// on the top-level navigations to `/authorize` that single sign-on needs.
fn set_cookie(response: &mut Response, value: &str) {
    let cookie = format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

fn clear_cookie(response: &mut Response) {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// A 302 to `location`, never cached.
fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => page::error("invalid_request", "The redirect URL is not a valid URL"),
    }
}

/// `url` with `pairs` appended to its query (keeping a query it already has).
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = url
        .split_once('#')
        .map_or((url, None), |(b, f)| (b, Some(f)));
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{separator}{query}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Sends the browser back to the application with an OAuth error, as Auth0 does for errors
/// found once the client and its `redirect_uri` are known to be genuine.
fn callback_error(
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect(&with_query(redirect_uri, &pairs))
}

/// Sends the browser back to the application with its code.
fn callback_code(redirect_uri: &str, state: Option<&str>, code: &str) -> Response {
    let mut pairs = vec![("code", code)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect(&with_query(redirect_uri, &pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_query_appends_to_an_existing_query_and_keeps_the_fragment_last() {
        assert_eq!(
            with_query("http://a.test/cb", &[("code", "x y"), ("state", "s&t")]),
            "http://a.test/cb?code=x+y&state=s%26t"
        );
        assert_eq!(
            with_query("http://a.test/cb?tab=1#top", &[("code", "c")]),
            "http://a.test/cb?tab=1&code=c#top"
        );
    }

    #[test]
    fn the_browser_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; auth0=xyz; b=2"),
        );
        assert_eq!(browser_cookie(&headers), Some("xyz"));
    }
}
