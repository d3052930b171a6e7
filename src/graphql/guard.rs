//! Checks on the parsed document that async-graphql does not make itself, run right after
//! parsing, before validation and before any resolver: the number of aliased fields, and no
//! mutation over `GET` (a link or an `<img>` must never change anything).
//!
//! Depth and complexity are async-graphql's own limits (`limit_depth`, `limit_complexity`),
//! also checked before execution.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

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
