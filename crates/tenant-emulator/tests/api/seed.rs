//! The seed: deterministic, shared people across tenants, and the advertised proportions.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tenant_emulator::{Emulator, EmulatorConfig};

use crate::helpers::{Tenant, config, reference, spawn_with};

async fn everyone(t: &Tenant) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 0..10 {
        let page = page.to_string();
        let (_, body) = t
            .get_json("/api/v2/users", &[("per_page", "100"), ("page", &page)])
            .await;
        let users = body.as_array().cloned().expect("array");
        if users.is_empty() {
            break;
        }
        all.extend(users);
    }
    all
}

fn named(tenant: &str, users: usize) -> EmulatorConfig {
    let mut config = EmulatorConfig::new(tenant);
    config.users = users;
    config.now = Some(reference());
    config
}

#[tokio::test]
async fn the_same_seed_serves_identical_users() {
    let a = spawn_with(config(150)).await;
    let b = spawn_with(config(150)).await;
    assert_eq!(everyone(&a).await, everyone(&b).await);
    // Past days only: today's `updated_at` follows the clock.
    let (_, days_a) = a
        .get_json("/api/v2/stats/daily", &[("to", "20250531")])
        .await;
    let (_, days_b) = b
        .get_json("/api/v2/stats/daily", &[("to", "20250531")])
        .await;
    assert!(days_a == days_b, "daily stats differ");
    let mut other = config(150);
    other.seed = 2;
    let c = spawn_with(other).await;
    assert_ne!(everyone(&a).await, everyone(&c).await);
}

#[tokio::test]
async fn tenants_with_one_seed_share_people_under_one_email() {
    let eu = spawn_with(named("acme-eu", 400)).await;
    let us = spawn_with(named("acme-us", 400)).await;
    let emails = |users: &[Value]| -> BTreeMap<String, Value> {
        users
            .iter()
            .filter_map(|u| Some((u["email"].as_str()?.to_owned(), u.clone())))
            .collect()
    };
    let (eu_users, us_users) = (emails(&everyone(&eu).await), emails(&everyone(&us).await));
    let shared: Vec<&String> = eu_users
        .keys()
        .filter(|e| us_users.contains_key(*e))
        .collect();
    assert!(shared.len() >= 20, "only {} shared people", shared.len());
    for email in &shared {
        let (a, b) = (&eu_users[*email], &us_users[*email]);
        assert_ne!(a["user_id"], b["user_id"], "accounts differ per tenant");
        if a["given_name"].is_string() && b["given_name"].is_string() {
            assert_eq!(a["given_name"], b["given_name"], "one person");
        }
    }
    let differ = shared
        .iter()
        .filter(|e| eu_users[**e]["email_verified"] != us_users[**e]["email_verified"])
        .count();
    assert!(
        differ > 0,
        "someone is verified in one tenant and not the other"
    );
}

#[tokio::test]
async fn seeded_users_have_the_advertised_mix() {
    let t = spawn_with(config(1000)).await;
    let users = everyone(&t).await;
    assert_eq!(users.len(), 1000);
    let share = |predicate: &dyn Fn(&Value) -> bool| {
        users.iter().filter(|u| predicate(u)).count() as f64 / 10.0
    };
    let unverified = share(&|u| u["email_verified"] == Value::Bool(false));
    let blocked = share(&|u| u["blocked"] == Value::Bool(true));
    let social = share(&|u| {
        u["user_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("google-oauth2|"))
    });
    let linked = share(&|u| u["identities"].as_array().is_some_and(|i| i.len() == 2));
    let address = share(&|u| u["user_metadata"]["address"].is_object());
    assert!(
        (5.0..=20.0).contains(&unverified),
        "unverified {unverified}%"
    );
    assert!((0.5..=4.0).contains(&blocked), "blocked {blocked}%");
    assert!((15.0..=30.0).contains(&social), "social {social}%");
    assert!((4.0..=12.0).contains(&linked), "linked {linked}%");
    assert!((30.0..=50.0).contains(&address), "address {address}%");
    let names: BTreeSet<&str> = users
        .iter()
        .filter_map(|u| u["family_name"].as_str())
        .collect();
    assert!(names.len() > 150, "{} distinct family names", names.len());
    for user in &users {
        assert!(user["user_metadata"]["language"].is_string());
        assert!(user["app_metadata"]["plan"].is_string());
        assert!(
            user["app_metadata"]["customer_id"]
                .as_str()
                .is_some_and(|c| c.starts_with("cus_"))
        );
    }
    let emails: BTreeSet<&str> = users.iter().filter_map(|u| u["email"].as_str()).collect();
    assert_eq!(emails.len(), 1000, "emails are unique in a tenant");
}

#[tokio::test]
async fn seeding_ten_thousand_users_starts_in_reasonable_time() {
    let mut config = config(10_000);
    config.tenant = "test".into();
    let handle = Emulator::start(config).await.expect("starts");
    assert_eq!(handle.control().users(1, 0).total, 10_000);
    handle.shutdown().await;
}
