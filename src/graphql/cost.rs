//! What a document would cost, worked out from its text and variables before anything runs:
//! how deep its selections nest, its complexity, and how many upstream calls its per-user
//! fields would make in one tenant. Each is bounded by `[limits]`, and a document over a bound
//! is refused as QUERY_TOO_COMPLEX, saying what it costs and what the limit is, before any
//! upstream call.
//!
//! - **Depth**: nested field levels (`{ user { email } }` is 2). Measured first, and walked
//!   with an explicit bound, so a deep document is refused before its cost is computed.
//!   Introspection (`__schema`, `__type`) is left out: its shape is the schema's.
//! - **Complexity**: a field costs 1 plus its children; a list of users costs its length (the
//!   number of refs, `first`, or 5 accounts per email) times its selection, `logs(first:)`
//!   `first` times its selection, and a search 10 more. All in saturating arithmetic.
//! - **Upstream fan-out**: `logs` and `bruteForceBlocks` cost one call per user (Auth0 has no
//!   batch endpoint for them). For every place users appear, the document says how many there
//!   can be in each tenant (`users(refs:)` names them; a search of `first` users may find them
//!   all in one tenant; an email may have 5 accounts in each), so the calls one tenant could
//!   receive are bounded before any is made.
//! - **Federation**: `_entities(representations:)` is counted as what each representation
//!   stands for: a `User` as a ref of `users(refs:)` (in the tenant its key names), a `Person`
//!   as `person(email:)`, each under the selection of its type's fragment; and it takes at most
//!   [`MAX_REPRESENTATIONS`]. A router's requests keep the limits of everyone else's.

use std::collections::HashMap;

use async_graphql::parser::types::{
    ExecutableDocument, Field, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value as ConstValue, Variables};

use crate::error::{ClientError, ErrorCode};

/// Accounts one email is assumed to have in a tenant.
const ACCOUNTS_PER_EMAIL: u64 = 5;

/// Most representations one `_entities` may resolve: as many as `users(refs:)` takes refs.
const MAX_REPRESENTATIONS: u64 = crate::scope::MAX_REFS as u64;

/// The bounds a document must keep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) depth: usize,
    pub(crate) complexity: usize,
    pub(crate) upstream_per_tenant: usize,
}

/// How many users a selection is about, per tenant where the document says, and in any tenant.
#[derive(Debug, Clone, Default)]
struct Fan {
    named: HashMap<String, u64>,
    anywhere: u64,
}

impl Fan {
    fn anywhere(count: u64) -> Self {
        Self {
            named: HashMap::new(),
            anywhere: count,
        }
    }

    /// Users of one tenant at most.
    fn most_in_one_tenant(&self) -> u64 {
        self.named
            .values()
            .max()
            .copied()
            .unwrap_or(0)
            .saturating_add(self.anywhere)
    }
}

/// What kind of object a selection set is on.
#[derive(Debug, Clone)]
enum On {
    Query,
    Mutation,
    /// Users, `Fan` of them.
    User(Fan),
    /// `searchUsers`' connection, its edges: users at `node`.
    Connection(Fan),
    Edge(Fan),
    /// `person`: users at `accounts`.
    Person(Fan),
    Other,
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
    bounds: Bounds,
    /// Upstream calls per tenant, named and anywhere.
    calls: Fan,
    /// Fragments being expanded, to stop at a cycle (validation refuses it later).
    expanding: Vec<&'a Name>,
    /// The longest list of `_entities` representations.
    representations: u64,
}

/// Checks `document` against `bounds`; the error says what it costs.
pub(crate) fn check(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    bounds: Bounds,
) -> Result<(), ClientError> {
    // The operation that will run; every one when none is named (only one may then exist).
    let operations = document
        .operations
        .iter()
        .filter(|(name, _)| operation_name.is_none() || name.map(Name::as_str) == operation_name);
    for (_, operation) in operations {
        let mut walk = Walk {
            document,
            operation: &operation.node,
            variables,
            bounds,
            calls: Fan::default(),
            expanding: Vec::new(),
            representations: 0,
        };
        let root = match operation.node.ty {
            async_graphql::parser::types::OperationType::Mutation => On::Mutation,
            _ => On::Query,
        };
        if walk.depth(&operation.node.selection_set.node, 0) > bounds.depth {
            // The walk stops one level past the bound (a hostile document may nest
            // thousands deep), so the message says "more than", not the full depth.
            return Err(too_complex(format!(
                "the document nests more than {0} levels deep; at most {0} are allowed",
                bounds.depth
            )));
        }
        let complexity = walk.cost(&operation.node.selection_set.node, &root);
        if complexity > bounds.complexity as u64 {
            return Err(too_complex(format!(
                "the document costs {complexity}; at most {} is allowed (a field costs 1 plus its children, a list of users its length times its selection)",
                bounds.complexity
            )));
        }
        if walk.representations > MAX_REPRESENTATIONS {
            return Err(too_complex(format!(
                "_entities is asked for {} representations; at most {MAX_REPRESENTATIONS} are allowed",
                walk.representations
            )));
        }
        let calls = walk.calls.most_in_one_tenant();
        if calls > bounds.upstream_per_tenant as u64 {
            return Err(too_complex(format!(
                "the document could make {calls} calls to one tenant through per-user fields (logs, bruteForceBlocks); at most {} are allowed: ask for fewer users or fewer such fields",
                bounds.upstream_per_tenant
            )));
        }
    }
    Ok(())
}

fn too_complex(message: String) -> ClientError {
    ClientError::new(ErrorCode::QueryTooComplex, message)
}

impl<'a> Walk<'a> {
    /// The fields of a selection set, fragments expanded.
    fn fields(&mut self, set: &'a SelectionSet, out: &mut Vec<&'a Field>) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => out.push(&field.node),
                Selection::InlineFragment(fragment) => {
                    self.fields(&fragment.node.selection_set.node, out);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if self.expanding.contains(&name) {
                        continue;
                    }
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    let fragment: &'a Positioned<FragmentDefinition> = fragment;
                    self.expanding.push(name);
                    self.fields(&fragment.node.selection_set.node, out);
                    self.expanding.pop();
                }
            }
        }
    }

    /// Nesting below `set`, giving up once past the bound (so a deep document costs little).
    fn depth(&mut self, set: &'a SelectionSet, above: usize) -> usize {
        if above > self.bounds.depth {
            return above;
        }
        let mut fields = Vec::new();
        self.fields(set, &mut fields);
        let mut deepest = above;
        for field in fields {
            if field.name.node.starts_with("__") {
                continue;
            }
            deepest = deepest.max(self.depth(&field.selection_set.node, above + 1));
            if deepest > self.bounds.depth {
                break;
            }
        }
        deepest
    }

    fn cost(&mut self, set: &'a SelectionSet, on: &On) -> u64 {
        let mut fields = Vec::new();
        self.fields(set, &mut fields);
        let mut total: u64 = 0;
        for field in fields {
            total = total.saturating_add(self.field_cost(field, on));
        }
        total
    }

    fn field_cost(&mut self, field: &'a Field, on: &On) -> u64 {
        let name = field.name.node.as_str();
        if name.starts_with("__") {
            return 1;
        }
        if matches!(on, On::Query) && name == "_entities" {
            return self.entities_cost(field);
        }
        let children = &field.selection_set.node;
        let one = Fan::anywhere(1);
        let (inner, factor, extra): (On, u64, u64) = match (on, name) {
            (On::Query, "user") => (On::User(self.tenant_fan(field)), 1, 0),
            (On::Query, "me")
            | (
                On::Mutation,
                "updateMe" | "createUser" | "updateUser" | "blockUser" | "unblockUser",
            ) => (On::User(one), 1, 0),
            (On::Query, "users") => {
                let fan = self.refs_fan(field);
                let count = fan.named.values().sum::<u64>().max(1);
                (On::User(fan), count, 0)
            }
            (On::Query, "searchUsers") => {
                let first = self
                    .int_argument(field, "first")
                    .unwrap_or(20)
                    .clamp(1, 100);
                (On::Connection(Fan::anywhere(first)), first, 10)
            }
            (On::Query, "usersByEmail") => (
                On::User(Fan::anywhere(ACCOUNTS_PER_EMAIL)),
                ACCOUNTS_PER_EMAIL,
                0,
            ),
            (On::Query, "person") => (
                On::Person(Fan::anywhere(ACCOUNTS_PER_EMAIL)),
                ACCOUNTS_PER_EMAIL,
                0,
            ),
            (On::Connection(fan), "edges") => (On::Edge(fan.clone()), 1, 0),
            (On::Edge(fan), "node") | (On::Person(fan), "accounts") => {
                (On::User(fan.clone()), 1, 0)
            }
            (On::User(fan), "linkedAccounts") => (
                On::User(Fan::anywhere(
                    fan.most_in_one_tenant().saturating_mul(ACCOUNTS_PER_EMAIL),
                )),
                ACCOUNTS_PER_EMAIL,
                0,
            ),
            (On::User(fan), "logs") => {
                self.add_calls(fan);
                let first = self
                    .int_argument(field, "first")
                    .unwrap_or(20)
                    .clamp(1, 100);
                (On::Other, first, 0)
            }
            (On::User(fan), "bruteForceBlocks") => {
                self.add_calls(fan);
                (On::Other, 1, 0)
            }
            _ => (On::Other, 1, 0),
        };
        let below = self.cost(children, &inner);
        extra
            .saturating_add(1)
            .saturating_add(factor.saturating_mul(below))
    }

    /// `_entities`: 1, plus each representation times the selection of its type (fields of the
    /// union itself, `__typename`, cost 1 per representation).
    fn entities_cost(&mut self, field: &'a Field) -> u64 {
        let (users, persons) = self.representations_fan(field);
        let user_count = users
            .named
            .values()
            .sum::<u64>()
            .saturating_add(users.anywhere);
        self.representations = self.representations.max(user_count.saturating_add(persons));
        let mut fields = Vec::new();
        self.typed_fields(&field.selection_set.node, None, &mut fields);
        let on_user = On::User(users);
        let on_person = On::Person(Fan::anywhere(persons.saturating_mul(ACCOUNTS_PER_EMAIL)));
        let mut total: u64 = 1;
        for (on, field) in fields {
            let (count, cost) = match on {
                Some("User") => (user_count, self.field_cost(field, &on_user)),
                Some("Person") => (
                    persons.saturating_mul(ACCOUNTS_PER_EMAIL),
                    self.field_cost(field, &on_person),
                ),
                _ => (user_count.saturating_add(persons), 1),
            };
            total = total.saturating_add(count.saturating_mul(cost));
        }
        total
    }

    /// The fields of a selection set on `_Entity`, fragments expanded, each with the type its
    /// fragment is on (`None` for the union's own fields).
    fn typed_fields(
        &mut self,
        set: &'a SelectionSet,
        on: Option<&'a str>,
        out: &mut Vec<(Option<&'a str>, &'a Field)>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => out.push((on, &field.node)),
                Selection::InlineFragment(fragment) => {
                    let condition = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str());
                    self.typed_fields(&fragment.node.selection_set.node, condition.or(on), out);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if self.expanding.contains(&name) {
                        continue;
                    }
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    let fragment: &'a Positioned<FragmentDefinition> = fragment;
                    let condition = fragment.node.type_condition.node.on.node.as_str();
                    self.expanding.push(name);
                    self.typed_fields(&fragment.node.selection_set.node, Some(condition), out);
                    self.expanding.pop();
                }
            }
        }
    }

    /// `_entities(representations:)`: the users per tenant their keys name (or anywhere, when a
    /// key does not say), and the number of persons. A representation of any other type is
    /// counted as a user anywhere.
    fn representations_fan(&self, field: &Field) -> (Fan, u64) {
        let mut users = Fan::default();
        let mut persons: u64 = 0;
        let representations = match self.argument(field, "representations") {
            Some(ConstValue::List(list)) => list,
            Some(single @ ConstValue::Object(_)) => vec![single],
            _ => Vec::new(),
        };
        for representation in representations {
            let ConstValue::Object(fields) = representation else {
                users.anywhere = users.anywhere.saturating_add(1);
                continue;
            };
            let tenant = match fields.get("tenant") {
                Some(ConstValue::Object(tenant)) => match tenant.get("id") {
                    Some(ConstValue::String(id)) => Some(id.clone()),
                    _ => None,
                },
                _ => None,
            };
            match (fields.get("__typename"), tenant) {
                (Some(ConstValue::String(t)), _) if t == "Person" => {
                    persons = persons.saturating_add(1);
                }
                (Some(ConstValue::String(t)), Some(tenant)) if t == "User" => {
                    let entry = users.named.entry(tenant).or_default();
                    *entry = entry.saturating_add(1);
                }
                _ => users.anywhere = users.anywhere.saturating_add(1),
            }
        }
        (users, persons)
    }

    fn add_calls(&mut self, fan: &Fan) {
        for (tenant, count) in &fan.named {
            let entry = self.calls.named.entry(tenant.clone()).or_default();
            *entry = entry.saturating_add(*count);
        }
        self.calls.anywhere = self.calls.anywhere.saturating_add(fan.anywhere);
    }

    /// An argument's value, variables substituted (their defaults when not given).
    fn argument(&self, field: &Field, name: &str) -> Option<ConstValue> {
        field
            .get_argument(name)?
            .node
            .clone()
            .into_const_with(|variable| Ok::<_, ()>(self.variable(&variable)))
            .ok()
    }

    fn variable(&self, name: &Name) -> ConstValue {
        if let Some(value) = self.variables.get(name) {
            return value.clone();
        }
        self.operation
            .variable_definitions
            .iter()
            .find(|d| d.node.name.node == *name)
            .and_then(|d| d.node.default_value.as_ref())
            .map(|v| v.node.clone())
            .unwrap_or(ConstValue::Null)
    }

    fn int_argument(&self, field: &Field, name: &str) -> Option<u64> {
        match self.argument(field, name)? {
            ConstValue::Number(n) => n.as_i64().map(|n| n.max(0).unsigned_abs()),
            _ => None,
        }
    }

    /// `user(tenant:)`: one user in the tenant named.
    fn tenant_fan(&self, field: &Field) -> Fan {
        match self.argument(field, "tenant") {
            Some(ConstValue::String(tenant)) => Fan {
                named: HashMap::from([(tenant, 1)]),
                anywhere: 0,
            },
            _ => Fan::anywhere(1),
        }
    }

    /// `users(refs:)`: how many refs name each tenant.
    fn refs_fan(&self, field: &Field) -> Fan {
        let mut fan = Fan::default();
        let refs = match self.argument(field, "refs") {
            Some(ConstValue::List(refs)) => refs,
            Some(single @ ConstValue::Object(_)) => vec![single],
            _ => Vec::new(),
        };
        for one in refs {
            match one {
                ConstValue::Object(fields) => match fields.get("tenant") {
                    Some(ConstValue::String(tenant)) => {
                        let entry = fan.named.entry(tenant.clone()).or_default();
                        *entry = entry.saturating_add(1);
                    }
                    _ => fan.anywhere = fan.anywhere.saturating_add(1),
                },
                _ => fan.anywhere = fan.anywhere.saturating_add(1),
            }
        }
        fan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        depth: 10,
        complexity: 5_000,
        upstream_per_tenant: 25,
    };

    fn checked(document: &str, variables: serde_json::Value) -> Result<(), ClientError> {
        let parsed = async_graphql::parser::parse_query(document).unwrap();
        check(&parsed, None, &Variables::from_json(variables), BOUNDS)
    }

    fn refs(tenants: &[(&str, usize)]) -> serde_json::Value {
        let mut list = Vec::new();
        for (tenant, count) in tenants {
            for i in 0..*count {
                list.push(serde_json::json!({"tenant": tenant, "id": format!("auth0|{i}")}));
            }
        }
        serde_json::json!({ "refs": list })
    }

    #[test]
    fn per_user_calls_are_bounded_per_tenant() {
        let document =
            "query($refs: [UserRef!]!) { users(refs: $refs) { id bruteForceBlocks { ip } } }";
        let error = checked(document, refs(&[("acme-eu", 150)])).unwrap_err();
        assert_eq!(error.code, ErrorCode::QueryTooComplex);
        assert!(error.message.contains("150 calls"), "{}", error.message);
        checked(document, refs(&[("acme-eu", 20), ("globex", 20)])).unwrap();
        assert!(checked(document, refs(&[("acme-eu", 13), ("globex", 13)])).is_ok());
        let both = "query($refs: [UserRef!]!) { users(refs: $refs) { logs { id } bruteForceBlocks { ip } } }";
        assert!(checked(both, refs(&[("acme-eu", 13)])).is_err());
    }

    #[test]
    fn a_search_may_find_all_its_users_in_one_tenant() {
        assert!(
            checked(
                "{ searchUsers(first: 20) { edges { node { logs { id } } } } }",
                serde_json::json!({})
            )
            .is_ok()
        );
        let error = checked(
            "{ searchUsers(first: 30) { edges { node { bruteForceBlocks { ip } } } } }",
            serde_json::json!({}),
        )
        .unwrap_err();
        assert!(error.message.contains("30 calls"), "{}", error.message);
    }

    #[test]
    fn memberships_are_not_per_user_calls() {
        checked(
            "query($refs: [UserRef!]!) { users(refs: $refs) { organizations { id } roles { id } } }",
            refs(&[("acme-eu", 100)]),
        )
        .unwrap();
    }

    #[test]
    fn depth_is_refused_before_cost_and_cost_never_overflows() {
        let mut document = String::from("{ user(tenant: \"a\", id: \"b\") { ");
        for _ in 0..28 {
            document.push_str("linkedAccounts { ");
        }
        document.push_str("id");
        document.push_str(&" }".repeat(30));
        let error = checked(&document, serde_json::json!({})).unwrap_err();
        assert!(error.message.contains("levels deep"), "{}", error.message);
        let bounds = Bounds {
            depth: 1000,
            ..BOUNDS
        };
        let parsed = async_graphql::parser::parse_query(&document).unwrap();
        let error = check(&parsed, None, &Variables::default(), bounds).unwrap_err();
        assert!(error.message.contains("costs"), "{}", error.message);
    }

    #[test]
    fn fragments_count_and_cycles_stop() {
        let document = "query($refs: [UserRef!]!) { users(refs: $refs) { ...F } } fragment F on User { logs { id } }";
        assert!(checked(document, refs(&[("acme-eu", 30)])).is_err());
        let cycle = "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A id }";
        checked(cycle, serde_json::json!({})).unwrap();
    }

    /// `_entities`' representations: users per tenant, then persons.
    fn representations(tenants: &[(&str, usize)], persons: usize) -> serde_json::Value {
        let mut list = Vec::new();
        for (tenant, count) in tenants {
            for i in 0..*count {
                list.push(serde_json::json!({"__typename": "User", "tenant": {"id": tenant}, "id": format!("auth0|{i}")}));
            }
        }
        for i in 0..persons {
            list.push(
                serde_json::json!({"__typename": "Person", "email": format!("p{i}@example.com")}),
            );
        }
        serde_json::json!({ "r": list })
    }

    const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on User { id bruteForceBlocks { ip } } } }";

    #[test]
    fn entities_are_the_users_their_keys_name() {
        let error = checked(ENTITIES, representations(&[("acme-eu", 30)], 0)).unwrap_err();
        assert_eq!(error.code, ErrorCode::QueryTooComplex);
        assert!(error.message.contains("30 calls"), "{}", error.message);
        checked(
            ENTITIES,
            representations(&[("acme-eu", 20), ("globex", 20)], 0),
        )
        .unwrap();
        // A key that does not name its tenant may be anywhere.
        let unnamed = serde_json::json!({"r": (0..26).map(|i| serde_json::json!({"__typename": "User", "id": format!("auth0|{i}")})).collect::<Vec<_>>()});
        assert!(checked(ENTITIES, unnamed).is_err());
        // Through a named fragment, and a field of the union itself costs 1 each.
        let spread = "query($r: [_Any!]!) { _entities(representations: $r) { ...U } } fragment U on User { logs { id } }";
        assert!(checked(spread, representations(&[("globex", 26)], 0)).is_err());
        checked(spread, representations(&[("globex", 25)], 0)).unwrap();
    }

    #[test]
    fn person_entities_count_as_person() {
        let document = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { accounts { logs { id } } } } }";
        // Each person may have 5 accounts in one tenant: 6 persons could make 30 calls there.
        let error = checked(document, representations(&[], 6)).unwrap_err();
        assert!(error.message.contains("30 calls"), "{}", error.message);
        checked(document, representations(&[], 5)).unwrap();
    }

    #[test]
    fn entities_cost_their_selection_per_representation_and_are_bounded() {
        let wide = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { identities { connection provider userId isSocial } organizations { id name displayName } roles { id name description } } } }";
        let error = checked(
            wide,
            representations(&[("acme-eu", 250), ("globex", 250)], 0),
        )
        .unwrap_err();
        assert!(error.message.contains("costs"), "{}", error.message);
        let narrow =
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }";
        checked(
            narrow,
            representations(&[("acme-eu", 250), ("globex", 250)], 0),
        )
        .unwrap();
        let error = checked(
            narrow,
            representations(&[("acme-eu", 250), ("globex", 251)], 0),
        )
        .unwrap_err();
        assert!(
            error.message.contains("501 representations"),
            "{}",
            error.message
        );
    }

    #[test]
    fn complexity_says_its_cost_and_the_limit() {
        let search = "searchUsers(first: 100) { edges { node { identities { connection provider userId isSocial } organizations { id name displayName } roles { id name description } } } }";
        let document = format!("{{ a: {search} b: {search} c: {search} d: {search} e: {search} }}");
        let document = document.as_str();
        let error = checked(document, serde_json::json!({})).unwrap_err();
        assert!(
            error.message.contains("costs") && error.message.contains("5000"),
            "{}",
            error.message
        );
    }
}
