//! One row per Auth0 answer the emulator must reproduce: status, body shape and code, headers.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Tenant, client_credentials, encode, read, spawn};

#[derive(Clone, Copy)]
enum Token {
    Full,
    Missing,
    Garbage,
    Expired,
    Scoped(&'static str),
}

/// What the body must be.
enum Shape {
    /// Management API error with this `errorCode` (and message, when given).
    Mgmt(&'static str, Option<&'static str>),
    /// Authentication API error `{error, error_description}`.
    Auth(&'static str),
    Json,
    /// A bare JSON number.
    Number,
    Empty,
    Text(&'static str),
}

struct Row {
    what: &'static str,
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    raw_body: Option<&'static str>,
    token: Token,
    status: u16,
    shape: Shape,
    rate_headers: bool,
}

fn row(what: &'static str, method: Method, path: &str, status: u16, shape: Shape) -> Row {
    Row {
        what,
        method,
        path: path.to_owned(),
        query: Vec::new(),
        body: None,
        raw_body: None,
        token: Token::Full,
        status,
        shape,
        rate_headers: path.starts_with("/api/v2/"),
    }
}

impl Row {
    fn query(mut self, pairs: &[(&'static str, &str)]) -> Self {
        self.query = pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self
    }
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    fn raw(mut self, body: &'static str) -> Self {
        self.raw_body = Some(body);
        self
    }
    /// Answered in front of the API (unknown routes, over-long URLs), like an edge proxy would,
    /// before the rate limiter and so without its headers.
    fn edge(mut self) -> Self {
        self.rate_headers = false;
        self
    }
    fn token(mut self, token: Token) -> Self {
        self.token = token;
        self
    }
}

async fn run(t: &Tenant, row: &Row) {
    let mut request = t
        .http
        .request(row.method.clone(), t.url(&row.path))
        .query(&row.query);
    let now = chrono::Utc::now().timestamp();
    request = match row.token {
        Token::Full => request.bearer_auth(&t.token),
        Token::Missing => request,
        Token::Garbage => request.bearer_auth("not.a.token"),
        Token::Expired => {
            let mut claims = t.management_claims("read:users");
            claims["exp"] = json!(now - 10);
            request.bearer_auth(t.mint(claims))
        }
        Token::Scoped(scope) => request.bearer_auth(
            client_credentials(&t.http, &t.base, t.handle.domain(), Some(scope)).await,
        ),
    };
    if let Some(body) = &row.body {
        request = request.json(body);
    }
    if let Some(raw) = row.raw_body {
        request = request.header("content-type", "application/json").body(raw);
    }
    let response = request.send().await.expect("send");
    let what = row.what;
    assert_eq!(response.status().as_u16(), row.status, "{what}");
    if row.rate_headers {
        for header in [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ] {
            assert!(response.headers().contains_key(header), "{what}: {header}");
        }
    }
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let (status, body) = read(response).await;
    match &row.shape {
        Shape::Mgmt(code, message) => {
            assert_eq!(
                content_type.as_deref(),
                Some("application/json; charset=utf-8"),
                "{what}"
            );
            assert_eq!(body["statusCode"], json!(status.as_u16()), "{what}: {body}");
            assert_eq!(
                body["error"],
                json!(status.canonical_reason().expect("reason")),
                "{what}: {body}"
            );
            assert_eq!(body["errorCode"], json!(code), "{what}: {body}");
            assert!(body["message"].is_string(), "{what}: {body}");
            if let Some(message) = message {
                assert_eq!(body["message"], json!(message), "{what}");
            }
        }
        Shape::Auth(error) => {
            assert_eq!(body["error"], json!(error), "{what}: {body}");
            assert!(body["error_description"].is_string(), "{what}: {body}");
            assert_eq!(body.as_object().expect("object").len(), 2, "{what}: {body}");
        }
        Shape::Json => assert!(body.is_object() || body.is_array(), "{what}: {body}"),
        Shape::Number => assert!(body.is_u64(), "{what}: {body}"),
        Shape::Empty => assert_eq!(body, Value::Null, "{what}"),
        Shape::Text(text) => {
            assert_eq!(body, json!(text), "{what}");
            assert!(
                content_type.unwrap_or_default().starts_with("text/"),
                "{what}"
            );
        }
    }
}

const USERS: &str = "/api/v2/users";
const DB: &str = "Username-Password-Authentication";
const REALM_GRANT: &str = "http://auth0.com/oauth/grant-type/password-realm";

fn mgmt(code: &'static str, message: &'static str) -> Shape {
    Shape::Mgmt(code, Some(message))
}

fn code(code: &'static str) -> Shape {
    Shape::Mgmt(code, None)
}

fn client_credentials_body(secret: &str, audience: &str) -> Value {
    json!({
        "grant_type": "client_credentials",
        "client_id": "tenantgraph",
        "client_secret": secret,
        "audience": audience,
    })
}

#[tokio::test]
async fn auth0_answers_conformance_table() {
    let t = spawn(20).await;
    let user = t.user(0).user_id;
    let other = t.user(1);
    let doomed = t.user(2).user_id;
    let user_path = format!("/api/v2/users/{}", encode(&user));
    let long_q = "x".repeat(9000);
    let audience = "https://test.auth0.test/api/v2/";
    let (get, post, patch) = (Method::GET, Method::POST, Method::PATCH);
    let rows = vec![
        row("list users", get.clone(), USERS, 200, Shape::Json),
        row(
            "no token",
            get.clone(),
            USERS,
            401,
            mgmt("invalid_token", "Missing authentication"),
        )
        .token(Token::Missing),
        row(
            "garbage token",
            get.clone(),
            USERS,
            401,
            mgmt("invalid_token", "Invalid token"),
        )
        .token(Token::Garbage),
        row(
            "expired token",
            get.clone(),
            USERS,
            401,
            mgmt(
                "invalid_token",
                "Expired token received for JSON Web Token validation",
            ),
        )
        .token(Token::Expired),
        row(
            "missing scope",
            get.clone(),
            USERS,
            403,
            mgmt(
                "insufficient_scope",
                "Insufficient scope, expected any of: read:users",
            ),
        )
        .token(Token::Scoped("read:logs")),
        row(
            "logs scope",
            get.clone(),
            &format!("{user_path}/logs"),
            403,
            mgmt(
                "insufficient_scope",
                "Insufficient scope, expected any of: read:logs,read:logs_users",
            ),
        )
        .token(Token::Scoped("read:users")),
        row(
            "stats scope",
            get.clone(),
            "/api/v2/stats/active-users",
            403,
            code("insufficient_scope"),
        )
        .token(Token::Scoped("read:users")),
        row(
            "app_metadata scope alone",
            patch.clone(),
            &user_path,
            403,
            mgmt(
                "insufficient_scope",
                "Insufficient scope, expected any of: update:users",
            ),
        )
        .token(Token::Scoped("update:users_app_metadata"))
        .body(json!({"user_metadata": {"a": 1}})),
        row("get user", get.clone(), &user_path, 200, Shape::Json),
        row(
            "missing user",
            get.clone(),
            "/api/v2/users/auth0%7Cmissing",
            404,
            mgmt("inexistent_user", "The user does not exist."),
        ),
        row(
            "per_page over 100",
            get.clone(),
            USERS,
            400,
            code("invalid_query_string"),
        )
        .query(&[("per_page", "101")]),
        row("past 1000", get.clone(), USERS, 400, code("invalid_paging"))
            .query(&[("page", "20"), ("per_page", "50")]),
        row(
            "malformed q",
            get.clone(),
            USERS,
            400,
            code("invalid_query_string"),
        )
        .query(&[("q", "name:(")]),
        row(
            "old search engine",
            get.clone(),
            USERS,
            400,
            code("operation_not_supported"),
        )
        .query(&[("search_engine", "v2")]),
        row(
            "URI too long",
            get.clone(),
            USERS,
            414,
            code("uri_too_long"),
        )
        .query(&[("q", &long_q)])
        .edge(),
        row(
            "invalid JSON",
            post.clone(),
            USERS,
            400,
            mgmt("invalid_body", "Invalid request payload JSON format"),
        )
        .raw("{"),
        row(
            "unknown property",
            post.clone(),
            USERS,
            400,
            mgmt(
                "invalid_body",
                "Payload validation error: 'Additional properties not allowed: foo'.",
            ),
        )
        .body(json!({"connection": DB, "foo": 1})),
        row(
            "missing connection",
            post.clone(),
            USERS,
            400,
            mgmt(
                "invalid_body",
                "Payload validation error: 'Missing required property: connection'.",
            ),
        )
        .body(json!({"email": "x@example.com"})),
        row(
            "duplicate user",
            post.clone(),
            USERS,
            409,
            mgmt("auth0_idp_error", "The user already exists."),
        )
        .body(json!({"connection": DB, "email": other.email, "password": "Str0ng-Passw0rd"})),
        row(
            "patch missing user",
            patch.clone(),
            "/api/v2/users/auth0%7Cmissing",
            404,
            code("inexistent_user"),
        )
        .body(json!({"name": "x"})),
        row(
            "dotted metadata key",
            patch.clone(),
            &user_path,
            400,
            code("invalid_body"),
        )
        .body(json!({"user_metadata": {"a.b": 1}})),
        row(
            "empty patch",
            patch.clone(),
            &user_path,
            400,
            code("invalid_body"),
        )
        .body(json!({})),
        row(
            "payload over 1 MB",
            patch.clone(),
            &user_path,
            413,
            code("payload_too_large"),
        )
        .body(json!({"user_metadata": {"blob": "z".repeat(1_100_000)}})),
        row(
            "delete user",
            Method::DELETE,
            &format!("/api/v2/users/{}", encode(&doomed)),
            204,
            Shape::Empty,
        ),
        row(
            "unknown job",
            get.clone(),
            "/api/v2/jobs/job_x",
            404,
            code("inexistent_job"),
        ),
        row(
            "unsupported method",
            Method::PUT,
            USERS,
            404,
            code("not_found"),
        )
        .edge(),
        row(
            "unknown route",
            get.clone(),
            "/api/v2/nothing-here",
            404,
            code("not_found"),
        )
        .token(Token::Missing)
        .edge(),
        row(
            "active users",
            get.clone(),
            "/api/v2/stats/active-users",
            200,
            Shape::Number,
        ),
        row(
            "token: bad secret",
            post.clone(),
            "/oauth/token",
            401,
            Shape::Auth("access_denied"),
        )
        .body(client_credentials_body("x", audience))
        .token(Token::Missing),
        row(
            "token: bad audience",
            post.clone(),
            "/oauth/token",
            403,
            Shape::Auth("access_denied"),
        )
        .body(client_credentials_body("tenantgraph-secret", "https://x/"))
        .token(Token::Missing),
        row(
            "token: bad grant",
            post.clone(),
            "/oauth/token",
            403,
            Shape::Auth("unsupported_grant_type"),
        )
        .body(json!({"grant_type": "implicit"}))
        .token(Token::Missing),
        row(
            "token: code from an unknown client",
            post.clone(),
            "/oauth/token",
            401,
            Shape::Auth("access_denied"),
        )
        .body(json!({"grant_type": "authorization_code", "client_id": "nobody", "code": "x"}))
        .token(Token::Missing),
        row(
            "token: wrong password",
            post.clone(),
            "/oauth/token",
            403,
            Shape::Auth("invalid_grant"),
        )
        .body(json!({
            "grant_type": REALM_GRANT,
            "client_id": "tenantgraph",
            "username": other.email,
            "password": "wrong",
            "realm": DB,
        }))
        .token(Token::Missing),
        row(
            "token: no grant",
            post.clone(),
            "/oauth/token",
            400,
            Shape::Auth("invalid_request"),
        )
        .body(json!({}))
        .token(Token::Missing),
        row(
            "jwks",
            get.clone(),
            "/.well-known/jwks.json",
            200,
            Shape::Json,
        )
        .token(Token::Missing),
        row(
            "change password",
            post.clone(),
            "/dbconnections/change_password",
            200,
            Shape::Text("We've just sent you an email to reset your password."),
        )
        .body(json!({"client_id": "tenantgraph", "email": "someone@example.com", "connection": DB}))
        .token(Token::Missing),
    ];
    for row in &rows {
        run(&t, row).await;
    }
}

#[tokio::test]
async fn a_429_has_auth0_body_and_headers() {
    let mut config = crate::helpers::config(5);
    config.rate_limit = Some(tenant_emulator::RateLimit {
        per_second: 0.5,
        burst: 1,
    });
    let t = crate::helpers::spawn_with(config).await;
    assert_eq!(
        t.get("/api/v2/users").send().await.expect("send").status(),
        StatusCode::OK
    );
    run(
        &t,
        &row(
            "empty bucket",
            Method::GET,
            "/api/v2/users",
            429,
            Shape::Mgmt("too_many_requests", None),
        ),
    )
    .await;
}
