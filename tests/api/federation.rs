//! tenantgraph as an Apollo Federation 2 subgraph: `_entities` and `_service` as a router calls
//! them. A real router composing tenantgraph with another subgraph needs Node: its tests are
//! `tests/federation_router.rs`.

use serde_json::{Value, json};

use test_kit::{data, error_codes, spawn};

#[path = "../support/federation.rs"]
mod support;

use support::{TENANTS, calls_per_tenant, some_users};

const USER_ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    ... on User { id tenant { id } email } } }";

fn representation(tenant: &str, id: &str) -> Value {
    json!({"__typename": "User", "tenant": {"id": tenant}, "id": id})
}

#[tokio::test]
async fn thirty_user_entities_in_three_tenants_cost_one_call_per_tenant() {
    let app = spawn().await;
    let users = some_users(&app, 10);
    let representations: Vec<Value> = users
        .iter()
        .map(|(tenant, id, _)| representation(tenant, id))
        .collect();
    let answer = app
        .query(
            &app.tokens.global_admin,
            USER_ENTITIES,
            json!({"r": representations}),
        )
        .await;
    let entities = data(&answer)["_entities"].as_array().unwrap().clone();
    assert_eq!(entities.len(), 30);
    for ((tenant, id, email), entity) in users.iter().zip(&entities) {
        assert_eq!(
            entity,
            &json!({"id": id, "tenant": {"id": tenant}, "email": email})
        );
    }
    eprintln!("30 user entities: {:?}", calls_per_tenant(&app));
    for tenant in TENANTS {
        assert_eq!(
            app.tenant_calls(tenant),
            [("GET /api/v2/users".to_owned(), 1)].into(),
            "{tenant}: one search for its ten users"
        );
    }
}

#[tokio::test]
async fn an_entity_out_of_reach_is_null_as_user_is() {
    let app = spawn().await;
    // A delegated administrator: a member of its organization, and an acme-us user outside it.
    let organization = app.env.demo_organization().unwrap();
    let members = app.members_of("acme-us", &organization);
    let outsider = app.first_non_member("acme-us", &members);
    let answer = app
        .query(
            &app.tokens.org_admin,
            USER_ENTITIES,
            json!({"r": [representation("acme-us", &members[0]), representation("acme-us", &outsider)]}),
        )
        .await;
    let entities = &data(&answer)["_entities"];
    assert_eq!(entities[0]["id"], json!(members[0]));
    assert_eq!(entities[1], Value::Null, "out of reach, as a missing user");
    let user = app
        .query(
            &app.tokens.org_admin,
            "query($id: ID!) { user(tenant: \"acme-us\", id: $id) { id } }",
            json!({"id": outsider}),
        )
        .await;
    assert_eq!(data(&user)["user"], Value::Null);

    // A tenant out of reach, or one that does not exist: BAD_USER_INPUT as `user` answers, for
    // that representation only, and no call to it.
    app.reset_counts();
    let mine = &app.users_of("acme-eu")[3].user_id;
    let theirs = &app.users_of("globex")[3].user_id;
    let answer = app
        .query(
            &app.tokens.tenant_admin,
            USER_ENTITIES,
            json!({"r": [representation("acme-eu", mine), representation("globex", theirs), representation("nowhere", theirs)]}),
        )
        .await;
    assert_eq!(answer["data"]["_entities"][0]["id"], json!(mine));
    assert_eq!(answer["data"]["_entities"][1], Value::Null);
    assert_eq!(answer["data"]["_entities"][2], Value::Null);
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer:#}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown tenant"),
        "{answer:#}"
    );
    assert_eq!(app.tenant_calls("globex").values().sum::<u64>(), 0);
    let user = app
        .query(
            &app.tokens.tenant_admin,
            "query($id: ID!) { user(tenant: \"globex\", id: $id) { id } }",
            json!({"id": theirs}),
        )
        .await;
    assert_eq!(error_codes(&user), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_down_tenant_nulls_its_entities_only_with_one_error_naming_it() {
    let app = spawn().await;
    app.take_down("globex");
    let users = some_users(&app, 2);
    let representations: Vec<Value> = users
        .iter()
        .map(|(tenant, id, _)| representation(tenant, id))
        .collect();
    let answer = app
        .query(
            &app.tokens.global_admin,
            USER_ENTITIES,
            json!({"r": representations}),
        )
        .await;
    let entities = answer["data"]["_entities"].as_array().unwrap();
    for ((tenant, id, _), entity) in users.iter().zip(entities) {
        if tenant == "globex" {
            assert_eq!(entity, &Value::Null);
        } else {
            assert_eq!(entity["id"], json!(id));
        }
    }
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{answer:#}");
    assert_eq!(errors[0]["extensions"]["code"], "TENANT_UNAVAILABLE");
    assert_eq!(errors[0]["extensions"]["tenant"], "globex");
}

#[tokio::test]
async fn a_person_entity_is_the_person_behind_a_verified_email() {
    let app = spawn().await;
    let verified = app
        .users_of("globex")
        .into_iter()
        .find(|u| u.email_verified && u.email.is_some())
        .unwrap();
    let email = verified.email.clone().unwrap();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [_Any!]!) { _entities(representations: $r) {
                ... on Person { email accounts { id tenant { id } } } } }",
            json!({"r": [{"__typename": "Person", "email": email}, {"__typename": "Person", "email": "nobody@example.com"}]}),
        )
        .await;
    let entities = &data(&answer)["_entities"];
    let person = app
        .query(
            &app.tokens.global_admin,
            "query($e: String!) { person(email: $e) { email accounts { id tenant { id } } } }",
            json!({"e": email}),
        )
        .await;
    assert_eq!(entities[0], data(&person)["person"]);
    assert!(
        entities[0]["accounts"]
            .as_array()
            .unwrap()
            .contains(&json!({"id": verified.user_id, "tenant": {"id": "globex"}}))
    );
    assert_eq!(entities[1], Value::Null);
}

#[tokio::test]
async fn a_router_cannot_pass_the_limits() {
    let app = spawn().await;
    let representations: Vec<Value> = app
        .users_of("acme-eu")
        .iter()
        .take(30)
        .map(|u| representation("acme-eu", &u.user_id))
        .collect();
    let answer = app
        .query(
            &app.tokens.global_admin,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { bruteForceBlocks { identifier } } } }",
            json!({"r": representations}),
        )
        .await;
    assert_eq!(error_codes(&answer), ["QUERY_TOO_COMPLEX"], "{answer:#}");
    assert_eq!(app.total_calls(), 0);
}

#[tokio::test]
async fn the_service_sdl_is_the_subgraph_schema_and_closed_without_introspection() {
    let app = spawn().await;
    let answer = app
        .query(&app.tokens.auditor, "{ _service { sdl } }", json!({}))
        .await;
    assert_eq!(
        data(&answer)["_service"]["sdl"],
        json!(tenantgraph::graphql::subgraph_sdl())
    );

    let closed = test_kit::spawn_with(
        test_kit::Options::default().gateway(|c| c.server.introspection = false),
    )
    .await;
    let answer = closed
        .query(&closed.tokens.auditor, "{ _service { sdl } }", json!({}))
        .await;
    assert_eq!(error_codes(&answer), ["BAD_USER_INPUT"], "{answer:#}");
    assert_eq!(answer["data"], Value::Null);
}
