//! Evaluation against realistic Auth0 users, and the exact candidates the emulator indexes on.
// Helpers outside #[test] functions unwrap too: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "eval")]

mod common;

use common::*;
use search_query::{CandidateField, Candidates, ErrorKind, Filter, Query, parse};
use serde_json::{Value as Json, json};

/// Three users as `GET /api/v2/users/{id}` returns them, by short name.
fn users() -> Vec<(&'static str, Json)> {
    vec![
        (
            "jane",
            json!({
                "user_id": "auth0|64f1a2b3c4d5e6f7a8b9c0d1",
                "email": "Jane.Smith@Example.com",
                "email_verified": true,
                "username": "jsmith",
                "phone_number": "+15551234567",
                "phone_verified": false,
                "name": "Jane Smith",
                "given_name": "Jane",
                "family_name": "Smith",
                "nickname": "jane",
                "picture": "https://s.gravatar.com/avatar/1.png",
                "identities": [{
                    "connection": "Username-Password-Authentication",
                    "user_id": "64f1a2b3c4d5e6f7a8b9c0d1",
                    "provider": "auth0",
                    "isSocial": false
                }],
                "created_at": "2024-01-15T09:30:00.000Z",
                "updated_at": "2024-05-01T10:20:30.123Z",
                "last_login": "2024-05-01T10:20:30.123Z",
                "last_ip": "203.0.113.7",
                "logins_count": 42,
                "blocked": false,
                "user_metadata": { "address": { "city": "Paris" }, "color": "Blue" },
                "app_metadata": { "plan": "gold", "roles": ["admin", "billing"], "age": 30 }
            }),
        ),
        (
            "bob",
            json!({
                "user_id": "google-oauth2|109348",
                "email": "bob@gmail.com",
                "email_verified": false,
                "name": "Bob Jackson",
                "given_name": "Bob",
                "family_name": "Jackson",
                "nickname": "bob",
                "picture": "https://lh3.googleusercontent.com/a/2.png",
                "identities": [{
                    "connection": "google-oauth2",
                    "user_id": "109348",
                    "provider": "google-oauth2",
                    "isSocial": true
                }],
                "created_at": "2023-12-31T23:59:59.999Z",
                "updated_at": "2024-02-01T08:00:00.000Z",
                "last_login": "2024-02-01T08:00:00.000Z",
                "logins_count": 3,
                "user_metadata": {},
                "app_metadata": { "roles": ["viewer"] }
            }),
        ),
        (
            "helene",
            json!({
                "user_id": "auth0|abc",
                "email": "helene@exemple.fr",
                "email_verified": true,
                "name": "Hélène Dupont",
                "nickname": "HÉLÈNE",
                "identities": [
                    { "connection": "Username-Password-Authentication", "user_id": "abc",
                      "provider": "auth0", "isSocial": false },
                    { "connection": "github", "user_id": "77", "provider": "github", "isSocial": true }
                ],
                "created_at": "2024-12-31T12:00:00Z",
                "updated_at": "2024-12-31T12:00:00Z",
                "logins_count": 100,
                "blocked": true,
                "last_password_reset": "2024-06-01T00:00:00.000Z",
                "user_metadata": { "address": { "city": null } },
                "app_metadata": { "plan": null, "tags": [] }
            }),
        ),
    ]
}

/// Query and the users it matches.
const CASES: &[(&str, &[&str])] = &[
    // Whole keywords, never tokenized; case rules per field.
    ("name:jane", &[]),
    ("name:\"jane smith\"", &["jane"]),
    ("name:JANE*", &["jane"]),
    ("name:J*h", &["jane"]),
    ("name:*son", &["bob"]),
    ("name:*ène*", &["helene"]),
    ("nickname:JANE", &["jane"]),
    ("nickname:hélène", &["helene"]),
    ("given_name:bob", &["bob"]),
    ("family_name:SMITH", &["jane"]),
    ("email:jane.smith@example.com", &["jane"]),
    ("email:\"JANE.SMITH@EXAMPLE.COM\"", &["jane"]),
    ("email:jane*", &["jane"]),
    ("email.domain:EXAMPLE.COM", &["jane"]),
    ("email.domain:(gmail.com OR exemple.fr)", &["bob", "helene"]),
    ("email.domain:*mple.*", &["jane", "helene"]),
    ("_exists_:email.domain", &["jane", "bob", "helene"]),
    ("username:JSMITH", &[]),
    ("username:jsmith", &["jane"]),
    ("phone_number:\\+15551234567", &["jane"]),
    ("last_ip:203.0.113.7", &["jane"]),
    // user_id: exact and case-sensitive, quoted or escaped.
    ("user_id:\"auth0|abc\"", &["helene"]),
    ("user_id:auth0\\|abc", &["helene"]),
    ("user_id:\"AUTH0|ABC\"", &[]),
    ("user_id:\"auth0|ab\"", &[]),
    (
        "user_id:(\"auth0|abc\" OR \"google-oauth2|109348\")",
        &["bob", "helene"],
    ),
    // Arrays and nested objects.
    ("identities.connection:github", &["helene"]),
    (
        "identities.connection:Username-Password-Authentication",
        &["jane", "helene"],
    ),
    (
        "identities.provider:auth0 AND identities.isSocial:true",
        &["helene"],
    ),
    ("identities.isSocial:true", &["bob", "helene"]),
    ("app_metadata.roles:\"admin\"", &["jane"]),
    ("app_metadata.roles:Admin", &[]),
    ("app_metadata.roles:(viewer OR billing)", &["jane", "bob"]),
    ("app_metadata.plan:gold", &["jane"]),
    ("app_metadata.age:30", &["jane"]),
    ("app_metadata.age:[18 TO 30]", &["jane"]),
    ("app_metadata.age:{30 TO *]", &[]),
    ("user_metadata.address.city:\"Paris\"", &["jane"]),
    ("user_metadata.address.city:paris", &[]),
    ("user_metadata.color:blue", &[]),
    ("user_metadata.address:Paris", &[]),
    // Booleans and numbers by their JSON text; a missing field never matches.
    ("blocked:true", &["helene"]),
    ("blocked:false", &["jane"]),
    ("blocked:TRUE", &[]),
    ("NOT blocked:true", &["jane", "bob"]),
    ("email_verified:false", &["bob"]),
    ("logins_count:42", &["jane"]),
    ("logins_count:42.0", &["jane"]),
    ("logins_count:{42 TO *]", &["helene"]),
    ("logins_count:[3 TO 42]", &["jane", "bob"]),
    ("logins_count:[* TO 3}", &[]),
    ("logins_count:[-5 TO 3]", &["bob"]),
    // Dates: RFC 3339 instants; a date-only bound is a whole UTC day.
    ("created_at:[2024-01-01 TO 2024-12-31]", &["jane", "helene"]),
    ("created_at:[2024-01-01 TO 2024-12-31}", &["jane"]),
    ("created_at:{2023-12-31 TO *]", &["jane", "helene"]),
    ("created_at:[* TO \"2023-12-31T23:59:59.999Z\"]", &["bob"]),
    ("created_at:[* TO 2023-12-31T23:59:59.999Z}", &[]),
    ("created_at:2023-12-31", &["bob"]),
    ("created_at:\"2024-01-15T10:30:00+01:00\"", &["jane"]),
    ("last_login:[2024-05-01 TO 2024-05-01]", &["jane"]),
    ("last_password_reset:[2024-01-01 TO *]", &["helene"]),
    (
        "updated_at:{2024-02-01T08:00:00Z TO 2024-12-31T12:00:00Z]",
        &["jane", "helene"],
    ),
    // Presence.
    ("_exists_:blocked", &["jane", "helene"]),
    ("blocked:*", &["jane", "helene"]),
    ("_exists_:app_metadata.plan", &["jane"]),
    ("_exists_:app_metadata.tags", &[]),
    ("_exists_:user_metadata", &["jane"]),
    ("_exists_:identities.isSocial", &["jane", "bob", "helene"]),
    ("*:*", &["jane", "bob", "helene"]),
    // Default fields, each with its own case rule.
    ("jane", &["jane"]),
    ("smith", &["jane"]),
    ("JSMITH", &[]),
    ("jack*", &["bob"]),
    ("\"+15551234567\"", &["jane"]),
    ("\"auth0|abc\"", &["helene"]),
    // Operators, including Lucene's adjacent exclusion.
    ("name:jane* -blocked:true", &["jane"]),
    ("nickname:jane nickname:bob", &["jane", "bob"]),
    (
        "nickname:jane nickname:bob -email_verified:false",
        &["jane"],
    ),
    ("-blocked:true", &["jane", "bob"]),
    ("blocked:true OR logins_count:3", &["bob", "helene"]),
    ("NOT (blocked:true OR logins_count:3)", &["jane"]),
    ("name:[a TO c]", &["bob"]),
    ("name:{\"bob jackson\" TO *]", &["jane", "helene"]),
];

#[test]
fn queries_match_the_expected_users() {
    let users = users();
    for (input, expected) in CASES {
        let query = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        let filter = Filter::new(&query).unwrap_or_else(|e| panic!("{input}: {e}"));
        let matched: Vec<&str> = users
            .iter()
            .filter(|(_, user)| filter.matches(user))
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(&matched, expected, "{input}");
    }
}

#[test]
fn rules_apply_to_queries_built_in_code() {
    let cases = [
        (
            wildcard("user_metadata.color", "bl*"),
            "wildcards are not supported on metadata field",
        ),
        (
            wildcard("app_metadata.plan", "go*"),
            "wildcards are not supported on metadata field",
        ),
        (
            term("user_metadata.age", range(inc("1"), inc("5"))),
            "ranges are not supported on user_metadata",
        ),
        (
            wildcard("user_id", "auth0*"),
            "`user_id` is matched exactly",
        ),
        (bare(range(inc("1"), inc("5"))), "a range needs a field"),
        (
            word("created_at", "yesterday"),
            "invalid date `yesterday` for `created_at`",
        ),
        (
            word("logins_count", "many"),
            "`logins_count` takes a number",
        ),
        (
            not(wildcard("name", "*a")),
            "leading wildcard needs at least 3 literal characters: `*a`",
        ),
    ];
    for (query, fragment) in cases {
        let error = Filter::new(&query).unwrap_err();
        assert_eq!(error.position(), None);
        assert!(error.to_string().contains(fragment), "{query}: {error}");
    }
    assert!(matches!(
        Filter::new(&wildcard("user_id", "x*")).unwrap_err().kind(),
        ErrorKind::UserIdNotExact
    ));
}

#[test]
fn empty_compounds_built_in_code_behave_as_identities() {
    let jane = &users()[0].1;
    assert!(Filter::new(&Query::And(vec![])).unwrap().matches(jane));
    assert!(!Filter::new(&Query::Or(vec![])).unwrap().matches(jane));
    assert!(
        !Filter::new(&term("name", group(vec![])))
            .unwrap()
            .matches(jane)
    );
}

fn candidates_of(input: &str) -> Option<Candidates> {
    Filter::new(&parse(input).unwrap())
        .unwrap()
        .exact_candidates()
        .cloned()
}

fn ids(values: &[&str]) -> Option<Candidates> {
    let values = values.iter().map(|v| (*v).to_owned()).collect();
    Some(Candidates {
        field: CandidateField::UserId,
        values,
    })
}

fn emails(values: &[&str]) -> Option<Candidates> {
    let values = values.iter().map(|v| (*v).to_owned()).collect();
    Some(Candidates {
        field: CandidateField::Email,
        values,
    })
}

#[test]
fn exact_candidates_are_derived_where_the_query_pins_them() {
    assert_eq!(candidates_of(r#"user_id:"auth0|b""#), ids(&["auth0|b"]));
    assert_eq!(
        candidates_of(r#"user_id:("auth0|b" OR "auth0|a" OR "auth0|b")"#),
        ids(&["auth0|a", "auth0|b"])
    );
    assert_eq!(
        candidates_of(r"user_id:auth0\|a OR user_id:auth0\|b"),
        ids(&["auth0|a", "auth0|b"])
    );
    assert_eq!(
        candidates_of(r#"email:"Jane@Example.COM""#),
        emails(&["jane@example.com"])
    );
    assert_eq!(
        candidates_of("email:x@y.z AND blocked:true"),
        emails(&["x@y.z"])
    );
    assert_eq!(
        candidates_of("user_id:(a OR b OR c) AND (email:x@y.z AND name:j*)"),
        emails(&["x@y.z"])
    );
    for none in [
        "name:jane",
        "user_id:a OR email:b",
        "user_id:a OR name:b",
        "NOT user_id:a",
        "email:jane*",
        "email.domain:x.com",
        "\"auth0|a\"",
        "*:*",
        "_exists_:user_id",
    ] {
        assert_eq!(candidates_of(none), None, "{none}");
    }
}

#[test]
fn candidates_cover_every_match() {
    let users = users();
    for input in [
        r#"user_id:("auth0|abc" OR "nobody")"#,
        r#"email:"JANE.SMITH@example.com""#,
    ] {
        let filter = Filter::new(&parse(input).unwrap()).unwrap();
        let candidates = filter.exact_candidates().unwrap();
        for (_, user) in &users {
            if filter.matches(user) {
                let key = match candidates.field {
                    CandidateField::UserId => user["user_id"].as_str().unwrap().to_owned(),
                    CandidateField::Email => user["email"].as_str().unwrap().to_lowercase(),
                };
                assert!(candidates.values.contains(&key), "{input}: {key}");
            }
        }
    }
}
