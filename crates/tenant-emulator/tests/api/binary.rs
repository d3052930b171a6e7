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
