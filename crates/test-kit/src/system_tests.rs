//! Test binaries whose tests need something from the machine: a system program, or the packages
//! an install step leaves on disk.
//!
//! Such a binary has `harness = false` in its `Cargo.toml` and ends with [`system_tests!`]:
//!
//! ```text
//! test_kit::system_tests!(needs: [REDIS_SERVER], tests: [shared_cache, a_write_is_seen]);
//! ```
//!
//! When the binary starts it looks for what it needs. If all of it is there, the tests run as
//! `#[tokio::test]`s would, each on its own current-thread runtime. If something is missing, it
//! prints one loud block naming what and the command that installs it, and counts the tests as
//! ignored, so `cargo test` passes on a fresh machine and says what it did not run; with
//! `TENANTGRAPH_CI=1` (set by `.ci/run`) they fail instead, so CI always runs them all. Asked to
//! run them anyway (`-- --ignored`), they fail with the same message.
//!
//! Why not the built-in harness: it can skip a test only through `#[ignore]`, fixed when the
//! test is compiled, and a test that returns early is counted as passed. Here the decision is
//! taken each time the binary runs, so installing a program later needs no rebuild.
//!
//! The tests of such a binary are the `pub async fn`s of its sources, each listed in `tests:`;
//! `crates/test-kit/tests/system_tests.rs` checks that none is left out and that no
//! `#[test]` (which nothing would run here) is left in.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use libtest_mimic::{Arguments, Failed, Trial};

/// The variable that makes anything missing a failure (CI sets it).
pub const STRICT: &str = "TENANTGRAPH_CI";

/// `redis-server`, which `RedisServer` starts on a free port.
pub const REDIS_SERVER: Need = Need::program("redis-server", "apt-get install redis-server");
/// Chromium, driven through [`CHROMEDRIVER`] by `Browser`.
pub const CHROMIUM: Need = Need::program("chromium", "apt-get install chromium chromium-driver");
pub const CHROMEDRIVER: Need =
    Need::program("chromedriver", "apt-get install chromium chromium-driver");
pub const NODE: Need = Need::program("node", "apt-get install nodejs npm");
pub const NPM: Need = Need::program("npm", "apt-get install nodejs npm");
/// The Apollo router and subgraph library of `tests/federation/`.
pub const ROUTER_PACKAGES: Need = Need::file(
    "tests/federation/node_modules/@apollo/gateway/package.json",
    "npm ci --prefix tests/federation",
);
/// Auth0's Node.js SDK, for the emulator's conformance suite.
pub const NODE_AUTH0_PACKAGES: Need = Need::file(
    "crates/tenant-emulator/tests/sdk/node_modules/auth0/package.json",
    "npm ci --prefix crates/tenant-emulator/tests/sdk",
);

/// Something a binary's tests need from the machine, and the command that installs it.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    what: What,
    install: &'static str,
}

#[derive(Debug, Clone, Copy)]
enum What {
    /// A program on the PATH.
    Program(&'static str),
    /// A file, relative to the workspace's root (where the install commands run).
    File(&'static str),
}

impl Need {
    /// A program that must answer `program --version`.
    pub const fn program(name: &'static str, install: &'static str) -> Self {
        Self {
            what: What::Program(name),
            install,
        }
    }

    /// A file that `install` leaves, `path` relative to the workspace's root.
    pub const fn file(path: &'static str, install: &'static str) -> Self {
        Self {
            what: What::File(path),
            install,
        }
    }

    /// Whether it is there now.
    pub fn present(&self) -> bool {
        match self.what {
            // Running it, rather than looking along the PATH, also catches a broken install.
            What::Program(name) => Command::new(name)
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success()),
            What::File(path) => workspace_root().join(path).is_file(),
        }
    }

    /// The command that installs it.
    pub fn install(&self) -> &'static str {
        self.install
    }
}

impl std::fmt::Display for Need {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.what {
            What::Program(name) => write!(f, "`{name}` (not on the PATH, or it does not run)"),
            What::File(path) => write!(f, "`{path}`"),
        }
    }
}

/// Where `Cargo.toml` of the workspace is: test-kit is `crates/test-kit` under it.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `TENANTGRAPH_CI=1`: what a test needs must then be there.
pub fn strict() -> bool {
    std::env::var(STRICT).is_ok_and(|value| value == "1")
}

/// One test of a binary: its name (`module::function`, as libtest names it, so that filters
/// keep working) and its body.
pub struct Test {
    name: &'static str,
    body: Box<dyn FnOnce() + Send>,
}

impl Test {
    /// `test` run as `#[tokio::test]` runs it: on a runtime of its own, current-thread, with
    /// time and I/O enabled.
    pub fn new<F, Fut>(name: &'static str, test: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        Self {
            name,
            body: Box::new(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime")
                    .block_on(test());
            }),
        }
    }
}

/// The `main` of the test binary `binary`: runs `tests` as libtest would (same arguments, same
/// report), ignored or failed as the module's documentation says when a need is missing.
pub fn run(binary: &str, needs: &[Need], tests: Vec<Test>) -> ExitCode {
    let args = Arguments::from_args();
    conclude(
        binary,
        &args,
        needs,
        tests,
        strict(),
        &mut std::io::stderr(),
    )
    .exit_code()
}

/// What [`run`] does, with its arguments and strictness given.
fn conclude(
    binary: &str,
    args: &Arguments,
    needs: &[Need],
    tests: Vec<Test>,
    strict: bool,
    loud: &mut dyn std::io::Write,
) -> libtest_mimic::Conclusion {
    let missing: Vec<Need> = needs
        .iter()
        .filter(|need| !need.present())
        .copied()
        .collect();
    let trials: Vec<Trial> = tests
        .into_iter()
        .map(|test| trial(test, &missing, strict))
        .collect();
    // Listing is how tools discover tests: nothing else is said then. Nor when a filter leaves
    // none of these tests.
    let selected = trials
        .iter()
        .filter(|trial| !args.is_filtered_out(trial))
        .count();
    if !missing.is_empty() && !args.list && selected > 0 {
        // One write, so that nothing interleaves with it.
        let _ = loud.write_all(warning(binary, selected, &missing, strict).as_bytes());
    }
    libtest_mimic::run(args, trials)
}

/// A trial for `test`: its body, or, with something missing, a failure saying what (flagged
/// ignored unless `strict`).
fn trial(test: Test, missing: &[Need], strict: bool) -> Trial {
    if missing.is_empty() {
        let body = test.body;
        return Trial::test(test.name, move || {
            body();
            Ok(())
        });
    }
    let reason = format!("missing {}", summary(missing));
    Trial::test(test.name, move || Err(Failed::from(reason))).with_ignored_flag(!strict)
}

/// `` `node` (…): install with `apt-get install nodejs npm`; … ``
fn summary(missing: &[Need]) -> String {
    missing
        .iter()
        .map(|need| format!("{need}: install with `{}`", need.install))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The loud block, written before the tests' report.
fn warning(binary: &str, tests: usize, missing: &[Need], strict: bool) -> String {
    let rule = "=".repeat(78);
    let verdict = if strict {
        format!("FAILED: {tests} tests of `{binary}`, {STRICT}=1 and what they need is missing:")
    } else {
        format!(
            "SKIPPED: {tests} tests of `{binary}`, counted as ignored: what they need is missing:"
        )
    };
    let mut block = format!("\n{rule}\n{verdict}\n");
    for need in missing {
        block.push_str(&format!("  {need}\n      install: {}\n", need.install));
    }
    if !strict {
        block.push_str(&format!(
            "{STRICT}=1 (as in CI) makes this a failure; .ci/run installs everything.\n"
        ));
    }
    block.push_str(&format!("{rule}\n\n"));
    block
}

/// The `main` of a binary of system tests (see the [module's documentation](self)):
/// `needs:` the [`Need`]s of all its tests (the constants of [`system_tests`](self) by their
/// bare names, or any other `Need` in scope), `tests:` its test functions by path, each an
/// `async fn` without arguments.
#[macro_export]
macro_rules! system_tests {
    (needs: [$($need:expr),* $(,)?], tests: [$($test:path),* $(,)?] $(,)?) => {
        fn main() -> ::std::process::ExitCode {
            let needs = {
                #[allow(unused_imports)]
                use $crate::system_tests::*;
                [$($need),*]
            };
            $crate::system_tests::run(
                ::std::env!("CARGO_CRATE_NAME"),
                &needs,
                ::std::vec![$($crate::system_tests::Test::new(::std::stringify!($test), $test)),*],
            )
        }
    };
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const ABSENT: Need = Need::program(
        "tenantgraph-a-program-no-machine-has",
        "apt-get install nothing",
    );
    const ABSENT_FILE: Need = Need::file("no/such/file.json", "npm ci --prefix nowhere");
    /// `cargo test` runs under cargo, so cargo is there.
    const PRESENT: Need = Need::program("cargo", "rustup");

    /// Two tests that count their runs, concluded with `needs`.
    fn conclude_two(
        needs: &[Need],
        strict: bool,
        ignored: bool,
    ) -> (libtest_mimic::Conclusion, usize, String) {
        let runs = Arc::new(AtomicUsize::new(0));
        let tests = ["first", "second"]
            .into_iter()
            .map(|name| {
                let runs = runs.clone();
                Test::new(name, async move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        // The inner report goes to a file, so that this test's own output says nothing of
        // the failures it provokes.
        let report = std::env::temp_dir().join(format!(
            "tenantgraph-system-tests-{}-{strict}-{ignored}-{}.log",
            std::process::id(),
            needs.len()
        ));
        let args = Arguments {
            test_threads: Some(1),
            quiet: true,
            ignored,
            logfile: Some(report.to_string_lossy().into_owned()),
            ..Arguments::default()
        };
        let mut loud = Vec::new();
        let conclusion = conclude("unit", &args, needs, tests, strict, &mut loud);
        let _ = std::fs::remove_file(report);
        let loud = String::from_utf8(loud).unwrap();
        (conclusion, runs.load(Ordering::SeqCst), loud)
    }

    #[test]
    fn whats_missing_is_looked_for_on_this_machine() {
        assert!(PRESENT.present());
        assert!(!ABSENT.present());
        assert!(!ABSENT_FILE.present());
    }

    #[test]
    fn with_everything_there_the_tests_run() {
        let (conclusion, runs, loud) = conclude_two(&[PRESENT], false, false);
        assert_eq!((conclusion.num_passed, conclusion.num_ignored), (2, 0));
        assert_eq!(runs, 2);
        assert_eq!(loud, "", "nothing to say");
    }

    #[test]
    fn with_something_missing_the_tests_are_ignored_and_not_run() {
        let (conclusion, runs, loud) = conclude_two(&[PRESENT, ABSENT_FILE], false, false);
        assert_eq!(conclusion.num_ignored, 2);
        assert_eq!(conclusion.num_passed + conclusion.num_failed, 0);
        assert!(!conclusion.has_failed());
        assert_eq!(runs, 0);
        assert!(
            loud.contains("SKIPPED: 2 tests of `unit`, counted as ignored"),
            "{loud}"
        );
        assert!(loud.contains("`no/such/file.json`"), "{loud}");
        assert!(loud.contains("install: npm ci --prefix nowhere"), "{loud}");
        assert!(!loud.contains("cargo"), "only what is missing: {loud}");
    }

    #[test]
    fn with_something_missing_strict_runs_fail() {
        let (conclusion, runs, loud) = conclude_two(&[ABSENT], true, false);
        assert_eq!(conclusion.num_failed, 2);
        assert!(conclusion.has_failed());
        assert_eq!(runs, 0);
        assert!(
            loud.contains("FAILED: 2 tests of `unit`, TENANTGRAPH_CI=1"),
            "{loud}"
        );
    }

    #[test]
    fn ignored_tests_asked_for_by_name_fail_saying_what_is_missing() {
        let (conclusion, runs, _) = conclude_two(&[ABSENT], false, true);
        assert_eq!(conclusion.num_failed, 2);
        assert_eq!(runs, 0);
        let reason = summary(&[ABSENT]);
        assert!(
            reason.contains("tenantgraph-a-program-no-machine-has"),
            "{reason}"
        );
        assert!(reason.contains("apt-get install nothing"), "{reason}");
    }
}
