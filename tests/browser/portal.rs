//! The portal as people use it: each demo persona signs in through the emulated login page (its
//! "Sign in as …" button) and does the main task of the pages it has; the end user signs in
//! through their tenant and accepts the terms. Every page loads nothing but from loopback, logs
//! no console error, names every control, and fits a phone. The README's pictures of the portal
//! are taken here: into `$TENANTGRAPH_SCREENSHOTS` when set (`TENANTGRAPH_SCREENSHOTS=docs cargo
//! test --test browser portal` refreshes `docs/portal-*.png`), else into a temporary directory,
//! so a test run leaves the checkout as it found it.

use std::path::{Path, PathBuf};

use test_kit::fantoccini::key::Key;
use test_kit::{Browser, By, TestApp, spawn};

/// Signs `persona` in on the admin portal through the operator issuer's login page.
async fn sign_in(browser: &Browser, app: &TestApp, persona: &str) {
    browser.goto(&format!("{}/admin/", app.base())).await;
    browser
        .click(By::role("button", &format!("Sign in as {persona}")))
        .await;
    browser.find(By::role("button", "Sign out")).await;
    // The emulated login page's own messages (it has no icon) are not the portal's.
    browser.console().await;
}

/// What every page must be: only loopback, no console error, every control named.
async fn clean(browser: &Browser, page: &str) {
    for url in browser.requested_urls().await {
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "{page} requested {url}"
        );
    }
    assert_eq!(
        browser.console_errors().await,
        Vec::<String>::new(),
        "{page}"
    );
    assert_eq!(
        browser.unnamed_controls().await,
        Vec::<String>::new(),
        "{page}"
    );
}

/// Where the screenshots go (see the module's documentation).
fn screenshots() -> PathBuf {
    let directory = match std::env::var_os("TENANTGRAPH_SCREENSHOTS") {
        Some(path) => Path::new(env!("CARGO_MANIFEST_DIR")).join(path),
        None => {
            std::env::temp_dir().join(format!("tenantgraph-screenshots-{}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

async fn heading(browser: &Browser) -> String {
    browser.text(By::Css("main h1")).await
}

pub async fn the_global_admin_reads_the_dashboard_and_searches_users() {
    let app = spawn().await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, "global_admin").await;
    assert_eq!(heading(&browser).await, "Dashboard");
    browser.find(By::Css("figure.chart svg")).await;
    clean(&browser, "the dashboard").await;
    let pictures = screenshots();
    browser
        .screenshot(&pictures.join("portal-dashboard.png"))
        .await;

    browser.click(By::role("link", "Users")).await;
    browser.fill("Search users", "email_verified:false").await;
    browser.select("Order", "Email, A to Z").await;
    browser.click(By::role("button", "Search")).await;
    let summary = browser
        .wait_for_text(By::Css("main p"), |t| t.ends_with("users match."))
        .await;
    assert!(!summary.starts_with("0 "), "{summary}");
    clean(&browser, "the users page").await;
    browser.screenshot(&pictures.join("portal-users.png")).await;
}

pub async fn the_tenant_admin_blocks_a_user_and_unblocks_them() {
    let app = spawn().await;
    app.fixture_user("acme-eu", "browser.block@example.com", None)
        .await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, "tenant_admin").await;
    browser.click(By::role("link", "Users")).await;
    browser
        .fill("Search users", "email:\"browser.block@example.com\"")
        .await;
    browser.click(By::role("button", "Search")).await;
    browser
        .click(By::role("link", "browser.block@example.com"))
        .await;
    browser.click(By::role("button", "Block")).await;
    browser
        .wait_for_text(By::Css("div.flash.ok"), |t| {
            t.contains("The user is blocked.")
        })
        .await;
    browser.click(By::role("button", "Unblock")).await;
    browser.find(By::role("button", "Block")).await;
    browser
        .click(By::role("button", "Create password change ticket"))
        .await;
    let link = browser.value("Link").await;
    assert!(link.contains("/lo/reset?ticket="), "{link}");
    clean(&browser, "a user's page").await;
}

/// The tenant admin's main task with the keyboard alone: Tab to the search box, type and
/// press Enter, Tab to the user found and open it, Tab to "Block" and press it. Every stop on
/// the way has a name (`tab_to` reads the focused control's accessible name).
pub async fn a_user_is_found_and_blocked_with_the_keyboard_alone() {
    let app = spawn().await;
    app.fixture_user("acme-eu", "keyboard.block@example.com", None)
        .await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, "tenant_admin").await;
    browser.goto(&format!("{}/admin/users", app.base())).await;
    browser.tab_to("Search users").await;
    browser
        .press(&format!(
            "email:\"keyboard.block@example.com\"{}",
            Key::Enter
        ))
        .await;
    browser
        .wait_for_text(By::Css("main p"), |t| t.starts_with("1 user"))
        .await;
    browser.tab_to("keyboard.block@example.com").await;
    browser.press(&Key::Enter.to_string()).await;
    browser.find(By::role("button", "Block")).await;
    browser.tab_to("Block").await;
    browser.press(&Key::Enter.to_string()).await;
    browser
        .wait_for_text(By::Css("div.flash.ok"), |t| {
            t.contains("The user is blocked.")
        })
        .await;
    clean(&browser, "a user's page, by keyboard").await;
}

pub async fn the_org_admin_sees_its_members_only_and_no_dashboard() {
    let app = spawn().await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, "org_admin").await;
    assert_eq!(heading(&browser).await, "Users");
    let nav = browser.text(By::Role("navigation", "Sections")).await;
    assert!(
        !nav.contains("Dashboard") && !nav.contains("Create user"),
        "{nav}"
    );
    let summary = browser
        .wait_for_text(By::Css("main p"), |t| t.ends_with("users match."))
        .await;
    let members: usize = app
        .env
        .tenant("acme-us")
        .unwrap()
        .control()
        .organizations()
        .into_iter()
        .find(|o| o.id == app.env.demo_organization().unwrap())
        .map(|o| o.members.len())
        .unwrap();
    assert_eq!(summary, format!("{members} users match."));
    clean(&browser, "the organization's users").await;
}

pub async fn the_auditor_reads_the_audit_trail() {
    let app = spawn().await;
    let id = app
        .fixture_user("globex", "browser.audit@example.com", None)
        .await;
    let answer = app
        .query(
            &app.tokens.global_admin,
            "mutation($id: ID!) { blockUser(tenant: \"globex\", id: $id) { id } }",
            serde_json::json!({"id": id}),
        )
        .await;
    test_kit::data(&answer);
    let browser = Browser::start().await;
    sign_in(&browser, &app, "auditor").await;
    browser.click(By::role("link", "Audit")).await;
    browser.select("Action", "blockUser").await;
    browser.click(By::role("button", "Filter")).await;
    browser
        .wait_for_text(By::Css("main table"), |t| t.contains(&id))
        .await;
    clean(&browser, "the audit page").await;
}

pub async fn an_end_user_signs_in_at_their_tenant_and_accepts_the_terms_on_a_phone() {
    let app = spawn().await;
    let browser = Browser::start_phone(390, 844).await;
    browser.goto(&format!("{}/account/", app.base())).await;
    browser
        .click(By::role("link", "Sign in with ACME Europe"))
        .await;
    browser.click(By::role("button", "Sign in as user")).await;
    browser.find(By::role("button", "Accept terms")).await;
    browser.console().await;
    browser.click(By::role("button", "Accept terms")).await;
    browser
        .wait_for_text(By::Css("div.flash.ok"), |t| {
            t.contains("accepted the terms")
        })
        .await;
    browser.select("Language", "de").await;
    browser.click(By::role("button", "Save")).await;
    browser
        .wait_for_text(By::Css("div.flash.ok"), |t| {
            t.contains("Your profile is saved.")
        })
        .await;
    let overflow = browser
        .eval(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await;
    assert_eq!(
        overflow,
        serde_json::json!(0),
        "the page is wider than the phone"
    );
    clean(&browser, "the self-service page").await;
}

pub async fn the_admin_pages_fit_a_phone() {
    let app = spawn().await;
    let member = app.users_of("acme-eu")[0].user_id.replace('|', "%7C");
    let browser = Browser::start_phone(390, 844).await;
    sign_in(&browser, &app, "global_admin").await;
    for page in [
        "/admin/dashboard".to_owned(),
        "/admin/users".to_owned(),
        format!("/admin/user/acme-eu/{member}"),
        "/admin/audit".to_owned(),
        "/admin/gdpr".to_owned(),
    ] {
        browser.goto(&format!("{}{page}", app.base())).await;
        browser.find(By::role("button", "Sign out")).await;
        let overflow = browser
            .eval(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await;
        assert_eq!(
            overflow,
            serde_json::json!(0),
            "{page} is wider than the phone"
        );
        clean(&browser, &page).await;
    }
}
