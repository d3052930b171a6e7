//! A custom domain: tokens requested through it name it as their issuer, keep the canonical
//! Management API audience, and are good on that domain only.

use reqwest::header::HOST;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tenant_emulator::{DEFAULT_PASSWORD, ExtraUser};

use crate::helpers::{Tenant, assert_error, config, decode, read, spawn_with};

const CUSTOM: &str = "login.acme.test";

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
