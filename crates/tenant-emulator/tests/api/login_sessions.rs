//! After sign-in: single sign-on and `prompt`, `/userinfo`, and both logout endpoints with their
//! redirect rules.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenant_emulator::{KeyChoice, MintRequest};

use crate::browser::{
    ALICE, ALICE_PASSWORD, Browser, CALLBACK, HOME, SPA, WEB, callback_query, client, exchange,
    location, login_config, pkce,
};
use crate::helpers::{Tenant, encode, read, spawn_with};

fn params<'a>(challenge: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", SPA),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile email"),
        ("state", "st4te"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    params
}

/// Signs Alice in and returns the token answer.
async fn tokens(t: &Tenant, browser: &mut Browser) -> Value {
    let (verifier, challenge) = pkce("tokens");
    let code = browser
        .sign_in(&params(&challenge, &[]), ALICE, ALICE_PASSWORD)
        .await;
    let (status, answer) = exchange(
        t,
        json!({
            "grant_type": "authorization_code",
            "client_id": SPA,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

#[tokio::test]
async fn a_signed_in_browser_skips_the_form_and_prompt_login_brings_it_back() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("sso");
    browser
        .sign_in(&params(&challenge, &[]), ALICE, ALICE_PASSWORD)
        .await;
    for prompt in [None, Some("none")] {
        let extra: Vec<(&str, &str)> = prompt.map(|p| ("prompt", p)).into_iter().collect();
        let again = browser.authorize(&params(&challenge, &extra)).await;
        let query = callback_query(&again);
        assert!(!query["code"].is_empty(), "{prompt:?}");
        assert_eq!(query["state"], "st4te");
    }
    let forced = browser
        .authorize(&params(&challenge, &[("prompt", "login")]))
        .await;
    assert!(location(&forced).starts_with("/u/login?state="));
    // Another browser has no session.
    let mut other = Browser::new(&t);
    let silent = other
        .authorize(&params(&challenge, &[("prompt", "none")]))
        .await;
    assert_eq!(callback_query(&silent)["error"], "login_required");
}

#[tokio::test]
async fn userinfo_answers_the_users_claims_for_its_access_token_and_401_otherwise() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let answer = tokens(&t, &mut browser).await;
    let access = answer["access_token"].as_str().expect("at");
    let (status, info) = read(
        client()
            .get(t.url("/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    let alice = t.search(&format!("email:\"{ALICE}\""), &[]).await;
    assert_eq!(info["sub"], alice[0]["user_id"]);
    assert_eq!(info["email"], ALICE);
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Alice Liddell");
    assert_eq!(info["nickname"], "alice");
    assert!(info["picture"].is_string() && info["updated_at"].is_string());
    assert!(info.get("app_metadata").is_none() && info.get("identities").is_none());

    let sub = info["sub"].clone();
    let userinfo = "https://test.auth0.test/userinfo";
    let foreign = t
        .handle
        .control()
        .mint_token(MintRequest {
            claims: json!({"sub": sub, "aud": userinfo})
                .as_object()
                .cloned()
                .expect("claims"),
            key: KeyChoice::Foreign,
            kid: None,
        })
        .expect("mint");
    let expired = t.mint(json!({"sub": sub, "aud": userinfo, "exp": 1_000_000}));
    let management = t.token.clone();
    for bad in [
        None,
        Some("garbage"),
        Some(&management),
        Some(&foreign),
        Some(&expired),
    ] {
        let mut request = client().get(t.url("/userinfo"));
        if let Some(token) = bad {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .expect("challenge")
                .starts_with("Bearer realm=\"Users\"")
        );
        assert_eq!(response.text().await.expect("body"), "Unauthorized");
    }
}

#[tokio::test]
async fn v2_logout_ends_the_session_and_redirects_only_to_allowed_logout_urls() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let (_, challenge) = pkce("logout");
    browser
        .sign_in(&params(&challenge, &[]), ALICE, ALICE_PASSWORD)
        .await;

    // Not an allowed logout URL, or no client to hold one: Auth0's error page, still signed in.
    for query in [
        format!("client_id={SPA}&returnTo={}", encode("http://evil.test/")),
        format!("returnTo={}", encode(HOME)),
        format!("client_id={WEB}&returnTo={}", encode(HOME)),
    ] {
        let refused = browser.get(&format!("/v2/logout?{query}")).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{query}");
        let html = refused.text().await.expect("html");
        assert!(
            html.contains("querystring parameter") && html.contains("Allowed Logout URLs"),
            "{html}"
        );
    }
    let still = browser
        .authorize(&params(&challenge, &[("prompt", "none")]))
        .await;
    assert!(callback_query(&still).contains_key("code"));

    let out = browser
        .get(&format!(
            "/v2/logout?client_id={SPA}&returnTo={}",
            encode(HOME)
        ))
        .await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(location(&out), HOME);
    assert!(browser.cookie.is_none(), "the cookie is cleared");
    let silent = browser
        .authorize(&params(&challenge, &[("prompt", "none")]))
        .await;
    assert_eq!(callback_query(&silent)["error"], "login_required");

    // Without returnTo: the client's first allowed logout URL; without a client: Auth0's "OK".
    let first = browser.get(&format!("/v2/logout?client_id={SPA}")).await;
    assert_eq!(location(&first), HOME);
    let bare = browser.get("/v2/logout").await;
    assert_eq!(bare.status(), StatusCode::OK);
    assert_eq!(bare.text().await.expect("body"), "OK");

    let alice = t.search(&format!("email:\"{ALICE}\""), &[]).await;
    let id = alice[0]["user_id"].as_str().expect("id");
    let (_, logs) = t
        .get_json(&format!("/api/v2/users/{}/logs", encode(id)), &[])
        .await;
    assert_eq!(logs[0]["type"], "slo", "newest first");
}

#[tokio::test]
async fn oidc_logout_takes_the_client_from_the_id_token_hint_and_returns_the_state() {
    let t = spawn_with(login_config(5)).await;
    let mut browser = Browser::new(&t);
    let answer = tokens(&t, &mut browser).await;
    let hint = answer["id_token"].as_str().expect("id_token");

    let refused = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            encode("http://evil.test/")
        ))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let bad_hint = browser
        .get(&format!(
            "/oidc/logout?id_token_hint=x.y.z&post_logout_redirect_uri={}",
            encode(HOME)
        ))
        .await;
    assert_eq!(bad_hint.status(), StatusCode::BAD_REQUEST);

    let out = browser
        .get(&format!(
            "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye",
            encode(HOME)
        ))
        .await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(location(&out), format!("{HOME}?state=bye"));
    let (_, challenge) = pkce("x");
    let silent = browser
        .authorize(&params(&challenge, &[("prompt", "none")]))
        .await;
    assert_eq!(callback_query(&silent)["error"], "login_required");
}
