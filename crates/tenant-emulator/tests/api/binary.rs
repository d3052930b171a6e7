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

#[tokio::test]
async fn the_binary_serves_one_tenant_per_flag_and_prints_their_urls() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_tenant-emulator"))
            .args([
                "--tenant", "acme-eu", "--tenant", "globex", "--users", "20", "--seed", "3",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .take(2)
            .map(|l| l.expect("line"))
            .collect()
    })
    .await
    .expect("read lines");
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
async fn the_binary_takes_callback_and_logout_urls_and_personas() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_tenant-emulator"))
            .args([
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
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .next()
            .expect("a line")
            .expect("line")
    })
    .await
    .expect("read line");
    let url = line.split(' ').nth(2).expect("url").to_owned();
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
        .expect("json");
    assert_eq!(
        personas,
        serde_json::json!([{"label": "global_admin", "email": "admin@example.com"}])
    );
}
