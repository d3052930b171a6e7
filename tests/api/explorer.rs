//! The explorer over HTTP: the page and its files, their types, caching and security headers,
//! the loopback rule for a page holding a token, and nothing fetched from another host.

use reqwest::header::HeaderMap;
use test_kit::{Options, TestApp, spawn, spawn_with};

const POLICY: [&str; 8] = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
];
const ASSETS: [(&str, &str); 2] = [
    ("/explorer/explorer.js", "text/javascript; charset=utf-8"),
    ("/explorer/explorer.css", "text/css; charset=utf-8"),
];

fn base(app: &TestApp) -> String {
    format!("http://{}", app.addr)
}

async fn page(app: &TestApp, host: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url()).header("accept", "text/html");
    if let Some(host) = host {
        request = request.header("host", host);
    }
    request.send().await.unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The headers every explorer response carries.
fn assert_secured(headers: &HeaderMap, what: &str) {
    let policy = header(headers, "content-security-policy");
    for directive in POLICY {
        assert!(
            policy.split(';').any(|d| d.trim() == directive),
            "{what}: the policy lacks `{directive}`: {policy}"
        );
    }
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer", "{what}");
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
}

#[tokio::test]
async fn the_explorer_page_is_served_to_browsers_under_a_strict_policy() {
    let app = spawn().await;
    let response = page(&app, None).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert_secured(&headers, "the page");
    assert_eq!(
        header(&headers, "cache-control"),
        "no-cache",
        "without a token the page may be kept, revalidated"
    );
    assert_eq!(header(&headers, "vary"), "Accept");
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>tenantgraph explorer</title>"));
    assert!(html.contains(r#"<script src="/explorer/explorer.js" defer></script>"#));
    assert!(html.contains(r#"<link rel="stylesheet" href="/explorer/explorer.css">"#));
    assert!(
        html.contains(r#"data-authorization="""#),
        "no token without a persona"
    );
}

#[tokio::test]
async fn the_explorer_files_have_their_types_and_are_revalidated() {
    let app = spawn().await;
    for (path, content_type) in ASSETS {
        let response = app
            .client
            .get(format!("{}{path}", base(&app)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert_eq!(header(&headers, "content-type"), content_type, "{path}");
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{path}");
        assert_secured(&headers, path);
        let etag = header(&headers, "etag").to_owned();
        assert!(!response.text().await.unwrap().is_empty(), "{path}");

        let again = app
            .client
            .get(format!("{}{path}", base(&app)))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}: unchanged, not sent again");
        assert_eq!(header(again.headers(), "etag"), etag);
        assert!(again.text().await.unwrap().is_empty());
    }
    let missing = app
        .client
        .get(format!("{}/explorer/graphiql.js", base(&app)))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn nothing_the_explorer_serves_refers_to_another_host() {
    let app = spawn().await;
    let mut served = vec![(
        "the page".to_owned(),
        page(&app, None).await.text().await.unwrap(),
    )];
    for (path, _) in ASSETS {
        let body = app
            .client
            .get(format!("{}{path}", base(&app)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        served.push((path.to_owned(), body));
    }
    for (what, body) in served {
        let lower = body.to_ascii_lowercase();
        for external in [
            "http://", "https://", "unpkg", "jsdelivr", "cdnjs", "@import", "url(",
        ] {
            assert!(!lower.contains(external), "{what} contains `{external}`");
        }
        for attribute in ["src=\"//", "href=\"//"] {
            assert!(
                !lower.contains(attribute),
                "{what} has a protocol-relative URL"
            );
        }
    }
}

#[tokio::test]
async fn a_page_holding_a_token_is_served_only_to_a_loopback_host_and_never_stored() {
    let app = spawn_with(Options::default().explorer_as(|t| &t.global_admin)).await;
    let port = app.addr.port();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let response = page(&app, Some(&host)).await;
        assert_eq!(response.status(), 200, "{host}");
        let headers = response.headers().clone();
        assert_eq!(header(&headers, "cache-control"), "no-store", "{host}");
        assert_secured(&headers, &host);
        let html = response.text().await.unwrap();
        assert!(
            html.contains(&format!(
                r#"data-authorization="Bearer {}""#,
                app.tokens.global_admin
            )),
            "{host}: the page opens with the persona's token"
        );
    }
    for host in [
        format!("rebound.example:{port}"),
        format!("127.0.0.1.rebound.example:{port}"),
        "localhost.rebound.example".to_owned(),
    ] {
        let response = page(&app, Some(&host)).await;
        assert_eq!(response.status(), 403, "{host}");
        assert_secured(&response.headers().clone(), &host);
        let body = response.text().await.unwrap();
        assert!(!body.contains(&app.tokens.global_admin), "{host}");
    }
    // The files hold no secret: any name may have them.
    let script = app
        .client
        .get(format!("{}/explorer/explorer.js", base(&app)))
        .header("host", format!("rebound.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        !script
            .text()
            .await
            .unwrap()
            .contains(&app.tokens.global_admin)
    );
}

#[tokio::test]
async fn the_explorer_is_off_by_default_with_its_files() {
    let app = spawn_with(Options::default().gateway(|c| {
        c.server.graphiql = tenantgraph::config::ServerConfig::default().graphiql;
    }))
    .await;
    assert_eq!(page(&app, None).await.status(), 404);
    for (path, _) in ASSETS {
        let response = app
            .client
            .get(format!("{}{path}", base(&app)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}
