//! The admin portal and the self-service page over HTTP, as a browser drives them: sign-in
//! through the emulated login pages, each page, each action, and what is refused.

use reqwest::StatusCode;
use test_kit::{HttpBrowser, Page, TestApp, spawn};

async fn admin(app: &TestApp, persona: &str) -> (HttpBrowser, Page) {
    let mut browser = HttpBrowser::new(&app.base());
    let page = browser.sign_in_as("/admin/", persona).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    (browser, page)
}

#[tokio::test]
async fn a_global_admin_signs_in_and_lands_on_the_dashboard() {
    let app = spawn().await;
    let (_, page) = admin(&app, "global_admin").await;
    assert!(page.url.ends_with("/admin/dashboard"), "{}", page.url);
    assert!(page.text().contains("Global Admin"), "{}", page.text());
}

fn user_link(page: &Page) -> String {
    let start = page.body.find("href=\"/admin/user/").expect("a user link") + 6;
    let end = page.body[start..].find('"').unwrap() + start;
    page.body[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn every_page_carries_a_strict_policy_and_no_inline_code() {
    let app = spawn().await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    for path in [
        "/admin/dashboard",
        "/admin/tenants",
        "/admin/users",
        "/admin/person?email=nobody%40example.com",
        "/admin/users/new",
        "/admin/gdpr",
        "/admin/audit",
    ] {
        let page = browser.open(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text());
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
        assert!(!page.body.contains("style="), "{path}: an inline style");
        assert!(!page.body.contains("<script>"), "{path}: an inline script");
        assert!(
            !page.body.contains("https://"),
            "{path}: a third-party address"
        );
    }
}

#[tokio::test]
async fn the_search_finds_users_and_names_a_failed_tenant() {
    let app = spawn().await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open("/admin/users").await;
    assert!(page.body.contains("<label for=\"q\">Search users</label>"));
    let found = browser
        .click(
            &page,
            "Search",
            &[("q", "email_verified:true"), ("order", "EMAIL_ASC")],
        )
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.text().contains("users match"), "{}", found.text());
    assert!(found.body.contains("Next page"));
    app.tenant("globex")
        .control()
        .set_faults(tenant_emulator::Faults {
            down: true,
            ..Default::default()
        })
        .unwrap();
    let partial = browser.open("/admin/users?q=jane*").await;
    assert!(
        partial.text().contains("Some tenants could not be read"),
        "{}",
        partial.text()
    );
    assert!(partial.text().contains("globex"), "{}", partial.text());
}

#[tokio::test]
async fn an_operator_blocks_and_unblocks_a_user_from_its_page() {
    let app = spawn().await;
    let id = app
        .fixture_user("acme-eu", "portal.block@example.com", None)
        .await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let search = browser
        .open("/admin/users?q=email%3A%22portal.block%40example.com%22")
        .await;
    let page = browser.open(&user_link(&search)).await;
    assert!(page.body.contains(&id), "{}", page.text());
    let blocked = browser.click(&page, "Block", &[]).await;
    assert!(
        blocked.text().contains("The user is blocked."),
        "{}",
        blocked.text()
    );
    assert!(blocked.has_button("Unblock"));
    let unblocked = browser.click(&blocked, "Unblock", &[]).await;
    assert!(unblocked.has_button("Block"));
    let ticket = browser
        .click(&unblocked, "Create password change ticket", &[])
        .await;
    assert!(
        ticket.body.contains("/lo/reset?ticket="),
        "{}",
        ticket.text()
    );
    assert!(
        ticket
            .body
            .contains("data-copy=\"flash-link\">Copy link</button>")
    );
}

#[tokio::test]
async fn a_form_without_the_sessions_token_changes_nothing() {
    let app = spawn().await;
    let id = app
        .fixture_user("acme-eu", "portal.csrf@example.com", None)
        .await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let path = format!("/admin/user/acme-eu/{}/block", id.replace('|', "%7C"));
    let forged = browser
        .post(&path, &[("csrf".to_owned(), "forged".to_owned())])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = browser.post(&path, &[]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let user = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/users/{}", id.replace('|', "%7C")),
        )
        .await;
    assert_ne!(user["blocked"], serde_json::json!(true));
}

#[tokio::test]
async fn what_an_operator_may_not_do_is_neither_offered_nor_done() {
    let app = spawn().await;
    let id = app
        .fixture_user("acme-us", "portal.auditor@example.com", None)
        .await;
    let (mut browser, home) = admin(&app, "auditor").await;
    assert!(!home.body.contains("Create user") && home.body.contains("Audit"));
    let page = browser
        .open(&format!("/admin/user/acme-us/{}", id.replace('|', "%7C")))
        .await;
    assert!(
        !page.has_button("Delete") && !page.has_button("Block"),
        "{:?}",
        page.buttons()
    );
    // The server refuses anyway.
    let csrf = page.csrf();
    let refused = browser
        .post(
            &format!("/admin/user/acme-us/{}/delete", id.replace('|', "%7C")),
            &[
                ("csrf".to_owned(), csrf),
                (
                    "confirm".to_owned(),
                    "portal.auditor@example.com".to_owned(),
                ),
            ],
        )
        .await;
    let refused = browser.follow(refused).await;
    assert!(
        refused.text().contains("delete:users"),
        "{}",
        refused.text()
    );
    let gdpr = browser.open("/admin/gdpr").await;
    assert_eq!(gdpr.status, StatusCode::FORBIDDEN);
    assert!(gdpr.text().contains("manage:gdpr"));
}

#[tokio::test]
async fn an_organization_admin_is_kept_to_its_organization() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let member = app
        .fixture_user("acme-us", "portal.member@example.com", Some(&organization))
        .await;
    let outsider = app
        .fixture_user("acme-us", "portal.outsider@example.com", None)
        .await;
    let (mut browser, home) = admin(&app, "org_admin").await;
    assert!(home.url.ends_with("/admin/users"), "{}", home.url);
    assert!(!home.body.contains("Dashboard"));
    let other = browser
        .open(&format!(
            "/admin/user/acme-us/{}",
            outsider.replace('|', "%7C")
        ))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let mine = browser
        .open(&format!(
            "/admin/user/acme-us/{}",
            member.replace('|', "%7C")
        ))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    let blocked = browser.click(&mine, "Block", &[]).await;
    assert!(
        blocked.text().contains("The user is blocked."),
        "{}",
        blocked.text()
    );
    // A form aimed at the outsider, with a good token, is refused as if it did not exist.
    let csrf = blocked.csrf();
    let refused = browser
        .post(
            &format!("/admin/user/acme-us/{}/block", outsider.replace('|', "%7C")),
            &[("csrf".to_owned(), csrf)],
        )
        .await;
    let refused = browser.follow(refused).await;
    assert!(
        refused.text().contains("no such user"),
        "{}",
        refused.text()
    );
}

#[tokio::test]
async fn a_sign_in_answer_that_is_not_this_browsers_is_refused() {
    let app = spawn().await;
    let mut browser = HttpBrowser::new(&app.base());
    // No sign-in started here.
    let none = browser.get("/admin/callback?code=abc&state=xyz").await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    // A sign-in started, answered with another state.
    let login = browser.open("/admin/").await;
    let answer = browser.press(&login, "Sign in as global_admin", &[]).await;
    let callback = answer.location().unwrap();
    let (base, _) = callback.split_once('?').unwrap();
    let query: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(callback.split_once('?').unwrap().1).unwrap();
    let wrong = browser
        .get(&format!(
            "{base}?code={}&state=not-the-state",
            query["code"]
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.text().contains("state"), "{}", wrong.text());
    // A code of one sign-in with another sign-in's state: the PKCE verifier does not match.
    // (The issuer remembers the browser now, so /authorize answers at once with a code.)
    let login = browser.get("/admin/login").await;
    let first = browser.get(&login.location().unwrap()).await;
    let first: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(first.location().unwrap().split_once('?').unwrap().1).unwrap();
    let second = browser.get("/admin/login").await;
    let state: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(second.location().unwrap().split_once('?').unwrap().1).unwrap();
    let mixed = browser
        .get(&format!(
            "/admin/callback?code={}&state={}",
            first["code"], state["state"]
        ))
        .await;
    assert_eq!(mixed.status, StatusCode::BAD_GATEWAY, "{}", mixed.text());
    assert!(mixed.text().contains("verifier"), "{}", mixed.text());
    assert!(!browser.cookies.contains_key("tg_admin"));
}

#[tokio::test]
async fn signing_out_ends_the_session_here_and_at_the_issuer() {
    let app = spawn().await;
    let (mut browser, page) = admin(&app, "tenant_admin").await;
    let kept = browser.cookies.clone();
    let out = browser.press(&page, "Sign out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.location().unwrap().contains("/oidc/logout"),
        "{:?}",
        out.location()
    );
    let landing = browser.follow(out).await;
    assert!(
        landing.url.ends_with("/admin/signed-out"),
        "{}",
        landing.url
    );
    // A copy of the old cookie is refused too.
    browser.cookies = kept;
    let again = browser.get("/admin/tenants").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(again.location().unwrap().starts_with("/admin/login"));
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = test_kit::spawn_with(test_kit::Options::default().gateway(|config| {
        config.portal.as_mut().unwrap().session_idle = std::time::Duration::from_millis(400);
    }))
    .await;
    let (mut browser, page) = admin(&app, "global_admin").await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let refused = browser.press(&page, "Sign out", &[]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.text().contains("session has ended"),
        "{}",
        refused.text()
    );
    let again = browser.get("/admin/users").await;
    assert!(again.location().unwrap().starts_with("/admin/login"));
}

#[tokio::test]
async fn an_end_user_signs_in_through_their_tenant_and_accepts_the_terms() {
    let app = spawn().await;
    let mut browser = HttpBrowser::new(&app.base());
    let chooser = browser.open("/account/").await;
    assert!(
        chooser.text().contains("Sign in with ACME Europe"),
        "{}",
        chooser.text()
    );
    let start = format!("/account/login?tenant={}", "ACME%20Europe");
    let login = browser.open(&start).await;
    let me = browser.click(&login, "Sign in as user", &[]).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert!(me.url.ends_with("/account/"));
    let accepted = browser.click(&me, "Accept terms", &[]).await;
    assert!(
        accepted.text().contains("you have accepted the terms"),
        "{}",
        accepted.text()
    );
    assert!(!accepted.has_button("Accept terms"));
    let saved = browser
        .click(
            &accepted,
            "Save",
            &[("meta_language", "de"), ("meta_salutation", "Dr")],
        )
        .await;
    assert!(
        saved.text().contains("Your profile is saved."),
        "{}",
        saved.text()
    );
    let answer = app
        .query(
            &app.tokens.user,
            "{ me { userMetadata termsAccepted } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(answer["data"]["me"]["userMetadata"]["language"], "de");
    assert_eq!(answer["data"]["me"]["termsAccepted"], true);
    let reset = browser.click(&saved, "Reset password", &[]).await;
    assert!(
        reset.text().contains("sent you an email"),
        "{}",
        reset.text()
    );
}
