//! A browser as the sign-in flow needs one: keeps the emulator's `auth0` cookie, follows no
//! redirect by itself, and "clicks" buttons by posting the form around them. Plus a tenant with
//! a public single-page app, a confidential web app, and a user with RBAC and Action claims.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::HOST;
use reqwest::redirect::Policy;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use rsa::sha2::{Digest as _, Sha256};
use serde_json::{Value, json};
use tenant_emulator::{ClientConfig, EmulatorConfig, ExtraUser, Persona};

use crate::helpers::{self, Tenant};

pub const CALLBACK: &str = "http://localhost:3000/callback";
pub const HOME: &str = "http://localhost:3000/";
/// A public client: PKCE, no secret.
pub const SPA: &str = "admin-portal";
/// A confidential client.
pub const WEB: &str = "self-service";
pub const WEB_SECRET: &str = "self-service-secret";
pub const ALICE: &str = "alice@example.com";
pub const ALICE_PASSWORD: &str = "correct horse";
pub const TENANTS_CLAIM: &str = "https://tenantgraph.dev/tenants";

pub fn login_config(users: usize) -> EmulatorConfig {
    let mut config = helpers::config(users);
    config.clients.push(
        ClientConfig {
            client_id: SPA.into(),
            client_secret: String::new(),
            scopes: Vec::new(),
            ..ClientConfig::default()
        }
        .public()
        .with_callback(CALLBACK)
        .with_logout_url(HOME),
    );
    config.clients.push(
        ClientConfig {
            client_id: WEB.into(),
            client_secret: WEB_SECRET.into(),
            scopes: Vec::new(),
            ..ClientConfig::default()
        }
        .with_callback(CALLBACK),
    );
    let mut alice = ExtraUser::new(ALICE, ALICE_PASSWORD);
    alice.name = Some("Alice Liddell".into());
    alice.email_verified = true;
    alice.permissions = vec!["read:users".into()];
    alice.org_id = Some("org_wonderland".into());
    alice
        .claims
        .insert(TENANTS_CLAIM.into(), json!(["acme-eu"]));
    config.extra_users.push(alice);
    config.personas.push(Persona::new("global_admin", ALICE));
    config
}

/// A client that follows no redirect (the rustls provider is installed by `helpers::http`).
pub fn client() -> Client {
    let _ = helpers::http();
    Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .expect("http client")
}

pub struct Browser {
    http: Client,
    base: String,
    /// The name the browser reaches the tenant by (its `Host`), when not the emulator's address:
    /// a custom domain.
    host: Option<String>,
    /// The `auth0` cookie, as the emulator last set it.
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(tenant: &Tenant) -> Self {
        Self {
            http: client(),
            base: tenant.base.clone(),
            host: None,
            cookie: None,
        }
    }

    /// The same browser (cookie included) reaching the tenant through `host` from now on.
    #[must_use]
    pub fn through(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }

    fn as_browser(&self, mut request: RequestBuilder) -> RequestBuilder {
        if let Some(host) = &self.host {
            request = request.header(HOST, host);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", format!("auth0={cookie}"));
        }
        request
    }

    fn url(&self, target: &str) -> String {
        if target.starts_with("http") {
            target.to_owned()
        } else {
            format!("{}{target}", self.base)
        }
    }

    pub async fn get(&mut self, target: &str) -> Response {
        let request = self.as_browser(self.http.get(self.url(target)));
        let response = request.send().await.expect("GET");
        self.remember(&response);
        response
    }

    pub async fn post_form(&mut self, target: &str, form: &[(String, String)]) -> Response {
        let request = self.as_browser(self.http.post(self.url(target)).form(form));
        let response = request.send().await.expect("POST");
        self.remember(&response);
        response
    }

    fn remember(&mut self, response: &Response) {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().expect("ascii cookie");
            if let Some(rest) = value.strip_prefix("auth0=") {
                let cookie = rest.split(';').next().unwrap_or_default();
                self.cookie =
                    (!cookie.is_empty() && !value.contains("Max-Age=0")).then(|| cookie.to_owned());
            }
        }
    }

    /// `/authorize` with these parameters; returns the answer as is.
    pub async fn authorize(&mut self, params: &[(&str, &str)]) -> Response {
        let query = serde_urlencoded::to_string(params).expect("query");
        self.get(&format!("/authorize?{query}")).await
    }

    /// Opens the login page the authorize answer points at; returns its HTML.
    pub async fn login_page(&mut self, authorize: &Response) -> String {
        let page = self.get(&location(authorize)).await;
        assert_eq!(page.status(), StatusCode::OK);
        page.text().await.expect("html")
    }

    /// Submits the form holding the button whose text is `button`, with `fields` filled in.
    pub async fn click(&mut self, html: &str, button: &str, fields: &[(&str, &str)]) -> Response {
        let form = forms(html)
            .into_iter()
            .find(|f| f.buttons.iter().any(|b| b == button))
            .unwrap_or_else(|| panic!("no button {button:?} in {html}"));
        let mut data = form.hidden.clone();
        data.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.post_form(&form.action, &data).await
    }

    /// Authorize, sign in with email and password, and return the code.
    pub async fn sign_in(
        &mut self,
        params: &[(&str, &str)],
        email: &str,
        password: &str,
    ) -> String {
        let authorize = self.authorize(params).await;
        let html = self.login_page(&authorize).await;
        let done = self
            .click(
                &html,
                "Continue",
                &[("username", email), ("password", password)],
            )
            .await;
        assert_eq!(
            done.status(),
            StatusCode::FOUND,
            "{}",
            done.text().await.unwrap_or_default()
        );
        callback_query(&done)["code"].clone()
    }
}

/// A form of a page: where it posts, its hidden fields, the text of its buttons.
pub struct Form {
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub buttons: Vec<String>,
}

/// The forms of a page, read as a browser would need them (the emulator's markup only).
pub fn forms(html: &str) -> Vec<Form> {
    html.split("<form")
        .skip(1)
        .map(|chunk| {
            let chunk = chunk.split("</form>").next().unwrap_or_default();
            let action = attribute(chunk, "action")
                .unwrap_or_default()
                .replace("&amp;", "&");
            let hidden = chunk
                .split("<input")
                .skip(1)
                .filter(|input| input.contains(r#"type="hidden""#))
                .map(|input| {
                    (
                        attribute(input, "name").unwrap_or_default(),
                        attribute(input, "value").unwrap_or_default(),
                    )
                })
                .collect();
            Form {
                action,
                hidden,
                buttons: buttons(chunk),
            }
        })
        .collect()
}

/// The text of every button: its accessible name, since none has an `aria-label`.
pub fn buttons(html: &str) -> Vec<String> {
    html.split("<button")
        .skip(1)
        .map(|b| {
            assert!(
                !b.split('>')
                    .next()
                    .unwrap_or_default()
                    .contains("aria-label")
            );
            let inner = b.split_once('>').map(|(_, rest)| rest).unwrap_or_default();
            inner
                .split("</button>")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(r#"{name}=""#))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

pub fn location(response: &Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

/// The query of the redirect to the application's callback.
pub fn callback_query(response: &Response) -> HashMap<String, String> {
    let location = location(response);
    let (base, query) = location.split_once('?').expect("a query");
    assert_eq!(base, CALLBACK, "{location}");
    serde_urlencoded::from_str(query).expect("query")
}

/// A PKCE pair (S256).
pub fn pkce(seed: &str) -> (String, String) {
    let verifier = format!("{seed}-verifier-0123456789-0123456789-0123456789");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Exchanges a code at the token endpoint.
pub async fn exchange(tenant: &Tenant, body: Value) -> (StatusCode, Value) {
    helpers::read(
        client()
            .post(tenant.url("/oauth/token"))
            .json(&body)
            .send()
            .await
            .expect("token request"),
    )
    .await
}

/// Verifies a token against the tenant's JWKS, for `audience` and the canonical issuer.
pub async fn verified(tenant: &Tenant, token: &str, audience: &str) -> Value {
    let (_, jwks) = helpers::read(
        client()
            .get(tenant.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    helpers::decode(token, &jwks, audience, &tenant.handle.issuer())
}
