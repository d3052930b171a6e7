//! Starting a tenant on port 0 and talking to it as an Auth0 client would.

use std::sync::Once;

use chrono::{DateTime, TimeZone as _, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tenant_emulator::{Emulator, EmulatorConfig, EmulatorHandle, MintRequest};

/// The seed's reference time in tests: fixed, so two runs seed the same data.
pub fn reference() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// A small tenant named `test` (its key is generated once per test binary).
pub fn config(users: usize) -> EmulatorConfig {
    let mut config = EmulatorConfig::new("test");
    config.users = users;
    config.now = Some(reference());
    config
}

pub fn http() -> Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    Client::builder().no_proxy().build().expect("http client")
}

pub struct Tenant {
    pub handle: EmulatorHandle,
    pub http: Client,
    pub base: String,
    pub token: String,
}

pub async fn spawn(users: usize) -> Tenant {
    spawn_with(config(users)).await
}

pub async fn spawn_with(config: EmulatorConfig) -> Tenant {
    let handle = Emulator::start(config).await.expect("emulator starts");
    let http = http();
    let base = handle.base_url();
    let token = client_credentials(&http, &base, handle.domain(), None).await;
    Tenant {
        handle,
        http,
        base,
        token,
    }
}

/// A management token for the default client (optionally narrowed to `scope`).
pub async fn client_credentials(
    http: &Client,
    base: &str,
    domain: &str,
    scope: Option<&str>,
) -> String {
    let mut body = json!({
        "grant_type": "client_credentials",
        "client_id": "tenantgraph",
        "client_secret": "tenantgraph-secret",
        "audience": format!("https://{domain}/api/v2/"),
    });
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    let answer: Value = http
        .post(format!("{base}/oauth/token"))
        .json(&body)
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    answer["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

impl Tenant {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A Management API request with the tenant's full-scope token.
    pub fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.api(Method::GET, path)
    }

    /// GET a Management API path with query pairs, returning status and JSON body.
    pub async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        read(self.get(path).query(query).send().await.expect("request")).await
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> (StatusCode, Value) {
        read(
            self.api(method, path)
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// Searches with `q` (and extra parameters), expecting a bare array.
    pub async fn search(&self, q: &str, extra: &[(&str, &str)]) -> Vec<Value> {
        let mut query = vec![("q", q), ("search_engine", "v3"), ("per_page", "100")];
        query.extend_from_slice(extra);
        let (status, body) = self.get_json("/api/v2/users", &query).await;
        assert_eq!(status, StatusCode::OK, "search {q}: {body}");
        body.as_array().cloned().expect("array")
    }

    /// Some seeded user, chosen through the control API.
    pub fn user(&self, index: usize) -> tenant_emulator::UserSummary {
        self.handle
            .control()
            .users(1, index)
            .users
            .into_iter()
            .next()
            .expect("a user")
    }

    pub async fn profile(&self, id: &str) -> Value {
        let (status, body) = self
            .get_json(&format!("/api/v2/users/{}", encode(id)), &[])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub fn mint(&self, claims: Value) -> String {
        let claims = claims.as_object().cloned().expect("claims object");
        self.handle
            .control()
            .mint_token(MintRequest {
                claims,
                ..MintRequest::default()
            })
            .expect("mint")
    }

    /// A management token with exactly these claims on top of the defaults.
    pub fn management_claims(&self, scope: &str) -> Value {
        json!({
            "aud": self.handle.management_audience(),
            "sub": "tenantgraph@clients",
            "azp": "tenantgraph",
            "scope": scope,
        })
    }
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Percent-encodes a path segment (`auth0|x` → `auth0%7Cx`).
pub fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Asserts Auth0's Management API error shape and returns the message.
pub fn assert_error(body: &Value, status: u16, code: &str) -> String {
    assert_eq!(body["statusCode"], json!(status), "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body["errorCode"], json!(code), "{body}");
    body["message"].as_str().expect("message").to_owned()
}

/// Verifies `token` against the key set `jwks` for `audience` and `issuer`; its claims.
pub fn decode(token: &str, jwks: &Value, audience: &str, issuer: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("header");
    let kid = header.kid.expect("kid");
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .expect("kid published");
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("rsa key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("valid token")
        .claims
}
