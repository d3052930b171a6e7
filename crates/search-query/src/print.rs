//! The canonical text of a query: explicit operators, a compound parenthesised exactly where
//! precedence needs it (an `OR` inside an `AND`, a compound under `NOT`, a compound nested in
//! one of its own kind), every literal escaped or quoted.
//!
//! Three promises: `parse(&q.to_string()) == Ok(q)` for every `q` that `parse` returned; the
//! text nests no deeper than the input `q` was parsed from (so it is never refused for depth
//! when its input was not); and the text of any query is one balanced expression, so
//! `({q}) AND ({scope})` cannot be escaped. Queries built in code that `parse` would never
//! return (an empty `Or`, a one-member `And`, a nested `Any`) still print as one expression
//! with the same meaning.
//!
//! Whitespace inside a bare word is written as `\` and the character itself, as Lucene reads
//! it, so the text ends in whitespace when its last word does (`jane AND NOT \<tab>` for a word
//! that is one tab). Parse it as it is: trimming it leaves a dangling `\`.

use std::fmt::{self, Write as _};

use crate::ast::{Bound, Field, Pattern, Query, Value};
use crate::escape::{escape, escape_into, quote};

/// Matches nothing; what an empty `Or` or `Any` prints as.
const NOTHING: &str = "(NOT *:*)";

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*:*"),
            Self::Exists(field) => write!(f, "_exists_:{field}"),
            Self::Term { field, value } => write_term(f, field.as_ref(), value),
            Self::And(members) => write_joined(f, members, " AND ", "*:*", Parent::And),
            Self::Or(members) => write_joined(f, members, " OR ", NOTHING, Parent::Or),
            Self::Not(inner) => {
                f.write_str("NOT ")?;
                write_operand(f, inner, Parent::Not)
            }
        }
    }
}

/// What a query is printed inside of, for deciding whether it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent {
    And,
    Or,
    Not,
}

/// Whether `query`, under `parent`, must be parenthesised to be read back as the same tree:
/// `AND` binds tighter than `OR` and `NOT` tightest of all.
fn needs_parentheses(query: &Query, parent: Parent) -> bool {
    let compound = |members: &Vec<Query>| members.len() >= 2;
    match (query, parent) {
        // An `AND` inside an `OR` is read as such without parentheses.
        (Query::And(_), Parent::Or) => false,
        (Query::And(members) | Query::Or(members), _) => compound(members),
        _ => false,
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, query: &Query, parent: Parent) -> fmt::Result {
    if needs_parentheses(query, parent) {
        write!(f, "({query})")
    } else {
        write!(f, "{query}")
    }
}

/// The value as written after `field:`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut leaves = Vec::new();
        flatten(self, &mut leaves);
        match leaves.as_slice() {
            [] => f.write_str(NOTHING),
            [leaf] => write_leaf(f, leaf),
            _ => write_group(f, &leaves),
        }
    }
}

/// The path with special characters escaped; dots stay separators.
impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(self.as_str()))
    }
}

fn write_joined(
    f: &mut fmt::Formatter<'_>,
    members: &[Query],
    operator: &str,
    empty: &str,
    parent: Parent,
) -> fmt::Result {
    match members {
        [] => f.write_str(empty),
        [only] => write!(f, "{only}"),
        [first, rest @ ..] => {
            write_operand(f, first, parent)?;
            for member in rest {
                f.write_str(operator)?;
                write_operand(f, member, parent)?;
            }
            Ok(())
        }
    }
}

fn write_term(f: &mut fmt::Formatter<'_>, field: Option<&Field>, value: &Value) -> fmt::Result {
    let mut leaves = Vec::new();
    flatten(value, &mut leaves);
    if leaves.is_empty() {
        return f.write_str(NOTHING);
    }
    if let Some(field) = field {
        write!(f, "{field}:")?;
    }
    match leaves.as_slice() {
        [leaf] => write_leaf(f, leaf),
        _ => write_group(f, &leaves),
    }
}

/// The values of nested `Any` groups, in order.
fn flatten<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Any(values) => values.iter().for_each(|v| flatten(v, out)),
        leaf => out.push(leaf),
    }
}

fn write_group(f: &mut fmt::Formatter<'_>, leaves: &[&Value]) -> fmt::Result {
    f.write_char('(')?;
    for (index, leaf) in leaves.iter().enumerate() {
        if index > 0 {
            f.write_str(" OR ")?;
        }
        write_leaf(f, leaf)?;
    }
    f.write_char(')')
}

/// One value that is not a group.
fn write_leaf(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::Word(text) => f.write_str(&escape(text)),
        Value::Phrase(text) => f.write_str(&quote(text)),
        Value::Wildcard(pattern) => {
            let mut text = String::new();
            pattern_into(&mut text, pattern);
            f.write_str(&text)
        }
        Value::Range { lower, upper } => {
            f.write_char(if matches!(lower, Bound::Exclusive(_)) {
                '{'
            } else {
                '['
            })?;
            write_bound(f, lower)?;
            f.write_str(" TO ")?;
            write_bound(f, upper)?;
            f.write_char(if matches!(upper, Bound::Exclusive(_)) {
                '}'
            } else {
                ']'
            })
        }
        // Only reached for a group nested in a leaf position, which `flatten` prevents.
        Value::Any(_) => write!(f, "{value}"),
    }
}

fn write_bound(f: &mut fmt::Formatter<'_>, bound: &Bound) -> fmt::Result {
    match bound {
        Bound::Unbounded => f.write_char('*'),
        // Quoted so that `TO`, `*`, brackets and spaces inside a bound stay literal.
        Bound::Inclusive(text) | Bound::Exclusive(text) => f.write_str(&quote(text)),
    }
}

/// Appends the pattern's text: escaped segments joined by `*`.
pub(crate) fn pattern_into(out: &mut String, pattern: &Pattern) {
    for (index, segment) in pattern.segments().iter().enumerate() {
        if index > 0 {
            out.push('*');
        }
        escape_into(out, segment);
    }
}
