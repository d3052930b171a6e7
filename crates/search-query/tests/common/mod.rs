//! Shorthands for building expected queries in tests.
#![allow(dead_code)]

use search_query::{Bound, Field, Pattern, Query, Value};

pub fn field(path: &str) -> Field {
    Field::new(path).unwrap()
}

pub fn term(path: &str, value: Value) -> Query {
    Query::Term {
        field: Some(field(path)),
        value,
    }
}

pub fn word(path: &str, text: &str) -> Query {
    term(path, w(text))
}

pub fn phrase(path: &str, text: &str) -> Query {
    term(path, p(text))
}

pub fn wildcard(path: &str, pattern: &str) -> Query {
    term(path, glob(pattern))
}

pub fn bare(value: Value) -> Query {
    Query::Term { field: None, value }
}

pub fn w(text: &str) -> Value {
    Value::Word(text.to_owned())
}

pub fn p(text: &str) -> Value {
    Value::Phrase(text.to_owned())
}

/// A pattern from its text, `*` separating segments.
pub fn glob(pattern: &str) -> Value {
    Value::Wildcard(Pattern::new(pattern.split('*').map(str::to_owned).collect()).unwrap())
}

pub fn range(lower: Bound, upper: Bound) -> Value {
    Value::Range { lower, upper }
}

pub fn inc(text: &str) -> Bound {
    Bound::Inclusive(text.to_owned())
}

pub fn exc(text: &str) -> Bound {
    Bound::Exclusive(text.to_owned())
}

pub fn group(values: Vec<Value>) -> Value {
    Value::Any(values)
}

pub fn and(members: Vec<Query>) -> Query {
    Query::And(members)
}

pub fn or(members: Vec<Query>) -> Query {
    Query::Or(members)
}

pub fn not(inner: Query) -> Query {
    Query::Not(Box::new(inner))
}

pub fn exists(path: &str) -> Query {
    Query::Exists(field(path))
}
