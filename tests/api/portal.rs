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
    app.take_down("globex");
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

fn path_of(tenant: &str, id: &str) -> String {
    format!("/admin/user/{tenant}/{}", id.replace('|', "%7C"))
}

#[tokio::test]
async fn the_tenants_page_shows_each_tenant_in_reach_with_its_status_and_domain() {
    let app = spawn().await;
    let (mut browser, _) = admin(&app, "tenant_admin").await;
    let page = browser.open("/admin/tenants").await;
    let text = page.text();
    assert!(
        text.contains("ACME Europe") && text.contains("UP"),
        "{text}"
    );
    assert!(text.contains(app.tenant("acme-eu").domain()), "{text}");
    assert!(!text.contains("Globex"), "out of reach: {text}");
}

#[tokio::test]
async fn the_person_page_puts_the_accounts_side_by_side() {
    let app = spawn().await;
    let email = "portal.person@example.com";
    app.verified_fixture_user("acme-eu", email, None).await;
    app.verified_fixture_user("globex", email, None).await;
    let holder = app.fixture_user("acme-us", email, None).await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open("/admin/person").await;
    let found = browser
        .click(&page, "Find the person", &[("email", email)])
        .await;
    assert_eq!(
        found.body.matches("class=\"card\"").count(),
        2,
        "{}",
        found.text()
    );
    assert!(found.text().contains("ACME Europe") && found.text().contains("Globex"));
    assert!(
        found.text().contains("without verifying it"),
        "{}",
        found.text()
    );
    assert!(found.text().contains(&holder));
}

#[tokio::test]
async fn creating_a_user_shows_auth0s_refusal_in_place_then_the_new_user() {
    let app = spawn().await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let form = browser.open("/admin/users/new").await;
    let fields = [
        ("tenant", "acme-us"),
        ("email", "portal.created@example.com"),
        ("password", "weak"),
        ("name", "Portal Created"),
    ];
    let refused = browser.click(&form, "Create user", &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("Password is too weak"),
        "{}",
        refused.text()
    );
    assert!(
        refused
            .body
            .contains("value=\"portal.created@example.com\"")
    );
    assert!(
        !refused.body.contains("value=\"weak\""),
        "the password is not sent back"
    );
    let created = browser
        .click(
            &refused,
            "Create user",
            &[
                ("password", "Portal-Passw0rd!"),
                ("email", "portal.created@example.com"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert!(
        created.text().contains("was created in acme-us"),
        "{}",
        created.text()
    );
    assert!(
        created.url.contains("/admin/user/acme-us/"),
        "{}",
        created.url
    );
}

#[tokio::test]
async fn an_organization_admins_new_user_joins_its_organization() {
    let app = spawn().await;
    let organization = app.env.demo_organization().unwrap();
    let mut operator =
        tenant_emulator::ExtraUser::new("org.creator@operators.test", "Org-Creator-1");
    operator.name = Some("Org Creator".into());
    operator.email_verified = true;
    operator.permissions = vec!["read:users".into(), "create:users".into()];
    operator.org_id = Some(organization.clone());
    operator.claims.insert(
        tenantgraph::demo::TENANTS_CLAIM.into(),
        serde_json::json!(["acme-us"]),
    );
    app.env.operators.control().add_user(operator).unwrap();
    let mut browser = HttpBrowser::new(&app.base());
    let login = browser.open("/admin/").await;
    let home = browser
        .click(
            &login,
            "Continue",
            &[
                ("username", "org.creator@operators.test"),
                ("password", "Org-Creator-1"),
            ],
        )
        .await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    let form = browser.open("/admin/users/new").await;
    let created = browser
        .click(
            &form,
            "Create user",
            &[
                ("tenant", "acme-us"),
                ("email", "org.new@example.com"),
                ("password", "Org-New-Passw0rd"),
            ],
        )
        .await;
    assert!(created.text().contains("was created"), "{}", created.text());
    let id = app
        .users_of("acme-us")
        .into_iter()
        .find(|u| u.email.as_deref() == Some("org.new@example.com"))
        .unwrap()
        .user_id;
    let members = app
        .tenant("acme-us")
        .control()
        .organizations()
        .into_iter()
        .find(|o| o.id == organization)
        .unwrap()
        .members;
    assert!(members.contains(&id));
}

#[tokio::test]
async fn metadata_editors_show_errors_in_place_and_save_what_changed() {
    let app = spawn().await;
    let id = app
        .fixture_user("acme-eu", "portal.meta@example.com", None)
        .await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open(&path_of("acme-eu", &id)).await;
    assert!(page.has_button("Save app_metadata"));
    let broken = browser
        .click(&page, "Save user_metadata", &[("json", "{\"language\": ")])
        .await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        broken.text().contains("Not valid JSON"),
        "{}",
        broken.text()
    );
    assert!(
        broken.body.contains("{&quot;language&quot;: </textarea>")
            || broken.body.contains("{\"language\": </textarea>"),
        "the text is kept"
    );
    let saved = browser
        .click(
            &broken,
            "Save user_metadata",
            &[("json", "{\"language\": \"fr\", \"theme\": \"dark\"}")],
        )
        .await;
    assert!(
        saved.text().contains("user_metadata is saved"),
        "{}",
        saved.text()
    );
    let user = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/users/{}", id.replace('|', "%7C")),
        )
        .await;
    assert_eq!(
        user["user_metadata"],
        serde_json::json!({"language": "fr", "theme": "dark"})
    );
    let trimmed = browser
        .click(
            &saved,
            "Save user_metadata",
            &[("json", "{\"language\": \"fr\"}")],
        )
        .await;
    assert!(trimmed.text().contains("is saved"));
    let user = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/users/{}", id.replace('|', "%7C")),
        )
        .await;
    assert_eq!(user["user_metadata"], serde_json::json!({"language": "fr"}));
    // Auth0's reserved keys are refused by the gateway, in place.
    let reserved = browser
        .click(
            &trimmed,
            "Save app_metadata",
            &[("json", "{\"blocked\": true}")],
        )
        .await;
    assert_eq!(
        reserved.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reserved.text()
    );

    // The organization's admin may not read app_metadata: no editor is shown.
    let organization = app.env.demo_organization().unwrap();
    let member = app
        .fixture_user(
            "acme-us",
            "portal.meta.member@example.com",
            Some(&organization),
        )
        .await;
    let (mut org, _) = admin(&app, "org_admin").await;
    let page = org.open(&path_of("acme-us", &member)).await;
    assert!(page.has_button("Save user_metadata") && !page.body.contains("app_metadata"));
}

#[tokio::test]
async fn the_profile_form_saves_what_changed() {
    let app = spawn().await;
    let id = app
        .fixture_user("acme-eu", "portal.profile@example.com", None)
        .await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open(&path_of("acme-eu", &id)).await;
    let saved = browser
        .click(
            &page,
            "Save",
            &[("name", "Renamed Person"), ("nickname", "renamed")],
        )
        .await;
    assert!(
        saved.text().contains("The profile is saved."),
        "{}",
        saved.text()
    );
    let user = app
        .management_get(
            "acme-eu",
            &format!("/api/v2/users/{}", id.replace('|', "%7C")),
        )
        .await;
    assert_eq!(user["name"], "Renamed Person");
    assert_eq!(user["nickname"], "renamed");
    let verification = browser.click(&saved, "Send verification email", &[]).await;
    assert!(
        verification.text().contains("verification email"),
        "{}",
        verification.text()
    );
}

#[tokio::test]
async fn brute_force_blocks_are_listed_and_removed() {
    let app = spawn().await;
    let email = "portal.locked@example.com";
    let id = app.fixture_user("acme-eu", email, None).await;
    for _ in 0..10 {
        let _ = app
            .env
            .sign_in(app.tenant("acme-eu"), email, "wrong-password")
            .await;
    }
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open(&path_of("acme-eu", &id)).await;
    assert!(
        page.has_button("Remove brute-force blocks"),
        "{}",
        page.text()
    );
    let lifted = browser.click(&page, "Remove brute-force blocks", &[]).await;
    assert!(
        lifted.text().contains("brute-force blocks are removed"),
        "{}",
        lifted.text()
    );
    assert!(!lifted.has_button("Remove brute-force blocks"));
}

#[tokio::test]
async fn deleting_a_user_takes_its_email_typed_again() {
    let app = spawn().await;
    let email = "portal.delete@example.com";
    let id = app.fixture_user("acme-eu", email, None).await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open(&path_of("acme-eu", &id)).await;
    let kept = browser
        .click(&page, "Delete", &[("confirm", "someone@else.example")])
        .await;
    assert!(
        kept.text().contains("Nothing was deleted"),
        "{}",
        kept.text()
    );
    let gone = browser.click(&kept, "Delete", &[("confirm", email)]).await;
    assert!(gone.url.ends_with("/admin/users"), "{}", gone.url);
    assert!(
        gone.text().contains("was deleted from acme-eu"),
        "{}",
        gone.text()
    );
    assert!(!app.users_of("acme-eu").iter().any(|u| u.user_id == id));
}

#[tokio::test]
async fn data_subject_requests_export_a_download_and_erase_after_confirmation() {
    let app = spawn().await;
    let email = "portal.subject@example.com";
    app.verified_fixture_user("acme-eu", email, None).await;
    app.verified_fixture_user("globex", email, None).await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open("/admin/gdpr").await;
    let export = browser.press(&page, "Export", &[("email", email)]).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    let document: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(document["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(document["complete"], true);
    let mismatch = browser
        .click(
            &page,
            "Erase",
            &[("email", email), ("confirm", "other@example.com")],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.text().contains("Nothing was erased"));
    let erased = browser
        .click(&mismatch, "Erase", &[("email", email), ("confirm", email)])
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    assert_eq!(
        erased
            .body
            .matches("<span class=\"yes\">Yes</span>")
            .count(),
        2,
        "{}",
        erased.text()
    );
}

#[tokio::test]
async fn the_dashboard_filters_by_tenant_and_names_tenants_missing_from_the_figures() {
    let app = spawn().await;
    let mut browser = HttpBrowser::new(&app.base());
    let first = browser.sign_in_as("/admin/tenants", "global_admin").await;
    assert_eq!(first.status, StatusCode::OK);
    let one = browser.open("/admin/dashboard?tenant=acme-eu").await;
    assert!(one.text().contains("Tenant acme-eu"), "{}", one.text());
    assert!(one.body.contains("<svg"), "a chart");
    // Figures are cached: globex fails before anything asked for its own.
    app.take_down("globex");
    let partial = browser.open("/admin/dashboard").await;
    assert!(
        partial
            .text()
            .contains("lack tenants that could not be read: globex"),
        "{}",
        partial.text()
    );
}

#[tokio::test]
async fn the_audit_page_lists_the_latest_writes_with_their_outcome() {
    let app = spawn().await;
    let id = app
        .fixture_user("acme-eu", "portal.audited@example.com", None)
        .await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let page = browser.open(&path_of("acme-eu", &id)).await;
    browser.click(&page, "Block", &[]).await;
    let audit = browser.open("/admin/audit?action=blockUser").await;
    let text = audit.text();
    assert!(
        text.contains("blockUser") && text.contains(&id) && text.contains("succeeded"),
        "{text}"
    );
    let (mut tenant_admin, _) = admin(&app, "tenant_admin").await;
    let theirs = tenant_admin.open("/admin/audit").await;
    assert!(
        theirs.text().contains(&id),
        "acme-eu is in the tenant admin's reach"
    );
}

#[tokio::test]
async fn an_unverified_user_asks_for_a_new_verification_email_and_forms_need_the_token() {
    let app = spawn().await;
    let email = "portal.unverified@example.com";
    app.fixture_user("globex", email, None).await;
    let mut browser = HttpBrowser::new(&app.base());
    let login = browser.open("/account/login?tenant=globex").await;
    let me = browser
        .click(
            &login,
            "Continue",
            &[("username", email), ("password", "Fixture-Passw0rd")],
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert!(me.text().contains("Not yet"), "{}", me.text());
    // The fields the operator declared, and no other.
    assert!(
        me.body.contains("name=\"meta_language\"") && me.body.contains("name=\"meta_salutation\"")
    );
    let forged = browser
        .post(
            "/account/resend-verification",
            &[("csrf".to_owned(), "forged".to_owned())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let sent = browser.click(&me, "Resend verification email", &[]).await;
    assert!(
        sent.text()
            .contains("We have sent you a new verification email."),
        "{}",
        sent.text()
    );
    let out = browser.click(&sent, "Sign out", &[]).await;
    assert!(out.url.ends_with("/account/signed-out"), "{}", out.url);
}

/// Pages spend the signed-in person's per-caller budget as `POST /graphql` does: past it, a
/// page says so instead of running its operations.
#[tokio::test]
async fn pages_spend_the_callers_request_budget() {
    let app = test_kit::spawn_with(test_kit::Options::default().gateway(|config| {
        config.limits.caller_rate = tenantgraph::config::RateLimitConfig {
            per_second: 0.01,
            burst: 12,
        };
    }))
    .await;
    let (mut browser, _) = admin(&app, "global_admin").await;
    let mut served = 0;
    let refused = loop {
        let page = browser.open("/admin/tenants").await;
        if page.text().contains("too many requests") {
            break page;
        }
        assert!(page.text().contains("acme-eu"), "{}", page.text());
        served += 1;
        assert!(served < 12, "the budget of 12 was never spent");
    };
    assert!(served >= 1, "{}", refused.text());
    // The other operators keep their own budget.
    let (mut other, _) = admin(&app, "tenant_admin").await;
    let page = other.open("/admin/tenants").await;
    assert!(page.text().contains("acme-eu"), "{}", page.text());
}
