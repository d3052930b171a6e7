//! The GraphQL API: the schema of `schema/tenantgraph.graphql` and its resolvers, which reach
//! data only through the caller's scope (`crate::scope`).
//!
//! - `query`: the Query root; `search`, `person`, `stats`, `audit`: the types of its larger
//!   fields.
//! - `entities`: Apollo Federation 2, the `User` and `Person` entities a router resolves.
//! - `mutation`: the Mutation root; `inputs`: its inputs, validated into Auth0 request bodies.
//! - `types`: object types (`User` and its nested fields); `scalars`: `DateTime`, `Date`,
//!   `JSON`; `log_types`: log event codes in words.
//! - `context`: the request's scope, partial-failure reporting.
//! - `guard`: a request's preparation: persisted queries, nesting, parsing (cached), aliases,
//!   cost (`cost`), no mutation over GET; and which documents passed validation.
//! - `plan`: documents that read users by key, answered without per-field resolution;
//!   `answer`: what an operation answers, either way.

mod answer;
mod audit;
mod context;
mod cost;
mod entities;
mod guard;
mod inputs;
mod log_types;
mod mutation;
mod person;
mod plan;
mod query;
mod scalars;
mod search;
mod stats;
mod types;

use std::sync::Arc;

use async_graphql::{BatchRequest, EmptySubscription, SDLExportOptions, Schema, ValidationMode};
use tracing::Instrument;

pub(crate) use answer::{Answer, Answers};
pub(crate) use context::RequestContext;

use crate::config::{LimitsConfig, ServerConfig};
use crate::telemetry::operation;

type Executable = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The executable schema, built twice over the same documents: a document seen for the first
/// time is checked with every validation rule; one that passed them before is checked only with
/// the rules async-graphql calls essential. Validation is static (a document's validity does not
/// depend on its variables, which are still coerced and checked when the operation runs), and it
/// was the largest cost of serving a cached profile after parsing. Depth and complexity are
/// measured by `cost`, with the variables, before either runs.
#[derive(Clone)]
pub struct TenantGraphSchema {
    strict: Executable,
    known: Executable,
    documents: guard::Documents,
}

impl TenantGraphSchema {
    /// Runs one operation of the request whose context is `context`; `via_get` when it came as
    /// `GET` (which may not mutate). A document with a plan that passed every validation rule
    /// before is answered by its plan when the plan can (`plan`). The operation has a span of
    /// its own when spans are exported (`crate::telemetry::operation`); otherwise that span is
    /// `Span::none()`.
    pub(crate) async fn answer(
        &self,
        mut request: async_graphql::Request,
        via_get: bool,
        context: &Arc<RequestContext>,
    ) -> Answer {
        let span = operation::start(&context.client_trace);
        let caller = context.scope.budget_key();
        let answer = match self.documents.prepare(&mut request, via_get, caller).await {
            // Named before it is first entered: a span's name is fixed when it starts.
            Ok(parsed) => {
                operation::describe(&span, &parsed.document, request.operation_name.as_deref());
                self.run(&parsed, request, context)
                    .instrument(span.clone())
                    .await
            }
            Err(error) => Answer::Executed(refusal(error)),
        };
        operation::finish(&span, answer.outcome(), answer.errors());
        answer
    }

    /// Runs a prepared operation: by its plan when it has one that can answer, else by
    /// async-graphql.
    async fn run(
        &self,
        parsed: &guard::Parsed,
        mut request: async_graphql::Request,
        context: &Arc<RequestContext>,
    ) -> Answer {
        let validated = self.documents.is_validated(&request.query);
        if validated
            && let Some(plan) = &parsed.plan
            && let Some(planned) = plan.run(&request, context).await
        {
            return planned.into();
        }
        request.set_parsed_query(parsed.document.clone());
        let request = request.data(context.clone());
        let schema = if validated { &self.known } else { &self.strict };
        Answer::Executed(schema.execute(request).await)
    }

    /// Runs a single operation or a batch (its operations concurrently, answers in order).
    pub(crate) async fn answer_batch(
        &self,
        request: BatchRequest,
        via_get: bool,
        context: &Arc<RequestContext>,
    ) -> Answers {
        match request {
            BatchRequest::Single(request) => {
                Answers::Single(self.answer(request, via_get, context).await)
            }
            BatchRequest::Batch(requests) => Answers::Batch(
                futures::future::join_all(
                    requests
                        .into_iter()
                        .map(|r| self.answer(r, via_get, context)),
                )
                .await,
            ),
        }
    }
}

/// A response refusing the whole operation.
pub(crate) fn refusal(error: crate::error::ClientError) -> async_graphql::Response {
    let mut server_error = async_graphql::ServerError::new(error.message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", error.code.as_str());
    server_error.extensions = Some(extensions);
    async_graphql::Response::from_errors(vec![server_error])
}

/// The executable schema and the limits every document must keep.
pub(crate) fn build_schema(server: &ServerConfig, limits: &LimitsConfig) -> TenantGraphSchema {
    let documents = guard::Documents::new(limits, server.introspection);
    let build = |strict: bool| {
        let mut builder = Schema::build(query::Query, mutation::Mutation, EmptySubscription)
            .enable_federation()
            .validation_mode(if strict {
                ValidationMode::Strict
            } else {
                ValidationMode::Fast
            });
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

/// The schema in SDL, as served (and committed to `schema/tenantgraph.graphql`), federation's
/// `_service` and `_entities` included: a router reaches them on the same endpoint.
pub fn sdl() -> String {
    unconfigured().sdl()
}

/// The subgraph schema for a federation supergraph, exactly what `_service { sdl }` answers:
/// the schema with `@link` to Federation 2 and its `@key` and `@shareable` directives (committed
/// to `schema/tenantgraph.subgraph.graphql`, for composing without asking the server).
pub fn subgraph_sdl() -> String {
    unconfigured().sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

/// The schema as every configuration builds it, to print: configuration changes only what a
/// request may do (introspection, limits), never the types.
fn unconfigured() -> Executable {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .enable_federation()
        .finish()
}
