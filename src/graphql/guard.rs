//! Checks on the parsed document that async-graphql does not make itself, run right after
//! parsing, before validation and before any resolver: the number of aliased fields, and no
//! mutation over `GET` (a link or an `<img>` must never change anything).
//!
//! Depth and complexity are async-graphql's own limits (`limit_depth`, `limit_complexity`),
//! also checked before execution. Before any of that, [`nesting_depth`] bounds how deeply a
//! document nests brackets at all: the parser recurses on nested values without a limit of its
//! own, and a few kilobytes of `{a: {a: …` would overflow a worker's stack.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, ServerError, ServerResult, Variables};

use crate::error::ErrorCode;

/// Marks a request that arrived as `GET`.
#[derive(Debug, Clone, Copy)]
pub struct ViaGet;

pub struct DocumentGuard {
    pub max_aliases: usize,
}

impl ExtensionFactory for DocumentGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard {
            max_aliases: self.max_aliases,
        })
    }
}

struct Guard {
    max_aliases: usize,
}

fn refuse(code: ErrorCode, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code.as_str());
    error.extensions = Some(extensions);
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for Guard {
    /// Runs before parsing (and before persisted queries are looked up: a stored query passed
    /// this check when it was first sent).
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let depth = nesting_depth(&request.query);
        if depth > MAX_NESTING {
            return Err(refuse(
                ErrorCode::QueryTooComplex,
                format!(
                    "the document nests {depth} levels deep; at most {MAX_NESTING} are allowed"
                ),
            ));
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let aliases = count_aliases(&document);
        if aliases > self.max_aliases {
            return Err(refuse(
                ErrorCode::QueryTooComplex,
                format!(
                    "the query has {aliases} aliased fields; at most {} are allowed",
                    self.max_aliases
                ),
            ));
        }
        if ctx.data_opt::<ViaGet>().is_some()
            && document
                .operations
                .iter()
                .any(|(_, op)| op.node.ty == OperationType::Mutation)
        {
            return Err(refuse(
                ErrorCode::BadUserInput,
                "mutations must be sent with POST".to_owned(),
            ));
        }
        Ok(document)
    }
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

/// Deepest nesting of brackets a document may have, selections and values together.
pub const MAX_NESTING: usize = 64;

/// How deeply `document` nests `{`, `[` and `(`, outside strings and comments, scanning the
/// bytes once without recursion.
pub fn nesting_depth(document: &str) -> usize {
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
