//! The `tenant-emulator` binary: several tenants in one process, one line each.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args` and returns it with the first `tenants` lines it prints.
async fn start(args: &[&str], tenants: usize) -> (Child, Vec<String>) {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_tenant-emulator"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .take(tenants)
            .map(|l| l.expect("line"))
            .collect()
    })
    .await
    .expect("read lines");
    (child, lines)
}

#[tokio::test]
async fn the_binary_serves_one_tenant_per_flag_and_prints_their_urls() {
    let args = [
        "--tenant", "acme-eu", "--tenant", "globex", "--users", "20", "--seed", "3",
    ];
    let (_child, lines) = start(&args, 2).await;
    let mut urls = Vec::new();
    for (line, tenant) in lines.iter().zip(["acme-eu", "globex"]) {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words.len(), 5, "{line}");
        assert_eq!(
            (words[0], words[1], words[3]),
            ("tenant", tenant, "domain"),
            "{line}"
        );
        assert_eq!(words[4], format!("{tenant}.auth0.test"));
        assert!(words[2].starts_with("http://127.0.0.1:"), "{line}");
        urls.push(words[2].to_owned());
    }
    let http = crate::helpers::http();
    for (url, tenant) in urls.iter().zip(["acme-eu", "globex"]) {
        let token =
            crate::helpers::client_credentials(&http, url, &format!("{tenant}.auth0.test"), None)
                .await;
        let response = http
            .get(format!("{url}/api/v2/users"))
            .bearer_auth(token)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn the_log_retention_flag_limits_how_far_back_logs_are_returned() {
    let (_child, lines) = start(&["--users", "100", "--log-retention-days", "1"], 1).await;
    let url = lines[0].split(' ').nth(2).expect("a URL").to_owned();
    let http = crate::helpers::http();
    let token = crate::helpers::client_credentials(&http, &url, "dev.auth0.test", None).await;
    let users: serde_json::Value = http
        .get(format!("{url}/__emulator/users?limit=100"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    let now = chrono::Utc::now();
    let mut seen = 0;
    for user in users["users"].as_array().expect("users") {
        let id = crate::helpers::encode(user["user_id"].as_str().expect("id"));
        let logs: serde_json::Value = http
            .get(format!("{url}/api/v2/users/{id}/logs?per_page=100"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("JSON");
        for event in logs.as_array().expect("logs") {
            let date = chrono::DateTime::parse_from_rfc3339(event["date"].as_str().expect("date"))
                .expect("ISO date");
            assert!(
                now - date.with_timezone(&chrono::Utc) <= chrono::Duration::days(1),
                "{event}"
            );
            seen += 1;
        }
    }
    assert!(seen > 0, "some user logged in during the last day");
}

#[tokio::test]
async fn the_membership_lag_flag_delays_the_members_list() {
    let (_child, lines) = start(&["--users", "30", "--membership-lag-ms", "60000"], 1).await;
    let url = lines[0].split(' ').nth(2).expect("a URL").to_owned();
    let http = crate::helpers::http();
    let token = crate::helpers::client_credentials(&http, &url, "dev.auth0.test", None).await;
    let orgs: serde_json::Value = http
        .get(format!("{url}/__emulator/organizations"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    let org = &orgs[0];
    let member = org["members"][0].as_str().expect("a member");
    let members = format!(
        "{url}/api/v2/organizations/{}/members",
        org["id"].as_str().expect("id")
    );
    let response = http
        .delete(&members)
        .bearer_auth(&token)
        .json(&serde_json::json!({ "members": [member] }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let listed: serde_json::Value = http
        .get(format!("{members}?per_page=100"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    let listed = listed.as_array().expect("members");
    assert!(
        listed.iter().any(|m| m["user_id"] == member),
        "still listed for a minute"
    );
}

#[tokio::test]
async fn the_binary_takes_callback_and_logout_urls_and_personas() {
    let args = [
        "--tenant",
        "portal",
        "--users",
        "5",
        "--callback-url",
        "http://localhost:3000/callback",
        "--logout-url",
        "http://localhost:3000/",
        "--persona",
        "global_admin=admin@example.com",
    ];
    let (_child, lines) = start(&args, 1).await;
    let url = lines[0].split(' ').nth(2).expect("a URL").to_owned();
    let http = crate::browser::client();
    let authorize = http
        .get(format!("{url}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "tenantgraph"),
            ("redirect_uri", "http://localhost:3000/callback"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(authorize.status(), StatusCode::FOUND);
    let logout = http
        .get(format!("{url}/v2/logout?client_id=tenantgraph"))
        .send()
        .await
        .expect("send");
    assert_eq!(logout.headers()["location"], "http://localhost:3000/");
    let personas: serde_json::Value = http
        .get(format!("{url}/__emulator/personas"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        personas,
        serde_json::json!([{"label": "global_admin", "email": "admin@example.com"}])
    );
}
