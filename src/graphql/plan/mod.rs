//! Compiled plans: a document that reads users by key and selects only their leaf fields
//! (`user(tenant:, id:)` or `users(refs:)`, what a profile or a list page asks) is compiled once,
//! when it is first parsed, into a plan that answers it without async-graphql's per-field
//! resolution, writing the JSON answer straight from the cached profile (`run`).
//!
//! A plan decides nothing. Reach comes from the scope calls the resolvers make (`Scope::user`,
//! `Scope::users`); every field is read through the same `UserView` accessors, so through the one
//! visibility table (`scope::fields`); errors are made by the same conversions and reported
//! through the same per-request record. A plan holds the document's shape only, never an answer,
//! so nothing one caller was answered can reach another through it. It runs only for a document
//! that passed every validation rule before, and it answers only what it can answer exactly as
//! async-graphql would: a variable of another shape, an operation name that does not match, or a
//! field the caller may not see leaves the operation to async-graphql, before the scope is asked
//! anything.

mod run;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Pos, Positioned};
use async_graphql_value::Value;

use crate::scope::UserField;

pub(crate) use run::Planned;

/// How a document that reads users by key is answered.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The operation's name (a document of one named operation), to match the request's.
    operation: Option<Name>,
    root: Root,
    /// The root field's response key (its alias, or its name) and where it is in the document.
    key: String,
    pos: Pos,
    /// The leaves selected on each user, in the document's order.
    leaves: Vec<Leaf>,
}

/// The root field and where its arguments come from.
#[derive(Debug)]
enum Root {
    User { tenant: Arg, id: Arg },
    Users { refs: Name },
}

impl Root {
    /// The field's name, as errors are recorded under it.
    fn field(&self) -> &'static str {
        match self {
            Self::User { .. } => "user",
            Self::Users { .. } => "users",
        }
    }
}

/// An `ID!` argument: written in the document, or a variable.
#[derive(Debug)]
enum Arg {
    Text(String),
    Variable(Name),
}

/// A selected field of `User`, under its response key.
#[derive(Debug)]
struct Leaf {
    key: String,
    kind: LeafKind,
}

#[derive(Debug)]
enum LeafKind {
    Typename,
    /// A field of the profile, read through the view.
    Field(UserField),
    /// `tenant { … }`.
    Tenant(Vec<(String, TenantLeaf)>),
}

#[derive(Debug, Clone, Copy)]
enum TenantLeaf {
    Typename,
    Id,
    Name,
    Domain,
    CustomDomain,
}

/// The fields of `User` a plan reads: scalars of the profile, no arguments, no upstream call.
fn profile_leaf(name: &str) -> Option<UserField> {
    let field = UserField::from_graphql_name(name)?;
    matches!(
        field,
        UserField::Id
            | UserField::Email
            | UserField::EmailVerified
            | UserField::Username
            | UserField::PhoneNumber
            | UserField::Name
            | UserField::Nickname
            | UserField::GivenName
            | UserField::FamilyName
            | UserField::Picture
            | UserField::CreatedAt
            | UserField::UpdatedAt
            | UserField::LastLogin
            | UserField::LastIp
            | UserField::LoginsCount
            | UserField::Blocked
            | UserField::UserMetadata
            | UserField::AppMetadata
    )
    .then_some(field)
}

impl Plan {
    /// The plan of `document`, when it has the shape a plan answers: one query operation
    /// without directives or variable defaults, one root field (`user` or `users`) whose
    /// arguments are variables (or, for `user`, strings), and under it leaf fields of `User` and
    /// `tenant { … }`, without fragments, directives, arguments or repeated response keys.
    pub(crate) fn compile(document: &ExecutableDocument) -> Option<Self> {
        let (operation, definition) = match &document.operations {
            DocumentOperations::Single(definition) => (None, definition),
            DocumentOperations::Multiple(operations) if operations.len() == 1 => {
                let (name, definition) = operations.iter().next()?;
                (Some(name.clone()), definition)
            }
            DocumentOperations::Multiple(_) => return None,
        };
        let definition = &definition.node;
        let plain_variables = definition
            .variable_definitions
            .iter()
            .all(|v| v.node.default_value.is_none() && v.node.directives.is_empty());
        if definition.ty != OperationType::Query
            || !definition.directives.is_empty()
            || !plain_variables
        {
            return None;
        }
        let [
            Positioned {
                node: Selection::Field(field),
                ..
            },
        ] = definition.selection_set.node.items.as_slice()
        else {
            return None;
        };
        let node = &field.node;
        if !node.directives.is_empty() {
            return None;
        }
        let root = match node.name.node.as_str() {
            "user" => Root::User {
                tenant: argument(node, "tenant")?,
                id: argument(node, "id")?,
            },
            "users" => match node.arguments.as_slice() {
                [(name, value)] if name.node == "refs" => match &value.node {
                    Value::Variable(variable) => Root::Users {
                        refs: variable.clone(),
                    },
                    _ => return None,
                },
                _ => return None,
            },
            _ => return None,
        };
        if let Root::User { .. } = root
            && node.arguments.len() != 2
        {
            return None;
        }
        Some(Self {
            operation,
            root,
            key: node.response_key().node.to_string(),
            pos: field.pos,
            leaves: user_leaves(&node.selection_set.node)?,
        })
    }
}

/// An `ID!` argument of `user`, a string or a variable.
fn argument(field: &Field, name: &str) -> Option<Arg> {
    let (_, value) = field.arguments.iter().find(|(n, _)| n.node == name)?;
    match &value.node {
        Value::String(text) => Some(Arg::Text(text.clone())),
        Value::Variable(variable) => Some(Arg::Variable(variable.clone())),
        _ => None,
    }
}

/// The plain fields of a selection set: each with its response key, none repeated.
fn plain_fields(set: &SelectionSet) -> Option<Vec<(&Field, String)>> {
    let mut fields: Vec<(&Field, String)> = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(field) = &item.node else {
            return None;
        };
        let node = &field.node;
        let key = node.response_key().node.to_string();
        if !node.directives.is_empty()
            || !node.arguments.is_empty()
            || fields.iter().any(|(_, k)| *k == key)
        {
            return None;
        }
        fields.push((node, key));
    }
    Some(fields)
}

fn user_leaves(set: &SelectionSet) -> Option<Vec<Leaf>> {
    let mut leaves = Vec::new();
    for (field, key) in plain_fields(set)? {
        let name = field.name.node.as_str();
        let nested = &field.selection_set.node;
        let kind = match name {
            "__typename" if nested.items.is_empty() => LeafKind::Typename,
            "tenant" => LeafKind::Tenant(tenant_leaves(nested)?),
            _ if nested.items.is_empty() => LeafKind::Field(profile_leaf(name)?),
            _ => return None,
        };
        leaves.push(Leaf { key, kind });
    }
    (!leaves.is_empty()).then_some(leaves)
}

fn tenant_leaves(set: &SelectionSet) -> Option<Vec<(String, TenantLeaf)>> {
    let mut leaves = Vec::new();
    for (field, key) in plain_fields(set)? {
        if !field.selection_set.node.items.is_empty() {
            return None;
        }
        let leaf = match field.name.node.as_str() {
            "__typename" => TenantLeaf::Typename,
            "id" => TenantLeaf::Id,
            "name" => TenantLeaf::Name,
            "domain" => TenantLeaf::Domain,
            "customDomain" => TenantLeaf::CustomDomain,
            _ => return None,
        };
        leaves.push((key, leaf));
    }
    (!leaves.is_empty()).then_some(leaves)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(document: &str) -> Option<Plan> {
        Plan::compile(&async_graphql::parser::parse_query(document).unwrap())
    }

    #[test]
    fn profile_and_list_pages_compile() {
        let profile = plan(
            "query Profile($tenant: ID!, $id: ID!) { user(tenant: $tenant, id: $id) { id email userMetadata tenant { id } } }",
        )
        .unwrap();
        assert_eq!(profile.operation.as_deref(), Some("Profile"));
        assert_eq!(profile.leaves.len(), 4);
        let list =
            plan("query($r: [UserRef!]!) { page: users(refs: $r) { id n: name __typename } }")
                .unwrap();
        assert_eq!(list.key, "page");
        assert!(plan(r#"{ user(tenant: "acme-eu", id: "auth0|1") { id } }"#).is_some());
    }

    #[test]
    fn anything_else_is_left_to_async_graphql() {
        for document in [
            "mutation($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { id } }",
            "query($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { id organizations { id } } }",
            "query($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { id email @skip(if: true) } }",
            "query($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { ...F } } fragment F on User { id }",
            "query($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { id id } }",
            "query($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { id tenant { status } } }",
            "query($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { id logs { id } } }",
            "query($t: ID! = \"acme-eu\", $i: ID!) { user(tenant: $t, id: $i) { id } }",
            "query($t: ID!, $i: ID!) { a: user(tenant: $t, id: $i) { id } b: user(tenant: $t, id: $i) { id } }",
            "query A($t: ID!, $i: ID!) { user(tenant: $t, id: $i) { id } } query B { tenants { id } }",
            "{ users(refs: [{tenant: \"acme-eu\", id: \"x\"}]) { id } }",
            "{ tenants { id } }",
        ] {
            assert!(plan(document).is_none(), "{document}");
        }
    }
}
