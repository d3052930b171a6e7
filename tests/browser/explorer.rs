//! The explorer as a person uses it: the demo opens it signed in as the global administrator.

use serde_json::json;
use test_kit::fantoccini::key::Key;
use test_kit::{Browser, By, Options, TestApp, data, spawn_with};

const RESPONSE: By<'static> = By::Role("region", "Response");

/// The demo's gateway, its explorer opening with the global administrator's token.
async fn demo() -> TestApp {
    spawn_with(Options::default().explorer_as(|t| &t.global_admin)).await
}

/// The explorer open, its schema loaded (the docs list the root types).
async fn open(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url()).await;
    browser.find(By::role("button", "Query")).await;
    browser.find(By::role("button", "Mutation")).await;
}

pub async fn the_opening_example_runs_with_nothing_but_loopback_and_no_console_error() {
    let app = demo().await;
    let browser = Browser::start().await;
    open(&browser, &app).await;
    let query = browser.value("Query").await;
    assert!(query.contains("searchUsers"), "opens on a search: {query}");
    let headers = browser.value("Headers (JSON)").await;
    assert!(
        headers.contains(&format!("Bearer {}", app.tokens.global_admin)),
        "the Authorization header is there to see and change: {headers}"
    );

    browser.click("Run").await;
    let status = browser
        .wait_for_text(RESPONSE, |t| t.contains("200 OK"))
        .await;
    assert!(status.contains(" ms"), "with its timing: {status}");
    let body = browser
        .wait_for_text("Response body", |t| t.contains("\"totalCount\""))
        .await;
    assert!(body.contains("\"edges\""), "{body}");
    assert!(!body.contains("\"errors\""), "{body}");

    // Next page: the cursor goes into $after and the search runs again.
    browser.click("Next page").await;
    browser
        .wait_for("the second page's cursor in the variables", async || {
            let variables = browser.value("Variables (JSON)").await;
            (!variables.contains("\"after\": null")).then_some(())
        })
        .await;
    browser
        .wait_for_text("Response body", |t| {
            t.contains("\"totalCount\"") && t != body
        })
        .await;

    let origin = format!("http://{}/", app.addr);
    let urls = browser.requested_urls().await;
    assert!(
        urls.len() >= 4,
        "the page, its two files, requests: {urls:?}"
    );
    for url in &urls {
        assert!(url.starts_with(&origin), "{url} is not on {origin}");
    }
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    assert_eq!(browser.unnamed_controls().await, Vec::<String>::new());
    // The check sees an unnamed control when there is one.
    browser
        .eval(
            "document.body.append(document.createElement('button'));",
            vec![],
        )
        .await;
    assert_eq!(browser.unnamed_controls().await, ["button#."]);
    // And the policy holds in the browser: inline style and HTML sinks are refused, loudly.
    let refused = browser
        .eval(
            "const style = document.createElement('style');
             style.textContent = 'body { color: red }';
             document.head.append(style);
             try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return false; }
             catch (error) { return error instanceof TypeError; }",
            vec![],
        )
        .await;
    assert_eq!(refused, json!(true), "Trusted Types refuse an HTML string");
    let errors = browser
        .wait_for("the policy's report in the console", async || {
            let errors = browser.console_errors().await;
            (!errors.is_empty()).then_some(errors)
        })
        .await;
    assert!(
        errors.iter().any(|e| e.contains("Content Security Policy")),
        "{errors:?}"
    );
    browser.close().await;
}

pub async fn another_token_in_the_headers_makes_another_caller() {
    let app = demo().await;
    let me = app
        .query(&app.tokens.user, "{ me { id } }", json!({}))
        .await;
    let user_id = data(&me)["me"]["id"].as_str().unwrap().to_owned();
    let browser = Browser::start().await;
    open(&browser, &app).await;

    browser
        .select("Example", "My profile (me), for end users")
        .await;
    browser
        .wait_for_text(RESPONSE, |t| t.contains("My profile"))
        .await;
    // Ctrl+Enter runs from the editor.
    browser
        .type_keys("Query", &format!("{}{}", Key::Control, Key::Enter))
        .await;
    browser
        .wait_for_text("Response body", |t| t.contains("\"me\": null"))
        .await;

    browser
        .fill(
            "Headers (JSON)",
            &format!(r#"{{"Authorization": "Bearer {}"}}"#, app.tokens.user),
        )
        .await;
    browser
        .wait_for_text(By::css("#identity"), |t| t.contains("End user"))
        .await;
    browser.click("Run").await;
    let body = browser
        .wait_for_text("Response body", |t| t.contains(&user_id))
        .await;
    assert!(body.contains("\"acme-eu\""), "{body}");

    // A token that is no token is refused, readably.
    browser
        .fill("Headers (JSON)", r#"{"Authorization": "Bearer nonsense"}"#)
        .await;
    browser.click("Run").await;
    browser.wait_for_text(RESPONSE, |t| t.contains("401")).await;
    let errors = browser.text(By::role("list", "Errors")).await;
    assert!(
        errors.contains("UNAUTHENTICATED") && errors.contains("invalid bearer token"),
        "{errors}"
    );
    let errors = browser.console_errors().await;
    assert!(
        errors.iter().all(|e| e.contains("status of 401")),
        "only the refusals themselves: {errors:?}"
    );
    browser.close().await;
}

pub async fn the_docs_list_the_query_fields_and_insert_them() {
    let app = demo().await;
    let browser = Browser::start().await;
    open(&browser, &app).await;

    browser.click("Query").await;
    let fields = browser
        .wait_for_text("Fields of Query", |t| t.contains("searchUsers"))
        .await;
    for field in [
        "tenants",
        "user",
        "users",
        "searchUsers",
        "usersByEmail",
        "person",
        "me",
        "stats",
    ] {
        assert!(
            fields.lines().any(|l| l.starts_with(&format!("{field}:"))
                || l.starts_with(&format!("{field}("))),
            "{field} in {fields}"
        );
    }
    assert!(
        fields.contains("Auth0 user-search (Lucene) syntax"),
        "with descriptions"
    );

    browser.fill("Search the schema", "orderBy").await;
    let results = browser
        .wait_for_text("Search results", |t| {
            t.contains("Query.searchUsers(orderBy)")
        })
        .await;
    assert!(!results.is_empty());
    browser.click("Query.searchUsers(orderBy)").await;
    browser
        .wait_for_text("Fields of Query", |t| t.contains("searchUsers"))
        .await;

    // Two operations: the one chosen runs.
    browser
        .select("Example", "Two operations in one document")
        .await;
    browser.find("Operation").await;
    browser.select("Operation", "TenantHealth (query)").await;
    browser.click("Run").await;
    browser
        .wait_for_text("Response body", |t| t.contains("\"status\": \"UP\""))
        .await;

    browser.fill("Query", "query Mine { ").await;
    browser.click("Insert tenants").await;
    let query = browser.value("Query").await;
    assert!(query.contains("query Mine { tenants { id }"), "{query}");

    // Tab indents in the editor; Esc, then Tab, leaves it: no keyboard trap.
    browser.type_keys("Query", &Key::Tab.to_string()).await;
    assert!(browser.value("Query").await.ends_with("{ id }  "));
    let focused = "return document.activeElement.id;";
    assert_eq!(browser.eval(focused, vec![]).await, json!("query"));
    browser
        .type_keys("Query", &format!("{}{}", Key::Escape, Key::Tab))
        .await;
    assert_ne!(browser.eval(focused, vec![]).await, json!("query"));
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    browser.close().await;
}

pub async fn the_explorer_fits_a_phone() {
    let app = demo().await;
    let browser = Browser::start_phone(390, 844).await;
    browser.goto(&app.url()).await;
    browser.find("Run").await;
    let path = std::env::temp_dir().join("tenantgraph-explorer-390.png");
    browser.screenshot(&path).await;
    let overflow = browser
        .eval(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await;
    assert_eq!(overflow, json!(0), "nothing wider than the screen");
    // The schema starts folded away on a phone, one tap from view.
    browser.click("Docs").await;
    browser.find("Search the schema").await;
    browser.click("Run").await;
    browser
        .wait_for_text("Response body", |t| t.contains("\"totalCount\""))
        .await;
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    browser.close().await;
}
