//! The GraphQL API: the schema of `schema/tenantgraph.graphql` and its resolvers, by domain.
//!
//! - [`query`]: the Query root; [`search`], [`person`], [`stats`]: its larger fields.
//! - [`mutation`]: the Mutation root; [`admin`], [`selfservice`], [`gdpr`]: the writes by
//!   caller; [`inputs`]: their inputs, validated into Auth0 request bodies.
//! - [`types`]: object types (`User` and its nested fields), [`scalars`]: `DateTime`, `Date`.
//! - [`loaders`]: the per-request dataloader over the shared [`crate::store::Store`].
//! - [`context`]: services, the caller and its scope, partial-failure reporting.
//! - [`guard`]: document checks before execution (aliases, no mutation over GET).

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

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};
use async_graphql::{EmptySubscription, Schema};

pub use context::{RequestContext, Services};

use crate::config::{LimitsConfig, ServerConfig};

pub type TenantGraphSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The executable schema, with the services every resolver shares and the limits every
/// document must keep.
pub fn build_schema(
    services: Services,
    server: &ServerConfig,
    limits: &LimitsConfig,
) -> TenantGraphSchema {
    let mut builder = Schema::build(query::Query, mutation::Mutation, EmptySubscription)
        .data(services)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .extension(guard::DocumentGuard {
            max_aliases: limits.aliases,
        })
        .extension(ApolloPersistedQueries::new(LruCacheStorage::new(
            limits.persisted_queries.max(1),
        )));
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
