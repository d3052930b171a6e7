//! The emulator through Auth0's official Node.js SDK (node-auth0 v4, `tests/sdk/`): the SDK must
//! get from the emulator what it expects from Auth0. Needs `node` and the SDK's packages
//! (`npm ci --prefix crates/tenant-emulator/tests/sdk`); without them the test says so and passes,
//! unless `TENANTGRAPH_CI=1`, where their absence fails it.

use std::path::{Path, PathBuf};
use std::process::Command;

use tenant_emulator::ClientConfig;

use crate::helpers::{config, spawn_with};

const INSTALL: &str = "npm ci --prefix crates/tenant-emulator/tests/sdk";
/// An allowed callback URL of the client, for the sign-in check.
const CALLBACK: &str = "http://localhost:3000/callback";

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sdk")
}

/// What is missing to run the suite, if anything.
fn missing_prerequisite(dir: &Path) -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("`node` (Node.js 18 or later) is not on the PATH".to_owned());
    }
    if !dir.join("node_modules/auth0/package.json").is_file() {
        return Some(format!(
            "the SDK's packages are not installed; run `{INSTALL}` from the workspace root"
        ));
    }
    None
}

#[tokio::test]
async fn node_auth0_conformance() {
    let dir = sdk_dir();
    if let Some(missing) = missing_prerequisite(&dir) {
        let required = std::env::var("TENANTGRAPH_CI").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "TENANTGRAPH_CI=1 and the SDK suite cannot run: {missing}"
        );
        eprintln!("\n======== SKIPPED: the node-auth0 conformance suite did not run ========");
        eprintln!("{missing}");
        eprintln!("to run it: {INSTALL}");
        eprintln!("=======================================================================\n");
        return;
    }
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
    println!("{stdout}");
}
