//! `GET /api/v2/users/{id}/logs` and the stats endpoints, checked against the profiles.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Tenant, assert_error, config, encode, reference, spawn, spawn_with};

/// The seeded user with the most log events, and how many they have.
async fn busiest_user(t: &Tenant, users: usize) -> (u64, String) {
    let mut best = (0, String::new());
    for user in &t.handle.control().users(users, 0).users {
        let path = format!("/api/v2/users/{}/logs", encode(&user.user_id));
        let (_, body) = t
            .get_json(&path, &[("include_totals", "true"), ("per_page", "1")])
            .await;
        let total = body["total"].as_u64().unwrap_or(0);
        if total > best.0 {
            best = (total, user.user_id.clone());
        }
    }
    best
}

/// Every date of a user's readable log events, newest first.
async fn log_dates(t: &Tenant, user_id: &str) -> Vec<DateTime<Utc>> {
    let path = format!("/api/v2/users/{}/logs", encode(user_id));
    let (status, logs) = t.get_json(&path, &[("per_page", "100")]).await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    logs.as_array()
        .expect("array")
        .iter()
        .map(|l| {
            DateTime::parse_from_rfc3339(l["date"].as_str().expect("date"))
                .expect("an ISO date")
                .with_timezone(&Utc)
        })
        .collect()
}

#[tokio::test]
async fn logs_page_newest_first_with_auth0_fields() {
    let t = spawn(80).await;
    let best = busiest_user(&t, 80).await;
    let path = format!("/api/v2/users/{}/logs", encode(&best.1));
    let (status, all) = t
        .get_json(&path, &[("per_page", "100"), ("include_totals", "true")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let logs = all["logs"].as_array().expect("logs");
    assert!(!logs.is_empty());
    assert_eq!(all["total"], logs.len());
    for field in [
        "_id",
        "log_id",
        "date",
        "type",
        "description",
        "ip",
        "user_agent",
        "client_id",
        "client_name",
        "connection",
        "user_id",
        "user_name",
        "details",
    ] {
        assert!(!logs[0][field].is_null(), "{field} in {}", logs[0]);
    }
    let dates: Vec<&str> = logs
        .iter()
        .map(|l| l["date"].as_str().expect("date"))
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let (_, ascending) = t
        .get_json(&path, &[("sort", "date:1"), ("per_page", "100")])
        .await;
    assert_eq!(ascending[0]["log_id"], logs.last().expect("last")["log_id"]);
    let (_, two) = t.get_json(&path, &[("per_page", "2"), ("page", "1")]).await;
    assert_eq!(two[0]["log_id"], logs[2]["log_id"]);
    // The seeded logins agree with the profile.
    let profile = t.profile(&best.1).await;
    let last_s = logs.iter().find(|l| l["type"] == "s").expect("a login");
    assert_eq!(last_s["date"], profile["last_login"]);
    for (query, code) in [
        (vec![("per_page", "101")], "invalid_query_string"),
        (vec![("page", "10"), ("per_page", "100")], "invalid_paging"),
        (vec![("sort", "type:1")], "invalid_query_string"),
    ] {
        let (status, body) = t.get_json(&path, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_error(&body, 400, code);
    }
}

#[tokio::test]
async fn every_log_event_carries_id_and_log_id_with_the_same_value() {
    let t = spawn(40).await;
    let (_, user_id) = busiest_user(&t, 40).await;
    let path = format!("/api/v2/users/{}/logs", encode(&user_id));
    let (_, logs) = t.get_json(&path, &[("per_page", "100")]).await;
    let logs = logs.as_array().expect("array");
    assert!(!logs.is_empty());
    for event in logs {
        assert!(event["_id"].is_string(), "{event}");
        assert_eq!(event["_id"], event["log_id"], "{event}");
    }
}

#[tokio::test]
async fn log_events_older_than_the_retention_are_not_returned() {
    let kept = Duration::days(7);
    let mut short = config(40);
    short.log_retention = kept.to_std().expect("a positive duration");
    let t = spawn_with(short).await;
    let (_, user_id) = busiest_user(&t, 40).await;
    let dates = log_dates(&t, &user_id).await;
    assert!(!dates.is_empty());
    assert!(
        dates.iter().all(|d| *d >= reference() - kept),
        "nothing older than 7 days: {dates:?}"
    );

    // The same seed under the default retention shows older events, and none past 30 days.
    let t = spawn(40).await;
    let dates = log_dates(&t, &user_id).await;
    assert!(dates.iter().any(|d| *d < reference() - kept), "{dates:?}");
    assert!(
        dates.iter().all(|d| *d >= reference() - Duration::days(30)),
        "{dates:?}"
    );
}

#[tokio::test]
async fn active_users_and_daily_stats_agree_with_the_seed() {
    let t = spawn(300).await;
    let (status, active) = t.get_json("/api/v2/stats/active-users", &[]).await;
    assert_eq!(status, StatusCode::OK);
    // Count users whose last_login is within 30 days of the tenant's clock (the reference time).
    let mut expected = 0;
    for page in 0..3 {
        let page = page.to_string();
        let (_, users) = t
            .get_json(
                "/api/v2/users",
                &[
                    ("per_page", "100"),
                    ("page", &page),
                    ("fields", "last_login"),
                ],
            )
            .await;
        for user in users.as_array().expect("users") {
            if let Some(at) = user["last_login"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                && at.with_timezone(&Utc) >= reference() - Duration::days(30)
            {
                expected += 1;
            }
        }
    }
    let active = active.as_u64().expect("a bare number");
    assert!(
        active.abs_diff(expected) <= 2,
        "active {active} vs {expected}"
    );
    assert!(active > 100, "most seeded users are active: {active}");

    let (status, days) = t
        .get_json(
            "/api/v2/stats/daily",
            &[("from", "20250501"), ("to", "20250531")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let days = days.as_array().expect("array");
    assert_eq!(days.len(), 31);
    let logins: u64 = days
        .iter()
        .map(|d| d["logins"].as_u64().expect("logins"))
        .sum();
    assert!(logins > 50, "{logins}");
    for field in [
        "date",
        "logins",
        "signups",
        "leaked_passwords",
        "created_at",
        "updated_at",
    ] {
        assert!(!days[0][field].is_null(), "{field}");
    }
    assert_eq!(days[0]["date"], Value::from("2025-05-01T00:00:00.000Z"));
    let (status, body) = t
        .get_json("/api/v2/stats/daily", &[("from", "2025-05-01")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, 400, "invalid_query_string");
    let (status, empty) = t
        .get_json(
            "/api/v2/stats/daily",
            &[("from", "20250601"), ("to", "20250101")],
        )
        .await;
    assert_eq!((status, empty), (StatusCode::OK, Value::Array(vec![])));
}
