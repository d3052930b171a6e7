//! The README's examples run as printed: every ```graphql block is sent to `tenantgraph demo`
//! (its default users and seed, as `cargo run --release -- demo` starts it), as the persona its
//! first line names (`# as global_admin`), in the order printed. A block must answer without
//! error, unless its first line says which refusal it shows (`# as user, refused: FORBIDDEN`).
//! A block that shows schema rather than an operation says so on its first line (`# schema`):
//! it is not sent, but it must parse as a GraphQL type-system document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One ```graphql block of the README that shows an operation.
#[derive(Debug)]
struct Example {
    /// The README line the block starts on, for messages.
    line: usize,
    persona: String,
    /// The error code the block shows, if it shows a refusal.
    refused: Option<String>,
    document: String,
}

const PERSONAS: [&str; 5] = [
    "global_admin",
    "tenant_admin",
    "org_admin",
    "auditor",
    "user",
];

fn examples(readme: &str) -> Vec<Example> {
    let mut found = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        if line.trim() != "```graphql" {
            continue;
        }
        let document: Vec<&str> = lines
            .by_ref()
            .map(|(_, line)| line)
            .take_while(|line| line.trim() != "```")
            .collect();
        let head = document.first().copied().unwrap_or_default();
        if head.trim() == "# schema" {
            let sdl = document.join("\n");
            if let Err(error) = async_graphql::parser::parse_schema(&sdl) {
                panic!(
                    "README line {}: the schema does not parse: {error}",
                    number + 1
                );
            }
            continue;
        }
        let Some(said) = head.strip_prefix("# as ") else {
            panic!(
                "README line {}: a graphql block starts with `# as PERSONA`, not {head:?}",
                number + 1
            );
        };
        let (persona, refused) = match said.split_once(", refused: ") {
            Some((persona, code)) => (persona, Some(code.trim().to_owned())),
            None => (said, None),
        };
        assert!(
            PERSONAS.contains(&persona.trim()),
            "README line {}: no demo persona {persona:?}",
            number + 1
        );
        found.push(Example {
            line: number + 1,
            persona: persona.trim().to_owned(),
            refused,
            document: document.join("\n"),
        });
    }
    found
}

/// Kills the demo when the test ends, passed or not.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn error_codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_readme_parses_into_examples_for_every_persona() {
    let readme = include_str!("../README.md");
    let examples = examples(readme);
    for persona in PERSONAS {
        assert!(
            examples.iter().any(|e| e.persona == persona),
            "the README shows {persona} a query"
        );
    }
    assert!(examples.iter().any(|e| e.refused.is_some()));
    assert!(examples.iter().any(|e| e.document.contains("mutation")));
}

#[tokio::test]
async fn every_graphql_example_of_the_readme_runs_against_the_demo() {
    let examples = examples(include_str!("../README.md"));
    let dir = std::env::temp_dir().join(format!("tenantgraph-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tokens_file = dir.join("tokens.json");
    let _ = std::fs::remove_file(&tokens_file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantgraph"))
        .args(["demo", "--port", "0", "--tokens-file"])
        .arg(&tokens_file)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let demo = Demo(child);
    let ready = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("Press Ctrl-C to stop"))
    });
    tokio::time::timeout(Duration::from_secs(120), ready)
        .await
        .expect("the demo started within two minutes")
        .unwrap();
    let tokens: Value = serde_json::from_slice(&std::fs::read(&tokens_file).unwrap()).unwrap();
    let graphql = tokens["graphql"].as_str().unwrap().to_owned();
    let client = tenantgraph::http_client().unwrap();
    let started = Instant::now();
    for example in &examples {
        let token = tokens["tokens"][&example.persona].as_str().unwrap();
        let answer: Value = client
            .post(&graphql)
            .bearer_auth(token)
            .json(&json!({"query": example.document}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let codes = error_codes(&answer);
        match &example.refused {
            None => {
                assert!(
                    codes.is_empty(),
                    "README line {} as {}: {answer}",
                    example.line,
                    example.persona
                );
                assert!(answer["data"].is_object(), "line {}", example.line);
            }
            Some(code) => assert_eq!(
                codes,
                std::slice::from_ref(code),
                "README line {} as {}: {answer}",
                example.line,
                example.persona
            ),
        }
    }
    eprintln!(
        "{} README examples answered in {:?}",
        examples.len(),
        started.elapsed()
    );
    drop(demo);
}
