//! Every field and mutation that names a tenant answers one that does not exist the same way
//! (BAD_USER_INPUT, "unknown tenant `…`", nothing written, no data), and answers a tenant out
//! of the caller's reach exactly like one that does not exist.

use serde_json::{Value, json};

use test_kit::{TestApp, error_codes, spawn};

/// (field, document) pairs, each naming the tenant `$t`; `$id` is a user id, `$e` an email.
const NAMING_A_TENANT: [(&str, &str); 15] = [
    (
        "user",
        "query($t: ID!, $id: ID!) { user(tenant: $t, id: $id) { id } }",
    ),
    (
        "users",
        "query($t: ID!, $id: ID!) { users(refs: [{tenant: $t, id: $id}]) { id } }",
    ),
    (
        "searchUsers",
        "query($t: ID!) { searchUsers(tenants: [$t]) { totalCount } }",
    ),
    ("stats", "query($t: ID!) { stats(tenants: [$t]) { users } }"),
    (
        "organizationStats",
        "query($t: ID!) { organizationStats(organization: \"org_any\", tenants: [$t]) { users } }",
    ),
    (
        "createUser",
        "mutation($t: ID!, $e: String!) { createUser(tenant: $t, input: {connection: \"Username-Password-Authentication\", email: $e, password: \"Unknown-Passw0rd\"}) { id } }",
    ),
    (
        "updateUser",
        "mutation($t: ID!, $id: ID!) { updateUser(tenant: $t, id: $id, input: {nickname: \"x\"}) { id } }",
    ),
    (
        "deleteUser",
        "mutation($t: ID!, $id: ID!) { deleteUser(tenant: $t, id: $id) }",
    ),
    (
        "blockUser",
        "mutation($t: ID!, $id: ID!) { blockUser(tenant: $t, id: $id) { id } }",
    ),
    (
        "unblockUser",
        "mutation($t: ID!, $id: ID!) { unblockUser(tenant: $t, id: $id) { id } }",
    ),
    (
        "removeBruteForceBlocks",
        "mutation($t: ID!, $id: ID!) { removeBruteForceBlocks(tenant: $t, id: $id) }",
    ),
    (
        "sendVerificationEmail",
        "mutation($t: ID!, $id: ID!) { sendVerificationEmail(tenant: $t, id: $id) { id } }",
    ),
    (
        "createPasswordChangeTicket",
        "mutation($t: ID!, $id: ID!) { createPasswordChangeTicket(tenant: $t, id: $id) { url } }",
    ),
    // The same two through an alias and a nested selection, so the rule is not the top
    // field's alone.
    (
        "user (aliased)",
        "query($t: ID!, $id: ID!) { someone: user(tenant: $t, id: $id) { id tenant { id } } }",
    ),
    (
        "users (two refs, one known)",
        "query($t: ID!, $id: ID!) { users(refs: [{tenant: $t, id: $id}, {tenant: $t, id: \"auth0|none\"}]) { id } }",
    ),
];

/// The answer's single error, with the tenant's name replaced by `_`.
fn refusal(answer: &Value, tenant: &str) -> (Vec<String>, String) {
    let message = answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .replace(tenant, "_");
    (error_codes(answer), message)
}

/// Every entry of `data` is null or an empty list: an unknown tenant yields nothing at all.
fn carries_nothing(answer: &Value) -> bool {
    match &answer["data"] {
        Value::Null => true,
        Value::Object(fields) => fields.values().all(|value| match value {
            Value::Null => true,
            Value::Array(items) => items.iter().all(Value::is_null),
            _ => false,
        }),
        _ => false,
    }
}

async fn ask(app: &TestApp, token: &str, document: &str, tenant: &str, id: &str) -> Value {
    app.query(
        token,
        document,
        json!({"t": tenant, "id": id, "e": "unknown-tenant@example.com"}),
    )
    .await
}

#[tokio::test]
async fn an_unknown_tenant_is_refused_alike_in_every_field() {
    let app = spawn().await;
    let id = app.users_of("acme-eu")[0].user_id.clone();
    let before = app.total_calls();
    for (field, document) in NAMING_A_TENANT {
        let answer = ask(&app, &app.tokens.global_admin, document, "acme-zz", &id).await;
        assert_eq!(
            refusal(&answer, "acme-zz"),
            (
                vec!["BAD_USER_INPUT".to_owned()],
                "unknown tenant `_`".to_owned()
            ),
            "{field}: {answer}"
        );
        assert_eq!(answer["errors"].as_array().unwrap().len(), 1, "{field}");
        assert!(carries_nothing(&answer), "{field}: {answer}");
    }
    assert_eq!(
        app.total_calls(),
        before,
        "naming an unknown tenant costs no upstream call"
    );
}

#[tokio::test]
async fn a_tenant_out_of_reach_is_refused_like_an_unknown_one_in_every_field() {
    let app = spawn().await;
    // The tenant admin's tenant is acme-eu: acme-us exists but is out of its reach.
    let outsider = app.users_of("acme-us")[0].user_id.clone();
    for (field, document) in NAMING_A_TENANT {
        let out_of_reach = ask(
            &app,
            &app.tokens.tenant_admin,
            document,
            "acme-us",
            &outsider,
        )
        .await;
        let unknown = ask(
            &app,
            &app.tokens.tenant_admin,
            document,
            "acme-zz",
            &outsider,
        )
        .await;
        assert_eq!(
            refusal(&out_of_reach, "acme-us"),
            refusal(&unknown, "acme-zz"),
            "{field}: {out_of_reach} against {unknown}"
        );
        assert!(carries_nothing(&out_of_reach), "{field}: {out_of_reach}");
    }
    assert!(
        app.users_of("acme-us")
            .iter()
            .any(|user| user.user_id == outsider),
        "nothing was deleted out of reach"
    );
}
