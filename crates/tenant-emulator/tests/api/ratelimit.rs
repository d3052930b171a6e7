//! `X-RateLimit-*` headers on every Management API answer, and 429 when the bucket is empty.

use reqwest::StatusCode;
use tenant_emulator::{NOMINAL_LIMIT, RateLimit};

use crate::helpers::{assert_error, config, read, spawn, spawn_with};

fn header(response: &reqwest::Response, name: &str) -> i64 {
    response.headers()[name]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number")
}

#[tokio::test]
async fn unlimited_tenants_still_send_the_headers() {
    let t = spawn(5).await;
    let response = t.get("/api/v2/users").send().await.expect("send");
    assert_eq!(header(&response, "x-ratelimit-limit"), NOMINAL_LIMIT as i64);
    assert_eq!(
        header(&response, "x-ratelimit-remaining"),
        NOMINAL_LIMIT as i64
    );
    assert!(header(&response, "x-ratelimit-reset") > 1_600_000_000);
    // Errors carry them too.
    let response = t
        .http
        .get(t.url("/api/v2/users"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
}

#[tokio::test]
async fn a_small_bucket_empties_into_429_with_auth0_body_and_refills() {
    let mut config = config(5);
    config.rate_limit = Some(RateLimit {
        per_second: 5.0,
        burst: 3,
    });
    let t = spawn_with(config).await;
    let now = chrono::Utc::now().timestamp();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = t
            .get("/api/v2/users")
            .query(&[("per_page", "1")])
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-ratelimit-limit"), 3);
        remaining.push(header(&response, "x-ratelimit-remaining"));
    }
    assert_eq!(remaining.first(), Some(&2));
    let response = t.get("/api/v2/users").send().await.expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "x-ratelimit-remaining"), 0);
    let reset = header(&response, "x-ratelimit-reset");
    assert!(reset >= now && reset <= now + 2, "reset {reset} now {now}");
    let (_, body) = read(response).await;
    assert_eq!(
        assert_error(&body, 429, "too_many_requests"),
        "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and \
         X-RateLimit-Reset headers."
    );
    // The Authentication API is not charged.
    let token = t
        .http
        .post(t.url("/oauth/token"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("send");
    assert_ne!(token.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert_eq!(
        t.get("/api/v2/users").send().await.expect("send").status(),
        StatusCode::OK
    );
}
