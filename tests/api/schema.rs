//! The committed schema files are the served schema and its federation form, and the contract's
//! names are all in them.

#[test]
fn the_committed_schema_matches_what_is_served() {
    let served = tenantgraph::graphql::sdl();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/tenantgraph.graphql"
    ))
    .expect("schema/tenantgraph.graphql exists");
    assert!(
        served == committed,
        "schema/tenantgraph.graphql is stale: run `cargo run -- schema > schema/tenantgraph.graphql`"
    );
}

#[test]
fn the_committed_subgraph_schema_matches_what_service_answers() {
    let served = tenantgraph::graphql::subgraph_sdl();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/tenantgraph.subgraph.graphql"
    ))
    .expect("schema/tenantgraph.subgraph.graphql exists");
    assert!(
        served == committed,
        "schema/tenantgraph.subgraph.graphql is stale: run `cargo run -- schema --federation > schema/tenantgraph.subgraph.graphql`"
    );
}

#[test]
fn the_subgraph_schema_links_federation_2_and_keys_its_entities() {
    let subgraph = tenantgraph::graphql::subgraph_sdl();
    for expected in [
        "extend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.",
        "type User @key(fields: \"tenant { id } id\") {",
        "type Person @key(fields: \"email\") {",
        "id: ID! @shareable",
    ] {
        assert!(
            subgraph.contains(expected),
            "missing `{expected}`:\n{subgraph}"
        );
    }
    // The router's own fields are not part of the schema it composes.
    assert!(!subgraph.contains("_entities"), "{subgraph}");
    // The served schema has them: a router calls them on the same endpoint.
    let served = tenantgraph::graphql::sdl();
    assert!(served.contains("_entities(representations: [_Any!]!): [_Entity]!"));
    assert!(served.contains("_service: _Service!"));
    assert!(
        !served.contains("@key"),
        "directives are federation's alone"
    );
}

#[test]
fn every_query_field_of_the_contract_is_served() {
    let served = tenantgraph::graphql::sdl();
    for field in [
        "tenants: [Tenant!]!",
        "user(tenant: ID!, id: ID!): User",
        "users(refs: [UserRef!]!): [User]!",
        "usersByEmail(email: String!): [User!]!",
        "person(email: String!): Person",
        "me: User",
        // Nullable where the contract says `[…]!`: a nested field whose tenant failed (or whose
        // permission is missing) is null with an error, never an empty list that would read as
        // "none"; a non-null list would instead null the whole user, or a whole search.
        "linkedAccounts: [User!]\n",
        "bruteForceBlocks: [BruteForceBlock!]\n",
        "organizations: [Organization!]\n",
        "roles: [Role!]\n",
        "logs(first: Int = 20): [LogEvent!]\n",
        "appMetadata: JSON",
        "userMetadata: JSON!",
        "totalCount: Int!",
    ] {
        assert!(served.contains(field), "missing `{field}`");
    }
    assert!(served.contains("searchUsers(query: String, tenants: [ID!], first: Int = 20, after: String, orderBy: UserOrder = CREATED_AT_DESC): UserConnection!"), "{served}");
}
