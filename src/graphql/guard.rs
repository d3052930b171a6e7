//! Everything done to a request before async-graphql executes it: Apollo's automatic persisted
//! queries (kept per caller, so that no caller learns what documents another sent), a bound on
//! bracket nesting (checked before parsing: the parser recurses on nested values without a
//! limit of its own), parsing through a cache of parsed documents, a bound on aliased fields,
//! the document's depth, complexity and upstream fan-out (`super::cost`), no mutation over
//! `GET` (a link or an `<img>` must never change anything), and no `_service` (federation's
//! copy of the schema) when introspection is off.
//!
//! This is done here rather than in async-graphql extensions because any extension makes
//! async-graphql run every field through the extension chain, which costs more than the work.
//! The only extension, [`RecordValidated`], is installed on the strictly validating schema and
//! remembers the documents that passed, so they can be served by the one that is not.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, ServerError, ServerResult, ValidationResult, Variables};
use moka::future::Cache;
use sha2::{Digest, Sha256};

use super::cost::{self, Bounds};
use super::plan::Plan;
use crate::config::LimitsConfig;
use crate::error::{ClientError, ErrorCode};

/// Deepest nesting of brackets a document may have, selections and values together.
pub(crate) const MAX_NESTING: usize = 64;

/// Longest document kept parsed (and persisted).
const MAX_KEPT_DOCUMENT: usize = 16 * 1024;

/// A document as parsed, and its plan when it has the shape of one (`super::plan`).
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) document: ExecutableDocument,
    pub(crate) plan: Option<Plan>,
}

/// The documents a gateway has seen: parsed, validated, persisted by hash. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Documents {
    max_aliases: usize,
    /// `server.introspection`: `_service { sdl }` discloses the schema as introspection does.
    introspection: bool,
    bounds: Bounds,
    parsed: Cache<Arc<str>, Arc<Parsed>>,
    validated: Cache<Arc<str>, ()>,
    /// Apollo's automatic persisted queries: (caller, SHA-256 hex) → document text.
    persisted: Cache<(u64, String), Arc<str>>,
}

impl Documents {
    /// Keeps up to `limits.persisted_queries` documents of each kind (persisted ones per
    /// caller, up to ten times that in all); answers `_service` only with `introspection`.
    pub(crate) fn new(limits: &LimitsConfig, introspection: bool) -> Self {
        let capacity = limits.persisted_queries.max(1) as u64;
        Self {
            max_aliases: limits.aliases,
            introspection,
            bounds: Bounds {
                depth: limits.depth,
                complexity: limits.complexity,
                upstream_per_tenant: limits.upstream_per_tenant,
            },
            parsed: Cache::new(capacity),
            validated: Cache::new(capacity),
            persisted: Cache::new(capacity.saturating_mul(10)),
        }
    }

    /// Whether `document` passed every validation rule before.
    pub(crate) fn is_validated(&self, document: &str) -> bool {
        self.validated.contains_key(document)
    }

    /// Makes `request` of `caller` (the key of its budgets) ready to execute and answers its
    /// parsed document (not yet set on the request), or says why it cannot run.
    pub(crate) async fn prepare(
        &self,
        request: &mut Request,
        via_get: bool,
        caller: u64,
    ) -> Result<Arc<Parsed>, ClientError> {
        self.resolve_persisted(request, caller).await?;
        let depth = nesting_depth(&request.query);
        if depth > MAX_NESTING {
            return Err(ClientError::new(
                ErrorCode::QueryTooComplex,
                format!(
                    "the document nests {depth} levels deep; at most {MAX_NESTING} are allowed"
                ),
            ));
        }
        let parsed = match self.parsed.get(request.query.as_str()).await {
            Some(parsed) => parsed,
            None => {
                let document = async_graphql::parser::parse_query(&request.query)
                    .map_err(|e| ClientError::bad_input(e.to_string()))?;
                let aliases = count_aliases(&document);
                if aliases > self.max_aliases {
                    return Err(ClientError::new(
                        ErrorCode::QueryTooComplex,
                        format!(
                            "the query has {aliases} aliased fields; at most {} are allowed",
                            self.max_aliases
                        ),
                    ));
                }
                let parsed = Arc::new(Parsed {
                    plan: Plan::compile(&document),
                    document,
                });
                if request.query.len() <= MAX_KEPT_DOCUMENT {
                    self.parsed
                        .insert(Arc::from(request.query.as_str()), parsed.clone())
                        .await;
                }
                parsed
            }
        };
        let document = &parsed.document;
        if via_get
            && document
                .operations
                .iter()
                .any(|(_, op)| op.node.ty == OperationType::Mutation)
        {
            return Err(ClientError::bad_input("mutations must be sent with POST"));
        }
        if !self.introspection && selects_root_field(document, "_service") {
            return Err(ClientError::bad_input(
                "introspection is disabled, and with it `_service`: compose the supergraph from `tenantgraph schema --federation`",
            ));
        }
        cost::check(
            document,
            request.operation_name.as_deref(),
            &request.variables,
            self.bounds,
        )?;
        Ok(parsed)
    }

    /// Apollo's protocol: a known hash alone stands for its document; a document sent with its
    /// hash is kept for next time; an unknown hash alone answers `PersistedQueryNotFound`.
    async fn resolve_persisted(
        &self,
        request: &mut Request,
        caller: u64,
    ) -> Result<(), ClientError> {
        let Some(persisted) = request.extensions.get("persistedQuery") else {
            return Ok(());
        };
        let hash = match persisted {
            async_graphql::Value::Object(fields) => match fields.get("sha256Hash") {
                Some(async_graphql::Value::String(hash)) => hash.to_ascii_lowercase(),
                _ => return Err(ClientError::bad_input("persistedQuery needs a sha256Hash")),
            },
            _ => return Err(ClientError::bad_input("persistedQuery must be an object")),
        };
        if request.query.is_empty() {
            return match self.persisted.get(&(caller, hash)).await {
                Some(query) => {
                    request.query = query.to_string();
                    Ok(())
                }
                None => Err(ClientError::bad_input("PersistedQueryNotFound")),
            };
        }
        if format!("{:x}", Sha256::digest(request.query.as_bytes())) != hash {
            return Err(ClientError::bad_input("provided sha does not match query"));
        }
        if request.query.len() <= MAX_KEPT_DOCUMENT {
            self.persisted
                .insert((caller, hash), Arc::from(request.query.as_str()))
                .await;
        }
        Ok(())
    }
}

/// Installed on the strictly validating schema: remembers every document that passed.
pub(crate) struct RecordValidated(pub(crate) Documents);

impl ExtensionFactory for RecordValidated {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Recorder {
            documents: self.0.clone(),
            query: Mutex::new(None),
        })
    }
}

struct Recorder {
    documents: Documents,
    /// This request's document text, recorded once validation passes.
    query: Mutex<Option<Arc<str>>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Recorder {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() <= MAX_KEPT_DOCUMENT
            && let Ok(mut current) = self.query.lock()
        {
            *current = Some(Arc::from(query));
        }
        next.run(ctx, query, variables).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await;
        let query = self.query.lock().ok().and_then(|mut q| q.take());
        if let (Ok(_), Some(query)) = (&result, query) {
            self.documents.validated.insert(query, ()).await;
        }
        result
    }
}

/// Whether any operation of `document` selects the root field `name`, through fragments too.
fn selects_root_field(document: &ExecutableDocument, name: &str) -> bool {
    let mut pending: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .collect();
    let mut spread = Vec::new();
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) if field.node.name.node == name => return true,
                Selection::Field(_) => {}
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(fragment) => {
                    let fragment_name = &fragment.node.fragment_name.node;
                    if spread.contains(&fragment_name) {
                        continue;
                    }
                    spread.push(fragment_name);
                    if let Some(definition) = document.fragments.get(fragment_name) {
                        pending.push(&definition.node.selection_set.node);
                    }
                }
            }
        }
    }
    false
}

/// Aliased fields in every operation and fragment, counted without recursion (the document is
/// not validated yet, so its depth is still unbounded).
fn count_aliases(document: &ExecutableDocument) -> usize {
    let mut pending: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .collect();
    pending.extend(
        document
            .fragments
            .values()
            .map(|f| &f.node.selection_set.node),
    );
    let mut aliases = 0;
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    aliases += usize::from(field.node.alias.is_some());
                    pending.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    aliases
}

/// How deeply `document` nests `{`, `[` and `(`, outside strings and comments, scanning the
/// bytes once without recursion.
pub(crate) fn nesting_depth(document: &str) -> usize {
    let bytes = document.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // In a block string only `\"""` escapes.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_field_is_found_through_fragments_and_only_at_the_root() {
        let selects = |document: &str| {
            let document = async_graphql::parser::parse_query(document).unwrap();
            selects_root_field(&document, "_service")
        };
        assert!(selects("{ _service { sdl } }"));
        assert!(selects(
            "query A { me { id } } query B { ... on Query { _service { sdl } } }"
        ));
        assert!(selects(
            "{ ...F } fragment F on Query { ...G } fragment G on Query { _service { sdl } }"
        ));
        assert!(selects(
            "{ ...F } fragment F on Query { ...F _service { sdl } }"
        ));
        assert!(!selects("{ me { _service: id } }"));
        assert!(!selects("{ ...F } fragment F on Query { ...F }"));
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        assert_eq!(nesting_depth("{ a }"), 1);
        assert_eq!(
            nesting_depth("query($x: [ID!]) { a(x: {b: [1]}) { c } }"),
            4
        );
        assert_eq!(nesting_depth("{ a(s: \"{{{[[[\\\"(((\") }"), 2);
        assert_eq!(nesting_depth("{ a(s: \"\"\"{{{ \\\"\"\" [[[ \"\"\") }"), 2);
        assert_eq!(nesting_depth("# {{{{\n{ a }"), 1);
        let deep = format!("{{ a(x: {}1{}) }}", "{a: ".repeat(5000), "}".repeat(5000));
        assert_eq!(nesting_depth(&deep), 5002);
        assert_eq!(nesting_depth("\"unterminated {{{"), 0);
    }
}
