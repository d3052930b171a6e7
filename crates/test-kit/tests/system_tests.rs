//! The workspace's binaries of system tests (`harness = false`, run by `test_kit::system_tests!`)
//! lose no test silently: nothing would run a `#[test]` left in them, nor a test function missing
//! from the macro's list. And no other test binary starts a system program, which would fail on
//! a fresh machine instead of being skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Attributes that only libtest acts on.
const LIBTEST_ATTRIBUTES: [&str; 4] = ["#[test]", "#[tokio::test", "#[ignore", "#[should_panic"];

/// What starts a system program in a test.
const SYSTEM_PROGRAMS: [&str; 5] = [
    "RedisServer::start",
    "Browser::start",
    "Command::new(\"node\")",
    "Command::new(\"npm\")",
    "Command::new(\"redis-server\")",
];

/// A test binary with `harness = false`: its main file and every source file of it.
#[derive(Debug)]
struct SystemBinary {
    name: String,
    main: PathBuf,
    sources: Vec<PathBuf>,
}

/// Canonical, as are the paths below it, so that problems name plain paths.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn manifest(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    text.parse().unwrap()
}

/// The directories of the workspace's packages.
fn packages() -> Vec<PathBuf> {
    let root = workspace_root();
    manifest(&root)["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| root.join(member.as_str().unwrap()).canonicalize().unwrap())
        .collect()
}

/// The `.rs` files under `dir` (a Node package's `node_modules` aside).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.ends_with("node_modules") {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The binaries with `harness = false` of the package in `dir`.
fn system_binaries(dir: &Path) -> Vec<SystemBinary> {
    let manifest = manifest(dir);
    let Some(targets) = manifest.get("test").and_then(|t| t.as_array()) else {
        return Vec::new();
    };
    targets
        .iter()
        .filter(|target| target.get("harness").and_then(toml::Value::as_bool) == Some(false))
        .map(|target| {
            let name = target["name"].as_str().unwrap().to_owned();
            let main = dir.join(target["path"].as_str().unwrap_or_else(|| {
                panic!("[[test]] {name} names its path (where its sources are is not guessed)")
            }));
            // A binary in a directory of its own (`tests/x/main.rs`) is all of that directory.
            let sources = if main.ends_with("main.rs") {
                rust_files(main.parent().unwrap())
            } else {
                vec![main.clone()]
            };
            SystemBinary {
                name,
                main,
                sources,
            }
        })
        .collect()
}

/// The test paths listed in `tests: [...]` of the `system_tests!` in `main`.
fn registered(main: &str) -> Vec<String> {
    let Some((_, invocation)) = main.split_once("system_tests!(") else {
        return Vec::new();
    };
    let Some((_, list)) = invocation.split_once("tests:") else {
        return Vec::new();
    };
    let list = list.split_once('[').unwrap().1.split_once(']').unwrap().0;
    list.split(',')
        .map(|path| path.split_whitespace().collect::<String>())
        .filter(|path| !path.is_empty())
        .collect()
}

/// The tests of a source file, `pub async fn`s, as the macro names them: `module::function`,
/// where `module` is the file's path in its binary (nothing for the main file).
fn tests_in(source: &str, module: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("pub async fn "))
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if module.is_empty() {
                name
            } else {
                format!("{module}::{name}")
            }
        })
        .collect()
}

/// The module path of `file` in a binary whose main file is `main`.
fn module_of(file: &Path, main: &Path) -> String {
    if file == main {
        return String::new();
    }
    let relative = file.strip_prefix(main.parent().unwrap()).unwrap();
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// Lines of `source` that start with one of `patterns` (or contain one, when `anywhere`).
fn offending(source: &str, patterns: &[&str], anywhere: bool) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//"))
        .filter(|line| {
            patterns.iter().any(|pattern| {
                if anywhere {
                    line.contains(pattern)
                } else {
                    line.starts_with(pattern)
                }
            })
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_test_of_a_system_binary_is_registered_and_none_is_left_to_libtest() {
    let mut problems = Vec::new();
    let mut binaries = 0;
    for package in packages() {
        for binary in system_binaries(&package) {
            binaries += 1;
            let main = std::fs::read_to_string(&binary.main).unwrap();
            let registered = registered(&main);
            if registered.is_empty() {
                problems.push(format!(
                    "{}: no `test_kit::system_tests!(needs: [..], tests: [..])`",
                    binary.main.display()
                ));
            }
            for file in &binary.sources {
                let source = std::fs::read_to_string(file).unwrap();
                for line in offending(&source, &LIBTEST_ATTRIBUTES, false) {
                    problems.push(format!(
                        "{}: `{line}`: nothing runs it in `{}` (harness = false); make it a `pub \
                         async fn` listed in its system_tests!",
                        file.display(),
                        binary.name
                    ));
                }
                for test in tests_in(&source, &module_of(file, &binary.main)) {
                    if !registered.contains(&test) {
                        problems.push(format!(
                            "{}: `{test}` is not in the `tests:` of `{}`'s system_tests! (every \
                             `pub async fn` there is a test; a helper stays private)",
                            file.display(),
                            binary.name
                        ));
                    }
                }
            }
        }
    }
    assert!(binaries >= 4, "found only {binaries} system-test binaries");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_other_test_binary_starts_a_system_program() {
    let mut problems = Vec::new();
    for package in packages() {
        let system_sources: Vec<PathBuf> = system_binaries(&package)
            .into_iter()
            .flat_map(|binary| binary.sources)
            .collect();
        for file in rust_files(&package.join("tests")) {
            // This file names them, to look for them.
            if system_sources.contains(&file) || file.ends_with(file!()) {
                continue;
            }
            let source = std::fs::read_to_string(&file).unwrap();
            for line in offending(&source, &SYSTEM_PROGRAMS, true) {
                problems.push(format!(
                    "{}: `{line}`: a test that needs a system program belongs in a binary run by \
                     test_kit::system_tests!, which skips it where the program is missing",
                    file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checks_read_sources_as_written() {
    let main = "mod explorer;\ntest_kit::system_tests!(\n    needs: [CHROMIUM],\n    tests: [\n        explorer::opens,\n        top_level,\n    ],\n);\n";
    assert_eq!(registered(main), ["explorer::opens", "top_level"]);
    let source =
        "async fn helper() {}\npub async fn opens() {\n}\n#[tokio::test]\nasync fn left() {}\n";
    assert_eq!(tests_in(source, "explorer"), ["explorer::opens"]);
    assert_eq!(
        offending(source, &LIBTEST_ATTRIBUTES, false),
        ["#[tokio::test]"]
    );
    let main_rs = Path::new("/w/tests/browser/main.rs");
    assert_eq!(
        module_of(Path::new("/w/tests/browser/portal.rs"), main_rs),
        "portal"
    );
    assert_eq!(
        module_of(Path::new("/w/tests/browser/a/mod.rs"), main_rs),
        "a"
    );
    assert_eq!(module_of(main_rs, main_rs), "");
}
