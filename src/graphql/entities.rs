//! Apollo Federation 2: the entities a router resolves through `Query._entities`.
//!
//! - `User @key(fields: "tenant { id } id")`: an Auth0 user id is unique only within its tenant
//!   (a social or imported account can carry the same id in two tenants), so the key is the
//!   pair, shaped as the schema already shows it (`User.tenant.id`, `User.id`), rather than a
//!   flat field added only for federation. Another subgraph declares `type Tenant { id: ID!
//!   @shareable }` beside its `User` stub; `Tenant.id` is shareable here for that reason.
//! - `Person @key(fields: "email")`: the person behind a verified email, as `person(email:)`.
//!
//! Each representation is resolved as the field it stands for, through the caller's scope (the
//! router forwards the caller's `Authorization`): a user out of reach is null exactly as with
//! `user(tenant, id)`. Representations of one `_entities` are resolved concurrently, so their
//! profile loads meet in the request's dataloader and cost one batch per tenant.
//!
//! One representation never fails the others: where `user(tenant, id)` would answer an error
//! (a tenant out of reach or unknown, BAD_USER_INPUT before any upstream call; a tenant down; a
//! missing permission), its entity is null and the error is added once per tenant and code. The
//! router, not the caller, wrote the list, from another subgraph's data: one owner in a tenant
//! the caller cannot see must not hide the rest. `users(refs:)`, whose refs the caller wrote,
//! refuses the whole list instead. (A representation that is no `User` or `Person` key at all,
//! say without `tenant`, is a broken router: async-graphql fails the whole `_entities`.)
//!
//! The document's cost (`super::cost`) counts every representation as the user (or person) it
//! stands for, so a router cannot be used to pass the limits.

use async_graphql::{Context, ID, InputObject};

use super::context::{report, scope};
use super::person::Person;
use super::types::User;
use crate::error::ClientResult;

/// The tenant part of a `User` key: `tenant { id }`.
#[derive(InputObject)]
pub(crate) struct TenantKey {
    pub(crate) id: ID,
}

/// A `User` representation, resolved as `user(tenant, id)`.
pub(crate) async fn user(ctx: &Context<'_>, tenant: &TenantKey, id: &ID) -> Option<User> {
    or_null(ctx, scope(ctx).user(&tenant.id, id).await).map(User)
}

/// A `Person` representation, resolved as `person(email:)`.
pub(crate) async fn person(ctx: &Context<'_>, email: &str) -> Option<Person> {
    let found = scope(ctx).person(email).await.map(|found| {
        report(ctx, found.failures);
        found.value
    });
    or_null(ctx, found).map(Person)
}

/// The entity, or null with its error reported (once per tenant and code).
fn or_null<T>(ctx: &Context<'_>, result: ClientResult<Option<T>>) -> Option<T> {
    result.unwrap_or_else(|error| {
        report(ctx, vec![error]);
        None
    })
}
