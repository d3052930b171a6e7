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
