//! The committed schema file is the served schema, and the contract's names are all in it.

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
