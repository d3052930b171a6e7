//! Whether a system program (or an installed package) a test needs is there, and what happens
//! when it is not.

use std::path::Path;
use std::process::{Command, Stdio};

/// The variable that makes a missing program a failure (CI sets it).
const STRICT: &str = "TENANTGRAPH_CI";

/// `true` when `program` runs (`program --version` or the given probe answers). When it does
/// not: with `TENANTGRAPH_CI=1`, panics naming it; otherwise prints, loudly, that the test is
/// skipped and how to install what it needs, and answers `false` (the test then returns).
pub fn require(program: &str, install: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    found || missing(&format!("`{program}` is not installed"), install)
}

/// As [`require`], for a file an install step leaves behind (a package's `package.json` under
/// `node_modules`, say): `true` when `path` exists.
pub fn require_file(path: &Path, install: &str) -> bool {
    path.is_file() || missing(&format!("`{}` is missing", path.display()), install)
}

/// Fails under `TENANTGRAPH_CI=1`; otherwise says loudly that the test is skipped and answers
/// `false`.
fn missing(what: &str, install: &str) -> bool {
    let message =
        format!("{what}: this test needs it. Install it with `{install}` (.ci/run does).");
    if std::env::var(STRICT).is_ok_and(|v| v == "1") {
        panic!("{message} ({STRICT}=1: what a test needs must be there)");
    }
    // Straight to the process's stderr: the test harness captures `eprintln!` of a passing
    // test, and a skip must be seen.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("\n==== SKIPPED ==== {message}\n\n").as_bytes(),
    );
    false
}
