//! `/authorize` and the login page: discovery, Auth0's error pages and error redirects, the page
//! itself, wrong credentials, blocks, and the persona buttons.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{
    ALICE, ALICE_PASSWORD, Browser, CALLBACK, SPA, buttons, callback_query, client, forms,
    location, login_config, pkce,
};
use crate::helpers::{encode, read, spawn_with};

fn spa_params(challenge: &str) -> Vec<(&str, &str)> {
    vec![
        ("response_type", "code"),
        ("client_id", SPA),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile email"),
        ("state", "st4te"),
        ("nonce", "n0nce"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

#[tokio::test]
async fn discovery_lists_the_code_flow_endpoints_at_the_emulators_own_address() {
    let t = spawn_with(login_config(5)).await;
    let (status, doc) = read(
        client()
            .get(t.url("/.well-known/openid-configuration"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["issuer"], "https://test.auth0.test/");
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("end_session_endpoint", "/oidc/logout"),
    ] {
        assert_eq!(doc[field], json!(t.url(path)), "{field}");
    }
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        json!(["S256", "plain"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(
            doc["scopes_supported"]
                .as_array()
                .expect("scopes")
                .contains(&json!(scope))
        );
    }
    for claim in [
        "sub",
        "email",
        "email_verified",
        "name",
        "nickname",
        "picture",
    ] {
        assert!(
            doc["claims_supported"]
                .as_array()
                .expect("claims")
                .contains(&json!(claim))
        );
    }
}

#[tokio::test]
async fn an_unknown_client_gets_auth0s_error_page_and_no_redirect() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let mut params = spa_params(&challenge);
    params[1] = ("client_id", "nobody");
    let answer = browser.authorize(&params).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.headers().get("location").is_none());
    let html = answer.text().await.expect("html");
    assert!(html.contains("Oops!, something went wrong"), "{html}");
    assert!(
        html.contains("invalid_request: Unknown client: nobody"),
        "{html}"
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_the_callback_url_mismatch_page() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let mut params = spa_params(&challenge);
    params[2] = ("redirect_uri", "http://evil.test/callback");
    let answer = browser.authorize(&params).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.headers().get("location").is_none());
    let html = answer.text().await.expect("html");
    assert!(html.contains("<h1>Callback URL mismatch.</h1>"), "{html}");
    assert!(
        html.contains("The provided redirect_uri is not in the list of allowed callback URLs.")
    );
    assert!(html.contains(
        "unauthorized_client: Callback URL mismatch. http://evil.test/callback is not in the list \
         of allowed callback URLs"
    ));
}

#[tokio::test]
async fn authorize_sends_the_browser_to_the_login_page_with_nothing_but_a_transaction_id() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let answer = browser.authorize(&spa_params(&challenge)).await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    let target = location(&answer);
    let transaction = target.strip_prefix("/u/login?state=").expect("login page");
    assert!(
        transaction.len() >= 43 && !transaction.contains('&'),
        "{target}"
    );
    for leaked in ["localhost", "n0nce", "st4te", challenge.as_str()] {
        assert!(!target.contains(leaked), "{target} carries {leaked}");
    }
    let cookie = answer.headers()["set-cookie"].to_str().expect("cookie");
    assert!(
        cookie.starts_with("auth0=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn the_login_page_is_plain_html_with_labelled_fields_and_a_strict_policy() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let answer = browser.authorize(&spa_params(&challenge)).await;
    let page = browser.get(&location(&answer)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    let policy = headers["content-security-policy"].to_str().expect("csp");
    for directive in [
        "default-src 'none'",
        "style-src 'sha256-",
        "form-action 'self' http://localhost:3000",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    let html = page.text().await.expect("html");
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(html.contains(r#"<label for="username">Email</label><input id="username""#));
    assert!(html.contains(r#"<label for="password">Password</label><input id="password""#));
    assert_eq!(buttons(&html), ["Continue", "Sign in as global_admin"]);
    assert!(!html.contains("<script"), "no script");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing external"
    );
    // Only the transaction id is carried, in the action and a hidden field.
    for form in forms(&html) {
        assert!(form.action.starts_with("/u/login?state="));
        assert!(
            form.hidden
                .iter()
                .all(|(name, _)| name == "state" || name == "persona")
        );
    }
}

#[tokio::test]
async fn request_errors_go_back_to_the_application_with_its_state() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "response_type",
            "token",
            "unsupported_response_type",
            "Unsupported response type: token",
        ),
        (
            "code_challenge_method",
            "S512",
            "invalid_request",
            "Invalid code_challenge_method",
        ),
        ("prompt", "none", "login_required", "Login required"),
        (
            "connection",
            "google-oauth2",
            "invalid_request",
            "the connection google-oauth2 is not emulated: only database users sign in",
        ),
    ];
    for (name, value, error, description) in cases {
        let mut params = spa_params(&challenge);
        params.retain(|(k, _)| *k != name);
        params.push((name, value));
        let answer = browser.authorize(&params).await;
        assert_eq!(answer.status(), StatusCode::FOUND, "{name}");
        let query = callback_query(&answer);
        assert_eq!(query["error"], error, "{name}");
        assert_eq!(query["error_description"], description, "{name}");
        assert_eq!(query["state"], "st4te", "{name}");
    }
}

#[tokio::test]
async fn a_transaction_cannot_be_finished_from_another_browser() {
    let t = spawn_with(login_config(5)).await;
    let mut mine = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let answer = mine.authorize(&spa_params(&challenge)).await;
    let html = mine.login_page(&answer).await;
    let mut theirs = Browser::new(&t);
    let stolen = theirs
        .click(
            &html,
            "Continue",
            &[("username", ALICE), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    assert!(stolen.headers().get("location").is_none());
    let text = stolen.text().await.expect("html");
    assert!(
        text.contains("since we couldn&#39;t find your session"),
        "{text}"
    );
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_shows_the_page_again_with_auth0s_message() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let answer = browser.authorize(&spa_params(&challenge)).await;
    let html = browser.login_page(&answer).await;
    for (email, password) in [(ALICE, "wrong"), ("nobody@example.com", ALICE_PASSWORD)] {
        let again = browser
            .click(
                &html,
                "Continue",
                &[("username", email), ("password", password)],
            )
            .await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);
        let text = again.text().await.expect("html");
        assert!(
            text.contains(r#"data-error-code="wrong-email-credentials">Wrong email or password<"#),
            "{text}"
        );
        assert!(
            text.contains(&format!(r#"value="{email}""#)),
            "the email is kept"
        );
        assert!(text.contains(r#"aria-describedby="error-element-password""#));
    }
    // Still the same transaction: the right password now signs in.
    let done = browser
        .click(
            &html,
            "Continue",
            &[("username", ALICE), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert!(callback_query(&done).contains_key("code"));
    let logs = alice_logs(&t).await;
    let types: Vec<&str> = logs.iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(types, ["fp", "s"]);
}

async fn alice_logs(t: &crate::helpers::Tenant) -> Vec<Value> {
    let alice = t.search(&format!("email:\"{ALICE}\""), &[]).await;
    let id = alice[0]["user_id"].as_str().expect("id");
    let (_, logs) = t
        .get_json(
            &format!("/api/v2/users/{}/logs", encode(id)),
            &[("sort", "date:1")],
        )
        .await;
    logs.as_array().cloned().expect("logs")
}

#[tokio::test]
async fn an_admin_blocked_user_goes_back_to_the_application_with_user_is_blocked() {
    let t = spawn_with(login_config(5)).await;
    let alice = t.search(&format!("email:\"{ALICE}\""), &[]).await;
    let id = alice[0]["user_id"].as_str().expect("id").to_owned();
    t.send_json(
        reqwest::Method::PATCH,
        &format!("/api/v2/users/{}", encode(&id)),
        &json!({"blocked": true}),
    )
    .await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let answer = browser.authorize(&spa_params(&challenge)).await;
    let html = browser.login_page(&answer).await;
    let refused = browser
        .click(
            &html,
            "Continue",
            &[("username", ALICE), ("password", ALICE_PASSWORD)],
        )
        .await;
    let query = callback_query(&refused);
    assert_eq!(query["error"], "unauthorized");
    assert_eq!(query["error_description"], "user is blocked");
    assert_eq!(query["state"], "st4te");
    assert!(!query.contains_key("code"));
    // The persona button is refused the same way.
    let answer = browser.authorize(&spa_params(&challenge)).await;
    let html = browser.login_page(&answer).await;
    let refused = browser.click(&html, "Sign in as global_admin", &[]).await;
    assert_eq!(
        callback_query(&refused)["error_description"],
        "user is blocked"
    );
}

#[tokio::test]
async fn ten_wrong_passwords_block_the_identifier_on_the_page_as_at_the_token_endpoint() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let answer = browser.authorize(&spa_params(&challenge)).await;
    let html = browser.login_page(&answer).await;
    for _ in 0..10 {
        browser
            .click(
                &html,
                "Continue",
                &[("username", ALICE), ("password", "wrong")],
            )
            .await;
    }
    let blocked = browser
        .click(
            &html,
            "Continue",
            &[("username", ALICE), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert_eq!(blocked.status(), StatusCode::BAD_REQUEST);
    let text = blocked.text().await.expect("html");
    assert!(
        text.contains(
            r#"data-error-code="user-blocked">Your account has been blocked after multiple consecutive login attempts.<"#
        ),
        "{text}"
    );
    let (_, blocks) = t
        .get_json("/api/v2/user-blocks", &[("identifier", ALICE)])
        .await;
    assert_eq!(blocks["blocked_for"][0]["identifier"], ALICE);
}

#[tokio::test]
async fn persona_buttons_are_named_sign_in_as_label_and_sign_in_without_a_password() {
    let mut config = login_config(5);
    config
        .personas
        .push(tenant_emulator::Persona::new("ghost", "nobody@example.com"));
    let t = spawn_with(config).await;
    let control = t.handle.control();
    control
        .add_persona(tenant_emulator::Persona::new("end_user", "bob@example.com"))
        .expect("persona");
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("a");
    let answer = browser.authorize(&spa_params(&challenge)).await;
    let html = browser.login_page(&answer).await;
    // Neither "ghost" nor bob (not a user yet) is offered.
    assert_eq!(buttons(&html), ["Continue", "Sign in as global_admin"]);

    control
        .add_user(tenant_emulator::ExtraUser::new("bob@example.com", "pw"))
        .expect("bob");
    let answer = browser.authorize(&spa_params(&challenge)).await;
    let html = browser.login_page(&answer).await;
    assert_eq!(
        buttons(&html),
        ["Continue", "Sign in as global_admin", "Sign in as end_user"]
    );
    let done = browser.click(&html, "Sign in as end_user", &[]).await;
    let query = callback_query(&done);
    assert_eq!(query["state"], "st4te");
    assert!(!query["code"].is_empty());
}

#[tokio::test]
async fn personas_are_added_and_listed_through_the_control_api() {
    let t = spawn_with(login_config(5)).await;
    let (status, added) = read(
        client()
            .post(t.url("/__emulator/personas"))
            .json(&json!({"label": "tenant_admin", "email": "carol@example.com"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        added,
        json!({"label": "tenant_admin", "email": "carol@example.com"})
    );
    let (status, listed) = read(
        client()
            .get(t.url("/__emulator/personas"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed,
        json!([
            {"label": "global_admin", "email": ALICE},
            {"label": "tenant_admin", "email": "carol@example.com"}
        ])
    );
    let (status, _) = read(
        client()
            .post(t.url("/__emulator/personas"))
            .json(&json!({"label": "", "email": "x@example.com"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
