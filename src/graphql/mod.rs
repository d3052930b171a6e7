//! The GraphQL API: the schema of `schema/tenantgraph.graphql` and its resolvers, by domain.
//!
//! - [`query`]: the Query root; [`search`], [`person`], [`stats`]: its larger fields.
//! - [`mutation`]: the Mutation root; [`admin`], [`selfservice`], [`gdpr`]: the writes by
//!   caller; [`inputs`]: their inputs, validated into Auth0 request bodies.
//! - [`types`]: object types (`User` and its nested fields), [`scalars`]: `DateTime`, `Date`.
//! - [`loaders`]: the per-request dataloader over the shared [`crate::store::Store`].
//! - [`context`]: services, the caller and its scope, partial-failure reporting.

pub mod admin;
pub mod context;
pub mod gdpr;
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

use async_graphql::{EmptySubscription, Schema};

pub use context::{RequestContext, Services};

use crate::config::ServerConfig;

pub type TenantGraphSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The executable schema, with the services every resolver shares.
pub fn build_schema(services: Services, server: &ServerConfig) -> TenantGraphSchema {
    let mut builder =
        Schema::build(query::Query, mutation::Mutation, EmptySubscription).data(services);
    if !server.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema in SDL, as served (and committed to `schema/tenantgraph.graphql`).
pub fn sdl() -> String {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .finish()
        .sdl()
}
