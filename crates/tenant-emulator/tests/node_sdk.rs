//! The emulator through Auth0's official Node.js SDK (node-auth0 v4, `tests/sdk/`): the SDK must
//! get from the emulator what it expects from Auth0. Needs `node` and the SDK's packages
//! (`npm ci --prefix crates/tenant-emulator/tests/sdk`); without them the test is counted as
//! ignored, saying so loudly, and under `TENANTGRAPH_CI=1` their absence fails it
//! (`harness = false`: see `test_kit::system_tests`).

use std::path::{Path, PathBuf};
use std::process::Command;

use tenant_emulator::ClientConfig;

// Shared with the `api` binary, which uses the rest of it.
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use helpers::{config, spawn_with};

/// An allowed callback URL of the client, for the sign-in check.
const CALLBACK: &str = "http://localhost:3000/callback";

/// The Node package of the suite.
fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sdk")
}

pub async fn node_auth0_conformance() {
    let dir = sdk_dir();
    let mut config = config(200);
    config.clients = vec![ClientConfig::default().with_callback(CALLBACK)];
    let t = spawn_with(config).await;
    let script = dir.join("conformance.mjs");
    let (base, domain) = (t.base.clone(), t.handle.domain().to_owned());
    // Blocking on the child off the runtime's thread keeps the emulator serving meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .current_dir(script.parent().unwrap_or(Path::new(".")))
            .env("EMULATOR_URL", base)
            .env("AUTH0_DOMAIN", domain)
            .env("AUTH0_CLIENT_ID", "tenantgraph")
            .env("AUTH0_CLIENT_SECRET", "tenantgraph-secret")
            .env("CALLBACK_URL", CALLBACK)
            .output()
    })
    .await
    .expect("the node task")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node-auth0 conformance failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // The suite's last line counts its checks (a failure's message above has all of them).
    println!("{}", stdout.lines().last().unwrap_or_default());
}

test_kit::system_tests!(
    needs: [NODE, NODE_AUTH0_PACKAGES],
    tests: [node_auth0_conformance],
);
