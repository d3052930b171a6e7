//! A custom domain: tokens requested through it name it as their issuer, keep the canonical
//! Management API audience, and are good on that domain only; sign-in keeps the two domains
//! apart (codes, login sessions, `/userinfo`, logout hints).

use reqwest::header::HOST;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tenant_emulator::{DEFAULT_PASSWORD, ExtraUser};

use crate::browser::{
    ALICE, ALICE_PASSWORD, Browser, CALLBACK, HOME, SPA, callback_query, client, location,
    login_config, pkce,
};
use crate::helpers::{Tenant, assert_error, config, decode, encode, read, spawn_with};

const CUSTOM: &str = "login.acme.test";
/// The API the sign-in tests ask an access token for.
const API: &str = "https://api.tenantgraph.dev";

async fn tenant_with_custom_domain() -> Tenant {
    let mut config = config(5);
    config.custom_domain = Some(CUSTOM.to_owned());
    config
        .extra_users
        .push(ExtraUser::new("kim@example.com", DEFAULT_PASSWORD));
    spawn_with(config).await
}

/// `request` as sent to the custom domain (the name a real client would resolve to the tenant).
fn through_custom_domain(request: RequestBuilder) -> RequestBuilder {
    request.header(HOST, CUSTOM)
}

async fn management_token(t: &Tenant, custom: bool) -> (StatusCode, Value) {
    let request = t.http.post(t.url("/oauth/token")).json(&json!({
        "grant_type": "client_credentials",
        "client_id": "tenantgraph",
        "client_secret": "tenantgraph-secret",
        "audience": t.handle.management_audience(),
    }));
    let request = if custom {
        through_custom_domain(request)
    } else {
        request
    };
    read(request.send().await.expect("send")).await
}

async fn jwks(t: &Tenant) -> Value {
    read(
        t.http
            .get(t.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("send"),
    )
    .await
    .1
}

#[tokio::test]
async fn a_token_requested_through_the_custom_domain_names_it_as_issuer_with_the_canonical_audience()
 {
    let t = tenant_with_custom_domain().await;
    let custom_issuer = format!("https://{CUSTOM}/");
    assert_eq!(t.handle.custom_issuer(), Some(custom_issuer.clone()));
    assert_eq!(t.handle.custom_domain(), Some(CUSTOM));
    let keys = jwks(&t).await;

    let (status, answer) = management_token(&t, true).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let token = answer["access_token"].as_str().expect("token");
    let claims = decode(
        token,
        &keys,
        &t.handle.management_audience(),
        &custom_issuer,
    );
    assert_eq!(claims["aud"], json!(t.handle.management_audience()));

    let (_, answer) = management_token(&t, false).await;
    let token = answer["access_token"].as_str().expect("token");
    decode(
        token,
        &keys,
        &t.handle.management_audience(),
        &t.handle.issuer(),
    );

    // The Management API's audience is the canonical domain's, whichever domain is used.
    let response = through_custom_domain(t.http.post(t.url("/oauth/token")))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": "tenantgraph",
            "client_secret": "tenantgraph-secret",
            "audience": format!("https://{CUSTOM}/api/v2/"),
        }))
        .send()
        .await
        .expect("send");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "access_denied", "{body}");

    // End-user tokens and their ID tokens name the custom issuer too.
    let response = through_custom_domain(t.http.post(t.url("/oauth/token")))
        .json(&json!({
            "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
            "client_id": "tenantgraph",
            "username": "kim@example.com",
            "password": DEFAULT_PASSWORD,
            "realm": "Username-Password-Authentication",
            "scope": "openid",
        }))
        .send()
        .await
        .expect("send");
    let (status, answer) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let id_token = answer["id_token"].as_str().expect("id_token");
    decode(id_token, &keys, "tenantgraph", &custom_issuer);
}

#[tokio::test]
async fn the_management_api_accepts_a_token_only_on_the_domain_that_issued_it() {
    let t = tenant_with_custom_domain().await;
    let (_, custom) = management_token(&t, true).await;
    let custom = custom["access_token"].as_str().expect("token").to_owned();
    let canonical = t.token.clone();
    for (token, through_custom, accepted) in [
        (&custom, true, true),
        (&custom, false, false),
        (&canonical, false, true),
        (&canonical, true, false),
    ] {
        // Twice: the second answer comes from the verified-token cache.
        for _ in 0..2 {
            let request = t.http.get(t.url("/api/v2/users")).bearer_auth(token);
            let request = if through_custom {
                through_custom_domain(request)
            } else {
                request
            };
            let (status, body) = read(request.send().await.expect("send")).await;
            if accepted {
                assert_eq!(status, StatusCode::OK, "{body}");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
                assert_eq!(assert_error(&body, 401, "invalid_token"), "Bad issuer");
            }
        }
    }

    // A minted token naming the custom issuer works through the custom domain.
    let mut claims = t.management_claims("read:users");
    claims["iss"] = json!(format!("https://{CUSTOM}/"));
    let minted = t.mint(claims);
    let request = through_custom_domain(t.http.get(t.url("/api/v2/users")).bearer_auth(minted));
    assert_eq!(request.send().await.expect("send").status(), StatusCode::OK);
}

#[tokio::test]
async fn openid_configuration_names_the_issuer_of_the_domain_asked_through() {
    let t = tenant_with_custom_domain().await;
    let get = || t.http.get(t.url("/.well-known/openid-configuration"));
    let (_, custom) = read(through_custom_domain(get()).send().await.expect("send")).await;
    assert_eq!(custom["issuer"], json!(format!("https://{CUSTOM}/")));
    let (_, canonical) = read(get().send().await.expect("send")).await;
    assert_eq!(canonical["issuer"], json!(t.handle.issuer()));
    let with_port = get().header(HOST, format!("{CUSTOM}:443"));
    let (_, custom) = read(with_port.send().await.expect("send")).await;
    assert_eq!(custom["issuer"], json!(format!("https://{CUSTOM}/")));
}

#[tokio::test]
async fn without_a_custom_domain_every_host_gets_the_canonical_issuer() {
    let t = spawn_with(config(5)).await;
    assert_eq!(t.handle.custom_issuer(), None);
    let (status, answer) = management_token(&t, true).await;
    assert_eq!(status, StatusCode::OK);
    let token = answer["access_token"].as_str().expect("token");
    decode(
        token,
        &jwks(&t).await,
        &t.handle.management_audience(),
        &t.handle.issuer(),
    );
}

/// The sign-in tenant of `browser` (a public app, Alice) with the custom domain.
async fn sign_in_tenant_with_custom_domain() -> Tenant {
    let mut config = login_config(5);
    config.custom_domain = Some(CUSTOM.to_owned());
    spawn_with(config).await
}

fn authorize_params(challenge: &str) -> Vec<(&str, &str)> {
    vec![
        ("response_type", "code"),
        ("client_id", SPA),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile email"),
        ("audience", API),
        ("state", "st4te"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// Exchanges a code at the token endpoint, through the custom domain or not.
async fn exchange_code(
    t: &Tenant,
    code: &str,
    verifier: &str,
    custom: bool,
) -> (StatusCode, Value) {
    let request = client().post(t.url("/oauth/token")).json(&json!({
        "grant_type": "authorization_code",
        "client_id": SPA,
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }));
    let request = if custom {
        through_custom_domain(request)
    } else {
        request
    };
    read(request.send().await.expect("send")).await
}

async fn userinfo(t: &Tenant, token: &str, custom: bool) -> StatusCode {
    let request = client().get(t.url("/userinfo")).bearer_auth(token);
    let request = if custom {
        through_custom_domain(request)
    } else {
        request
    };
    request.send().await.expect("send").status()
}

#[tokio::test]
async fn the_code_flow_through_the_custom_domain_issues_tokens_naming_it() {
    let t = sign_in_tenant_with_custom_domain().await;
    let custom_issuer = format!("https://{CUSTOM}/");
    let keys = jwks(&t).await;
    let (verifier, challenge) = pkce("custom");
    let mut browser = Browser::new(&t).through(CUSTOM);
    let code = browser
        .sign_in(&authorize_params(&challenge), ALICE, ALICE_PASSWORD)
        .await;
    let (status, answer) = exchange_code(&t, &code, &verifier, true).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let access_token = answer["access_token"].as_str().expect("access_token");
    let access = decode(access_token, &keys, API, &custom_issuer);
    assert_eq!(
        access["aud"],
        json!([API, format!("https://{CUSTOM}/userinfo")])
    );
    let id_token = answer["id_token"].as_str().expect("id_token");
    let id = decode(id_token, &keys, SPA, &custom_issuer);
    assert_eq!(id["email"], ALICE);

    // `/userinfo` takes the token on the domain that issued it only.
    assert_eq!(userinfo(&t, access_token, true).await, StatusCode::OK);
    assert_eq!(
        userinfo(&t, access_token, false).await,
        StatusCode::UNAUTHORIZED
    );

    // So does `/oidc/logout` as a hint: elsewhere it is Auth0's error page, here a redirect.
    let logout = format!(
        "/oidc/logout?id_token_hint={id_token}&post_logout_redirect_uri={}",
        encode(HOME)
    );
    let mut canonical = Browser::new(&t);
    let refused = canonical.get(&logout).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let out = browser.get(&logout).await;
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(location(&out), HOME);
}

#[tokio::test]
async fn a_code_is_exchanged_only_through_the_domain_its_authorize_came_through() {
    let t = sign_in_tenant_with_custom_domain().await;
    for custom_authorize in [true, false] {
        let (verifier, challenge) = pkce("crossed");
        let browser = Browser::new(&t);
        let mut browser = if custom_authorize {
            browser.through(CUSTOM)
        } else {
            browser
        };
        let code = browser
            .sign_in(&authorize_params(&challenge), ALICE, ALICE_PASSWORD)
            .await;
        let (status, answer) = exchange_code(&t, &code, &verifier, !custom_authorize).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!(
            answer,
            json!({"error": "invalid_grant", "error_description": "Invalid authorization code"})
        );
    }
}

#[tokio::test]
async fn a_login_session_signs_the_browser_in_only_on_the_domain_it_was_made_on() {
    let t = sign_in_tenant_with_custom_domain().await;
    let (_, challenge) = pkce("isolated");
    let mut browser = Browser::new(&t);
    browser
        .sign_in(&authorize_params(&challenge), ALICE, ALICE_PASSWORD)
        .await;
    let mut silent = authorize_params(&challenge);
    silent.push(("prompt", "none"));
    let again = browser.authorize(&silent).await;
    assert!(!callback_query(&again)["code"].is_empty());

    // The same cookie through the custom domain: no session there.
    let mut browser = browser.through(CUSTOM);
    let elsewhere = browser.authorize(&silent).await;
    assert_eq!(callback_query(&elsewhere)["error"], "login_required");
    let form = browser.authorize(&authorize_params(&challenge)).await;
    assert!(location(&form).starts_with("/u/login?state="));
}

#[tokio::test]
async fn discovery_through_the_custom_domain_names_its_issuer_beside_the_sign_in_endpoints() {
    let t = sign_in_tenant_with_custom_domain().await;
    let request = through_custom_domain(t.http.get(t.url("/.well-known/openid-configuration")));
    let (status, document) = read(request.send().await.expect("send")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["issuer"], json!(format!("https://{CUSTOM}/")));
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("end_session_endpoint", "/oidc/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(
            document[field],
            json!(format!("http://{CUSTOM}{path}")),
            "{field}"
        );
    }
}
