//! The GraphQL API: the schema of `schema/tenantgraph.graphql` and its resolvers, by domain.
//!
//! - [`query`]: the Query root; [`search`], [`person`], [`stats`]: its larger fields.
//! - [`mutation`]: the Mutation root; [`admin`], [`selfservice`], [`gdpr`]: the writes by
//!   caller; [`inputs`]: their inputs, validated into Auth0 request bodies.
//! - [`types`]: object types (`User` and its nested fields), [`scalars`]: `DateTime`, `Date`.
//! - [`loaders`]: the per-request dataloader over the shared [`crate::store::Store`].
//! - [`context`]: services, the caller and its scope, partial-failure reporting.
//! - [`guard`]: a request's preparation: persisted queries, nesting, parsing (cached),
//!   aliases, no mutation over GET; and which documents passed validation.

pub mod admin;
pub mod context;
pub mod gdpr;
pub mod guard;
pub mod inputs;
pub mod loaders;
pub mod mutation;
pub mod person;
pub mod query;
pub mod scalars;
pub mod scoped_query;
pub mod search;
pub mod selfservice;
pub mod stats;
pub mod types;

use async_graphql::{BatchRequest, BatchResponse, EmptySubscription, Schema, ValidationMode};

pub use context::{RequestContext, Services};

use crate::config::{LimitsConfig, ServerConfig};

type Executable = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The executable schema, built twice over the same services, limits and documents: a document
/// seen for the first time is checked with every validation rule; one that passed them before
/// is checked only with the rules async-graphql calls essential (fragment cycles, depth and
/// complexity limits). Validation is static (a document's validity does not depend on its
/// variables, which are still coerced and checked when the operation runs), and it was the
/// largest cost of serving a cached profile after parsing.
#[derive(Clone)]
pub struct TenantGraphSchema {
    strict: Executable,
    known: Executable,
    documents: guard::Documents,
}

impl TenantGraphSchema {
    /// Runs one operation; `via_get` when it came as `GET` (which may not mutate).
    pub async fn execute(
        &self,
        mut request: async_graphql::Request,
        via_get: bool,
    ) -> async_graphql::Response {
        if let Err(error) = self.documents.prepare(&mut request, via_get).await {
            return refusal(error);
        }
        let schema = if self.documents.is_validated(&request.query) {
            &self.known
        } else {
            &self.strict
        };
        schema.execute(request).await
    }

    /// Runs a single operation or a batch (its operations concurrently, answers in order).
    pub async fn execute_batch(&self, request: BatchRequest, via_get: bool) -> BatchResponse {
        match request {
            BatchRequest::Single(request) => {
                BatchResponse::Single(self.execute(request, via_get).await)
            }
            BatchRequest::Batch(requests) => BatchResponse::Batch(
                futures::future::join_all(requests.into_iter().map(|r| self.execute(r, via_get)))
                    .await,
            ),
        }
    }
}

/// A response refusing the whole operation.
fn refusal(error: crate::error::ClientError) -> async_graphql::Response {
    let mut server_error = async_graphql::ServerError::new(error.message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", error.code.as_str());
    server_error.extensions = Some(extensions);
    async_graphql::Response::from_errors(vec![server_error])
}

/// The executable schema, with the services every resolver shares and the limits every
/// document must keep.
pub fn build_schema(
    services: Services,
    server: &ServerConfig,
    limits: &LimitsConfig,
) -> TenantGraphSchema {
    let documents = guard::Documents::new(limits.aliases, limits.persisted_queries.max(1) as u64);
    let build = |strict: bool| {
        let mut builder = Schema::build(query::Query, mutation::Mutation, EmptySubscription)
            .data(services.clone())
            .validation_mode(if strict {
                ValidationMode::Strict
            } else {
                ValidationMode::Fast
            })
            .limit_depth(limits.depth)
            .limit_complexity(limits.complexity);
        if strict {
            builder = builder.extension(guard::RecordValidated(documents.clone()));
        }
        if !server.introspection {
            builder = builder.disable_introspection();
        }
        builder.finish()
    };
    TenantGraphSchema {
        strict: build(true),
        known: build(false),
        documents,
    }
}

/// The schema in SDL, as served (and committed to `schema/tenantgraph.graphql`).
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .finish()
        .sdl()
}
