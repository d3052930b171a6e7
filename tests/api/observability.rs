//! The example Grafana dashboard and Prometheus alert rules (`examples/grafana`,
//! `examples/prometheus`) parse, and name only metrics a running gateway exports.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

use std::time::Duration;

use tenantgraph::config::RedisConfig;
use test_kit::{Options, spawn_with};

/// Every series name the gateway's `/metrics` can show: each family, with the suffixes its
/// type adds (`_total` for counters; `_bucket`, `_sum`, `_count` for histograms).
async fn exported_series() -> BTreeSet<String> {
    // A family shows in the exposition once it has a sample, so the gateway is driven down
    // every path first: upstream calls, cache lookups, and a Redis that refuses connections.
    let app = spawn_with(Options::default().gateway(|config| {
        config.redis = Some(RedisConfig {
            url: "redis://127.0.0.1:1/0".to_owned(),
            key_prefix: "observability:".to_owned(),
            profile_ttl: Duration::from_secs(60),
            timeout: Duration::from_millis(100),
        });
    }))
    .await;
    let admin = &app.tokens.global_admin;
    let found = app
        .query(
            admin,
            "{ searchUsers(first: 1) { edges { node { id tenant { id } } } } }",
            json!({}),
        )
        .await;
    let node = &found["data"]["searchUsers"]["edges"][0]["node"];
    assert!(node["id"].is_string(), "{found}");
    let variables = json!({ "tenant": node["tenant"]["id"], "id": node["id"] });
    for _ in 0..2 {
        app.query(
            admin,
            "query($tenant: ID!, $id: ID!) { user(tenant: $tenant, id: $id) { email } }",
            variables.clone(),
        )
        .await;
    }
    let text = app.metrics().await;
    let mut series = BTreeSet::new();
    for line in text.lines() {
        let Some(declared) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut words = declared.split_whitespace();
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            continue;
        };
        series.insert(name.to_owned());
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[],
        };
        for suffix in suffixes {
            series.insert(format!("{name}{suffix}"));
        }
    }
    assert!(series.len() > 10, "{text}");
    series
}

/// The `tenantgraph_…` names an expression reads.
fn names_in(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(at) = rest.find("tenantgraph_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

fn balanced(expression: &str) -> bool {
    let mut depth = 0i32;
    for c in expression.chars() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

#[tokio::test]
async fn the_grafana_dashboard_reads_only_exported_metrics() {
    let series = exported_series().await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/grafana/tenantgraph-dashboard.json"
    ))
    .unwrap();
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(dashboard["uid"], "tenantgraph");
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 10);
    let mut read = BTreeSet::new();
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{panel}");
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}");
        for target in targets {
            let expression = target["expr"].as_str().unwrap();
            assert!(balanced(expression), "{expression}");
            for name in names_in(expression) {
                assert!(
                    series.contains(&name),
                    "{name} is not exported ({expression})"
                );
                read.insert(name);
            }
        }
    }
    for needed in [
        "tenantgraph_tenant_status",
        "tenantgraph_graphql_requests_total",
        "tenantgraph_upstream_requests_total",
        "tenantgraph_cache_requests_total",
        "tenantgraph_audit_failures_total",
    ] {
        assert!(read.contains(needed), "the dashboard shows {needed}");
    }
}

#[tokio::test]
async fn the_prometheus_rules_parse_and_read_only_exported_metrics() {
    let series = exported_series().await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/prometheus/tenantgraph-alerts.yml"
    ))
    .unwrap();
    let documents = YamlLoader::load_from_str(&text).unwrap();
    let groups = documents[0]["groups"].as_vec().unwrap();
    let mut alerts = BTreeSet::new();
    for group in groups {
        assert!(group["name"].as_str().is_some());
        for rule in group["rules"].as_vec().unwrap() {
            let alert = rule["alert"].as_str().unwrap();
            let expression = rule["expr"].as_str().unwrap();
            assert!(balanced(expression), "{alert}: {expression}");
            assert!(
                matches!(
                    rule["labels"]["severity"].as_str(),
                    Some("warning" | "critical")
                ),
                "{alert}"
            );
            assert!(rule["annotations"]["summary"].as_str().is_some(), "{alert}");
            if let Yaml::String(wait) = &rule["for"] {
                assert!(
                    wait.ends_with('m') || wait.ends_with('s'),
                    "{alert}: {wait}"
                );
            }
            let names = names_in(expression);
            assert!(!names.is_empty(), "{alert}");
            for name in names {
                assert!(series.contains(&name), "{alert}: {name} is not exported");
            }
            alerts.insert(alert.to_owned());
        }
    }
    for needed in [
        "TenantgraphTenantDown",
        "TenantgraphTenantCircuitOpen",
        "TenantgraphUpstreamRateLimited",
        "TenantgraphAuditFailures",
    ] {
        assert!(alerts.contains(needed), "{needed} in {alerts:?}");
    }
}
