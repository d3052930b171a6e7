//! Property 2: any GraphQL document with any variables, from any caller, gets a well-formed
//! answer, and every error in it carries an `extensions.code` from the closed set. Nothing
//! panics (not even in a spawned task: see `support::no_worker_panics`) and nothing hangs.
//!
//! Two ways in:
//! - in-process, many cases: a gateway whose tenants are unreachable ([`crate::lab::dead`]),
//!   with real tokens minted per case (none, end users, operators with any permissions,
//!   tenant scope and organization), run as `POST /graphql` runs them;
//! - over HTTP, fewer cases: `POST /graphql` (and some `GET`) on the gateway in front of the
//!   emulated tenants, with real tokens, also with raw bodies, batches and wrong shapes.
//!
//! Documents are arbitrary strings, strings over GraphQL's punctuation, and valid contract
//! queries mutated (characters deleted, duplicated, swapped, hostile pieces inserted), nested
//! deeply, aliased many times, or given huge numbers.

use std::time::Duration;

use async_graphql::{Request, Variables};
use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use serde_json::{Map, Value, json};
use tenant_emulator::KeyChoice;
use tenantgraph::demo::{ALL_PERMISSIONS, TENANTS_CLAIM};

use crate::lab::{dead, lab};
use crate::support::{block_on, check_answer, clip, config, no_worker_panics};

/// Valid documents of the contract (schema/tenantgraph.graphql), one per root field and then
/// some: fragments, directives, introspection, variables of every input type. `USER` stands for
/// a user id (a real one over HTTP).
const VALID: &[&str] = &[
    "{ tenants { id name domain status } }",
    "query U($t: ID!, $id: ID!) { user(tenant: $t, id: $id) { id email emailVerified name \
     nickname givenName familyName picture createdAt updatedAt lastLogin lastIp loginsCount \
     blocked userMetadata appMetadata identities { connection provider userId isSocial } } }",
    "{ user(tenant: \"acme-eu\", id: \"USER\") { id organizations { id name displayName } \
     roles { id name description } logs(first: 5) { id date type description ip clientName \
     userAgent } bruteForceBlocks { identifier ip connection } \
     linkedAccounts { id tenant { id } } } }",
    "query R($refs: [UserRef!]!) { users(refs: $refs) { id tenant { id status } email } }",
    "{ users(refs: [{tenant: \"acme-eu\", id: \"USER\"}, {tenant: \"globex\", id: \"x\"}, \
     {tenant: \"nope\", id: \"\"}]) { id email appMetadata } }",
    "query S($q: String, $tenants: [ID!], $first: Int, $after: String) { searchUsers(query: $q, \
     tenants: $tenants, first: $first, after: $after, orderBy: EMAIL_ASC) { totalCount \
     pageInfo { hasNextPage endCursor } edges { cursor node { id email } } } }",
    "{ searchUsers(query: \"name:jo* OR email:\\\"a@b.c\\\"\", first: 100, orderBy: \
     LAST_LOGIN_DESC) { totalCount edges { node { id name lastLogin } } } }",
    "query E($email: String!) { usersByEmail(email: $email) { id tenant { id } } \
     person(email: $email) { email name verified accounts { id } } }",
    "{ me { id email userMetadata linkedAccounts { id } } }",
    "query T($days: Int) { stats(days: $days) { users blockedUsers unverifiedUsers activeUsers \
     tenants { tenant { id } users activeUsers daily { date logins signups } } } }",
    "mutation M($input: UpdateMeInput!) { updateMe(input: $input) { id name userMetadata } }",
    "mutation { requestPasswordReset resendVerificationEmail { id type status createdAt } }",
    "mutation C($input: CreateUserInput!) { createUser(tenant: \"acme-eu\", input: $input) \
     { id } }",
    "mutation { createUser(tenant: \"globex\", input: {connection: \
     \"Username-Password-Authentication\", email: \"new@x.test\", password: \"Passw0rd!x\", \
     userMetadata: {a: [1, {b: null}]}}) { id email } }",
    "mutation P($id: ID!, $input: UpdateUserInput!) { updateUser(tenant: \"acme-eu\", id: $id, \
     input: $input) { id email appMetadata } }",
    "mutation { updateUser(tenant: \"acme-eu\", id: \"USER\", input: {name: null, \
     userMetadata: {}, appMetadata: {plan: \"pro\"}}) { id } }",
    "mutation { blockUser(tenant: \"acme-eu\", id: \"USER\") { blocked } \
     unblockUser(tenant: \"acme-eu\", id: \"USER\") { blocked } }",
    "mutation { removeBruteForceBlocks(tenant: \"acme-us\", id: \"USER\") \
     sendVerificationEmail(tenant: \"acme-eu\", id: \"USER\") { id } }",
    "mutation K($ttl: Int) { createPasswordChangeTicket(tenant: \"acme-eu\", id: \"USER\", \
     resultUrl: \"https://x.test/\", ttlSeconds: $ttl) { url } }",
    "mutation { deleteUser(tenant: \"globex\", id: \"auth0|nobody\") }",
    "mutation X($email: String!) { exportPerson(email: $email) }",
    "mutation { erasePerson(email: \"nobody@x.test\", confirm: \"nobody@x.test\") { tenant { id } \
     userId deleted error } }",
    "fragment U on User { id email tenant { id } } query { user(tenant: \"acme-eu\", id: \
     \"USER\") { ...U linkedAccounts { ...U } } }",
    "query D($skip: Boolean!) { tenants @skip(if: $skip) { id } me @include(if: $skip) { id } }",
    "{ __typename __schema { queryType { name } \
     types { name kind fields { name args { name } } } } }",
    "{ __type(name: \"User\") { name fields { name type { name kind ofType { name } } } } }",
    "{ a: tenants { id } b: tenants { id } c: me { id } ... on Query { tenants { name } } }",
];

/// Pieces spliced into valid documents: punctuation that unbalances, names that do not exist,
/// directives, fragments, spreads, literals of every kind and size, unicode and control text.
const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\"\"\"",
    "\\",
    "$x",
    "$",
    "...",
    "... on User",
    "... on Tenant",
    "...F",
    "fragment F on User { id }",
    "fragment F on User { ...F }",
    "@skip(if: true)",
    "@include(if: $b)",
    "@deprecated",
    "@nope",
    "query",
    "mutation",
    "subscription",
    "query Q",
    ":",
    "!",
    "=",
    "#",
    "\n",
    ",",
    "|",
    "&",
    "a: ",
    "id",
    "__typename",
    "__schema { types { name } }",
    "tenants { id }",
    "users(refs: [])",
    "me { id }",
    "99999999999999999999999999",
    "-9223372036854775809",
    "2147483648",
    "-1",
    "0",
    "1e400",
    "-0",
    "0.5",
    "NaN",
    "null",
    "true",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\"\\uZZZZ\"",
    "\"\"\"block\"\"\"",
    "[[[[]]]]",
    "{a: {b: {c: null}}}",
    "$first",
    "first: ",
    "id: ",
    "tenant: ",
    "é",
    "😀",
    "\u{0}",
    "\u{FEFF}",
    "\u{202E}",
    "\r",
];

fn with_user(document: &str, user: &str) -> String {
    document.replace("USER", user)
}

/// One edit of a document's characters.
#[derive(Debug, Clone)]
enum Edit {
    Delete(Index, usize),
    Duplicate(Index, usize),
    Insert(Index, &'static str),
    Swap(Index, Index),
    Replace(Index, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (any::<Index>(), 1..12usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        1 => (any::<Index>(), 1..40usize).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        3 => (any::<Index>(), select(PIECES)).prop_map(|(at, p)| Edit::Insert(at, p)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        1 => (any::<Index>(), any::<char>()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

fn apply(document: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = document.chars().collect();
    for edit in edits {
        let len = chars.len();
        match edit {
            Edit::Delete(at, n) if len > 0 => {
                let at = at.index(len);
                chars.drain(at..(at + n).min(len));
            }
            Edit::Duplicate(at, n) if len > 0 => {
                let at = at.index(len);
                let copy: Vec<char> = chars[at..(at + n).min(len)].to_vec();
                chars.splice(at..at, copy);
            }
            Edit::Insert(at, piece) => {
                let at = at.index(len + 1);
                chars.splice(at..at, piece.chars());
            }
            Edit::Swap(a, b) if len > 0 => chars.swap(a.index(len), b.index(len)),
            Edit::Replace(at, c) if len > 0 => chars[at.index(len)] = *c,
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// How deep list and object values in documents nest here: past the gateway's bound on
/// nesting (64), which refuses them before async-graphql's parser, which recurses on values
/// without a limit of its own, could overflow a stack (see
/// [`deeply_nested_values_are_refused_before_parsing`]).
const VALUE_DEPTH: usize = 200;

/// Nesting far past any sane limit where the parser bounds it (selections, fragments spreading
/// fragments), and up to [`VALUE_DEPTH`] in list and object values.
fn deep(max: usize) -> impl Strategy<Value = String> {
    let kind = 0..7u8;
    (kind, 1..max).prop_map(|(kind, n)| match kind {
        0 => format!(
            "{{ user(tenant: \"acme-eu\", id: \"x\") {{ {}id{} }} }}",
            "linkedAccounts { ".repeat(n),
            " }".repeat(n)
        ),
        1 => format!("{}{}", "{".repeat(n), "}".repeat(n)),
        2 => format!("{{ tenants {}id{} }}", "{ ".repeat(n), " }".repeat(n)),
        3 => format!(
            "{{ searchUsers(tenants: {}\"x\"{}) {{ totalCount }} }}",
            "[".repeat(n.min(VALUE_DEPTH)),
            "]".repeat(n.min(VALUE_DEPTH))
        ),
        4 => format!(
            "mutation {{ updateMe(input: {{userMetadata: {}1{}}}) {{ id }} }}",
            "{a: ".repeat(n.min(VALUE_DEPTH)),
            "}".repeat(n.min(VALUE_DEPTH))
        ),
        5 => {
            let mut document = String::from("{ me { ...F0 } }");
            for i in 0..n.min(400) {
                document.push_str(&format!(" fragment F{i} on User {{ id ...F{} }}", i + 1));
            }
            document.push_str(&format!(" fragment F{} on User {{ id }}", n.min(400)));
            document
        }
        _ => format!("{}{{ tenants {{ id }} }}", "query Q ".repeat(n)),
    })
}

/// Many aliases of cheap and of expensive fields.
fn aliases(max: usize) -> impl Strategy<Value = String> {
    (
        1..max,
        select(vec![
            "tenants { id }",
            "me { id }",
            "searchUsers(first: 100) { totalCount edges { node { id organizations { id } } } }",
            "user(tenant: \"acme-eu\", id: \"USER\") { id roles { id } }",
            "stats { users }",
        ]),
    )
        .prop_map(|(n, field)| {
            let fields: Vec<String> = (0..n).map(|i| format!("a{i}: {field}")).collect();
            format!("{{ {} }}", fields.join(" "))
        })
}

/// Numbers no field expects, in every numeric argument.
fn numbers() -> impl Strategy<Value = String> {
    let number = select(vec![
        "99999999999999999999999999",
        "2147483648",
        "-2147483649",
        "-1",
        "0",
        "1e400",
        "-1e400",
        "0.5",
        "1.0",
        "1e2",
        "-0",
        "\"12\"",
        "null",
        "true",
        "[1]",
        "{n: 1}",
        "ENUM",
    ]);
    (number, 0..4u8).prop_map(|(n, at)| match at {
        0 => format!("{{ searchUsers(first: {n}) {{ totalCount }} }}"),
        1 => format!("{{ stats(days: {n}) {{ users }} }}"),
        2 => format!("{{ user(tenant: \"acme-eu\", id: \"x\") {{ logs(first: {n}) {{ id }} }} }}"),
        _ => format!(
            "mutation {{ createPasswordChangeTicket(tenant: \"acme-eu\", id: \"x\", \
             ttlSeconds: {n}) {{ url }} }}"
        ),
    })
}

/// A document: arbitrary, GraphQL-ish, or a contract query mutated, nested, aliased.
/// `deepest` and `most_aliases` bound the sizes (smaller over HTTP, where tenants answer).
fn document(user: String, deepest: usize, most_aliases: usize) -> BoxedStrategy<String> {
    let valid = select(VALID).prop_map(move |d| with_user(d, &user));
    let valid_for_edits = valid.clone();
    prop_oneof![
        2 => any::<String>(),
        2 => "[{}()\\[\\]:$!@.=\"a-zA-Z0-9_ \n,#]{0,120}",
        4 => valid,
        8 => (valid_for_edits, proptest::collection::vec(edit(), 1..4))
            .prop_map(|(d, edits)| apply(&d, &edits)),
        1 => deep(deepest),
        1 => aliases(most_aliases),
        2 => numbers(),
    ]
    .boxed()
}

/// Any JSON value, a little deep (also the junk payloads of `tokens`).
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::from),
        select(vec![
            "acme-eu",
            "globex",
            "auth0|x",
            "",
            "a@b.c",
            "name:*",
            "*:*",
            ") OR (",
            "2024-01-01",
            "CREATED_AT_DESC",
            "\u{0}",
            "😀",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z_$]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Variables: any JSON, or an object with the names the documents use, holding anything.
fn variables() -> impl Strategy<Value = Value> {
    const NAMES: &[&str] = &[
        "t", "id", "q", "first", "after", "tenants", "refs", "input", "skip", "email", "days",
        "ttl", "b", "x",
    ];
    prop_oneof![
        1 => json_value(),
        5 => proptest::collection::btree_map(select(NAMES), json_value(), 0..6)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
    ]
}

/// Mostly none (a document with one operation needs none); else one of the documents' names
/// (right for some, wrong for others) or anything.
fn operation_name() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(
        0.3,
        prop_oneof![
            select(vec![
                "U", "R", "S", "E", "T", "M", "C", "P", "K", "X", "D", "Q"
            ])
            .prop_map(str::to_owned),
            ".{0,8}",
        ],
    )
}

const TENANT_IDS: [&str; 4] = ["acme-eu", "acme-us", "globex", "nope"];

/// Any caller: nobody, an end user, an operator holding any permissions over any tenants,
/// delegated to an organization or not.
#[derive(Debug, Clone)]
enum Caller {
    Nobody,
    EndUser(&'static str, String),
    Operator {
        permissions: Vec<&'static str>,
        tenants: Value,
        organization: Option<&'static str>,
        subject: String,
    },
}

fn caller() -> impl Strategy<Value = Caller> {
    let operator = (
        subsequence(ALL_PERMISSIONS.to_vec(), 0..=ALL_PERMISSIONS.len()),
        prop_oneof![
            Just(json!("*")),
            subsequence(TENANT_IDS.to_vec(), 0..=TENANT_IDS.len()).prop_map(|ids| json!(ids)),
        ],
        proptest::option::of(select(vec!["org_1", "org_nope", ""])),
        "[a-z0-9|]{1,12}",
    )
        .prop_map(
            |(permissions, tenants, organization, subject)| Caller::Operator {
                permissions,
                tenants,
                organization,
                subject,
            },
        );
    prop_oneof![
        1 => Just(Caller::Nobody),
        1 => (select(TENANT_IDS.to_vec()), "auth0\\|[a-z0-9]{1,8}")
            .prop_map(|(tenant, user_id)| Caller::EndUser(tenant, user_id)),
        3 => operator,
    ]
}

/// The `Authorization` value of a caller: a token signed by the issuer it claims.
fn bearer(caller: &Caller) -> String {
    let lab = lab();
    let token = match caller {
        Caller::Nobody => return String::new(),
        Caller::EndUser(tenant, user_id) => {
            let claims = json!({"sub": user_id, "aud": tenantgraph::demo::AUDIENCE});
            let Some(handle) = lab.env.tenant(tenant) else {
                // A tenant nobody issues for: a token the gateway cannot verify.
                return "Bearer not.a.token".to_owned();
            };
            handle
                .control()
                .mint_token(tenant_emulator::MintRequest {
                    claims: claims.as_object().cloned().unwrap_or_default(),
                    key: KeyChoice::Tenant,
                    kid: None,
                })
                .unwrap()
        }
        Caller::Operator {
            permissions,
            tenants,
            organization,
            subject,
        } => {
            let mut claims = lab.operator_claims(subject, permissions, tenants.clone());
            claims.insert(TENANTS_CLAIM.into(), tenants.clone());
            if let Some(organization) = organization {
                claims.insert("org_id".into(), json!(organization));
            }
            lab.operator_token(claims, KeyChoice::Tenant, None)
        }
    };
    format!("Bearer {token}")
}

/// Runs one document in-process as `caller`, as the HTTP handler does, and checks the answer.
fn run_in_process(
    document: &str,
    variables: &Value,
    operation: Option<&str>,
    caller: Caller,
) -> Result<(), TestCaseError> {
    let mut request = Request::new(document).variables(Variables::from_json(variables.clone()));
    if let Some(name) = operation {
        request = request.operation_name(name);
    }
    let bearer = bearer(&caller);
    let response = block_on(Duration::from_secs(20), dead().execute(&bearer, request))
        .map_err(TestCaseError::fail)?;
    let answer = serde_json::to_value(&response)
        .map_err(|e| TestCaseError::fail(format!("the answer does not serialize: {e}")))?;
    check_answer(&answer).map_err(|e| {
        TestCaseError::fail(format!("{e}\nanswer: {}", clip(&answer.to_string(), 2000)))
    })?;
    no_worker_panics().map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    #![proptest_config(config("documents_in_process", 2000))]

    /// Any document, variables and caller, through the schema: a well-formed, coded answer.
    #[test]
    fn any_document_gets_a_well_formed_answer_in_process(
        document in document("auth0|64f1c2aa0000000000000001".to_owned(), 3000, 400),
        variables in variables(),
        operation in operation_name(),
        caller in caller(),
    ) {
        run_in_process(&document, &variables, operation.as_deref(), caller)?;
    }
}

/// What goes into one HTTP request.
#[derive(Debug, Clone)]
enum Body {
    /// `{"query", "variables", "operationName"}`.
    Single(String, Value, Option<String>),
    /// A batch of such requests.
    Batch(Vec<(String, Value)>),
    /// `GET /graphql?query=…&variables=…`.
    Get(String, Value),
    /// Any bytes, labelled JSON.
    Raw(Vec<u8>),
    /// Any JSON, not necessarily a request.
    Json(Value),
}

/// Who calls over HTTP: real tokens, minted per case (with a fresh subject, so per-caller rate
/// limits stay out of the way of operators).
#[derive(Debug, Clone)]
enum Who {
    Nobody,
    EndUser,
    Operator(Vec<&'static str>, Value),
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        1 => Just(Who::Nobody),
        1 => Just(Who::EndUser),
        3 => (
            subsequence(ALL_PERMISSIONS.to_vec(), 0..=ALL_PERMISSIONS.len()),
            select(vec![json!("*"), json!(["acme-eu"]), json!(["globex", "acme-us"])]),
        )
            .prop_map(|(permissions, tenants)| Who::Operator(permissions, tenants)),
    ]
}

fn body() -> impl Strategy<Value = Body> {
    let user = lab().real_user.clone();
    let document = document(user, 3000, 30);
    prop_oneof![
        8 => (document.clone(), variables(), operation_name())
            .prop_map(|(d, v, o)| Body::Single(d, v, o)),
        1 => proptest::collection::vec((document.clone(), variables()), 0..5).prop_map(Body::Batch),
        // Cut to what fits in a URL (the client refuses longer ones before sending anything).
        1 => (document, variables()).prop_map(|(d, v)| {
            let cut = d.char_indices().nth(1500).map_or(d.len(), |(at, _)| at);
            Body::Get(d[..cut].to_owned(), v)
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Body::Raw),
        1 => json_value().prop_map(Body::Json),
    ]
}

async fn post(who: &Who, body: &Body, case: u64) -> Result<(), String> {
    let lab = lab();
    let token = match who {
        Who::Nobody => None,
        Who::EndUser => Some(lab.end_user_token(&lab.real_user)),
        Who::Operator(permissions, tenants) => Some(lab.operator_token(
            lab.operator_claims(&format!("auth0|prop{case}"), permissions, tenants.clone()),
            KeyChoice::Tenant,
            None,
        )),
    };
    let request = match body {
        Body::Get(document, variables) => lab.client.get(&lab.url).query(&[
            ("query", document.as_str()),
            ("variables", &variables.to_string()),
        ]),
        other => {
            let bytes = match other {
                Body::Single(document, variables, operation) => {
                    let mut single = Map::new();
                    single.insert("query".into(), json!(document));
                    single.insert("variables".into(), variables.clone());
                    if let Some(name) = operation {
                        single.insert("operationName".into(), json!(name));
                    }
                    Value::Object(single).to_string().into_bytes()
                }
                Body::Batch(items) => Value::Array(
                    items
                        .iter()
                        .map(|(d, v)| json!({"query": d, "variables": v}))
                        .collect(),
                )
                .to_string()
                .into_bytes(),
                Body::Raw(bytes) => bytes.clone(),
                Body::Json(value) => value.to_string().into_bytes(),
                Body::Get(..) => Vec::new(),
            };
            lab.client
                .post(&lab.url)
                .header("content-type", "application/json")
                .body(bytes)
        }
    };
    let request = match &token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let response = request
        .send()
        .await
        .map_err(|e| format!("no HTTP answer: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("unreadable body: {e}"))?;
    if status.is_server_error() {
        return Err(format!("HTTP {status}: {}", clip(&text, 2000)));
    }
    let answer: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "HTTP {status}, body is not JSON ({e}): {}",
            clip(&text, 500)
        )
    })?;
    check_answer(&answer).map_err(|e| format!("HTTP {status}: {e}\nanswer: {}", clip(&text, 2000)))
}

proptest! {
    #![proptest_config(config("documents_over_http", 300))]

    /// The same over HTTP, with real tokens, batches, GETs and bodies that are not requests.
    #[test]
    fn any_request_gets_a_well_formed_answer_over_http(
        who in who(),
        body in body(),
        case in any::<u64>(),
    ) {
        block_on(Duration::from_secs(30), post(&who, &body, case))
            .and_then(|r| r)
            .map_err(TestCaseError::fail)?;
        no_worker_panics().map_err(TestCaseError::fail)?;
    }
}

/// Regression (found by `any_document_gets_a_well_formed_answer_in_process`): a document whose
/// list or object values nest some hundreds of levels deep (a few kB, far under the body
/// limit) used to overflow the stack of the worker running async-graphql's parser, which
/// recurses on values without a limit, and abort the whole gateway. The gateway now measures
/// bracket nesting before parsing and answers QUERY_TOO_COMPLEX.
#[test]
fn deeply_nested_values_are_refused_before_parsing() {
    let lab = lab();
    let claims = lab.operator_claims("auth0|prop-nesting", &["read:users"], json!("*"));
    let token = lab.operator_token(claims, KeyChoice::Tenant, None);
    let mut documents = Vec::new();
    for n in [300, 400, 500, 1300, 2000, 5000] {
        documents.push(format!(
            "mutation {{ updateMe(input: {{userMetadata: {}1{}}}) {{ id }} }}",
            "{a: ".repeat(n),
            "}".repeat(n)
        ));
        documents.push(format!(
            "{{ searchUsers(tenants: {}\"x\"{}) {{ totalCount }} }}",
            "[".repeat(n),
            "]".repeat(n)
        ));
    }
    for document in documents {
        let answer = block_on(Duration::from_secs(30), async {
            let response = lab
                .client
                .post(&lab.url)
                .bearer_auth(&token)
                .json(&json!({ "query": document }))
                .send()
                .await
                .unwrap();
            assert!(!response.status().is_server_error());
            response.json::<Value>().await.unwrap()
        })
        .unwrap();
        check_answer(&answer).unwrap();
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
            "{answer}"
        );
    }
}
