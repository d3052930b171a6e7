//! Evaluating queries against users as Auth0 returns them (`GET /api/v2/users/{id}`): the
//! tenant emulator's search, and the gateway's matching of the users it wrote lately.

mod compile;
mod node;
mod text;

use serde_json::Value as Json;

use crate::ast::{Query, Value};
use crate::error::ParseError;

/// A query compiled for evaluation against users as Auth0 returns them.
///
/// How values compare, beyond the rules in the crate documentation:
/// - A field is found by its dotted path through objects, looking through arrays at every level:
///   `identities.connection:x` matches when any identity has that connection,
///   `app_metadata.roles:"admin"` when the array contains `"admin"`. `email.domain` is the text
///   after the last `@` of `email`.
/// - A missing or `null` field never matches, so `blocked:false` does not match a user without
///   `blocked` (as in Elasticsearch, where such a user has nothing indexed for the field).
/// - `_exists_:f` needs a non-null scalar somewhere at `f`: an empty array or an object holding
///   only nulls does not count (Elasticsearch's rule).
/// - Words and phrases match strings as whole values; JSON numbers by numeric value
///   (`logins_count:5`, `app_metadata.age:30`, and `5.0` matches `5`); booleans by `true` or
///   `false` in lower case. Objects are never matched by a term.
/// - Wildcards only match strings.
/// - Ranges: dates on the date fields; otherwise numbers when the stored value is a number and
///   every closed bound is a number, and code-point order for strings (folded on
///   case-insensitive fields). Booleans never fall in a range.
/// - Dates: a stored value is read as RFC 3339 (or `YYYY-MM-DD`, at its first instant); one that
///   does not parse never matches. A date-only bound stands for its whole UTC day: `[d TO`
///   starts at d, `{d TO` after that day, `TO d]` ends after it, `TO d}` before it. An equality
///   such as `created_at:2024-05-01` matches that whole day, and a date-time matches that
///   instant (Auth0's rounding is *unconfirmed*; this is Elasticsearch's for date-only bounds).
#[derive(Debug, Clone)]
pub struct Filter {
    root: node::Node,
    candidates: Option<Candidates>,
}

/// A field the emulator indexes by exact value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateField {
    UserId,
    /// Values are lower case: index emails lower-cased.
    Email,
}

/// Every user a filter matches has `field` equal to one of `values` (sorted, without
/// duplicates). Candidates still have to pass [`Filter::matches`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    pub field: CandidateField,
    pub values: Vec<String>,
}

impl Filter {
    /// Compiles a query, enforcing the semantic rules on queries built in code as well as parsed
    /// ones (errors then have no position).
    pub fn new(query: &Query) -> Result<Self, ParseError> {
        let root = compile::compile(query)?;
        let candidates = candidates(query).map(|mut found| {
            found.values.sort_unstable();
            found.values.dedup();
            found
        });
        Ok(Self { root, candidates })
    }

    /// Whether the user (the JSON Auth0 returns for it) matches.
    pub fn matches(&self, user: &Json) -> bool {
        self.root.matches(user)
    }

    /// The exact `user_id`s or emails that bound this filter's matches, when the query says so:
    /// a term on `user_id` or `email` (word, phrase or a group of them), an `OR` of such terms on
    /// the same field, or an `AND` with at least one such member (the smallest set is used).
    pub fn exact_candidates(&self) -> Option<&Candidates> {
        self.candidates.as_ref()
    }
}

fn candidates(query: &Query) -> Option<Candidates> {
    match query {
        Query::Term {
            field: Some(field),
            value,
        } => {
            let field = match field.as_str() {
                "user_id" => CandidateField::UserId,
                "email" => CandidateField::Email,
                _ => return None,
            };
            let mut values = Vec::new();
            exact_values(value, &mut values)?;
            if field == CandidateField::Email {
                values = values.iter().map(|v| text::fold(v)).collect();
            }
            Some(Candidates { field, values })
        }
        Query::Or(members) => {
            let mut each = members.iter().map(candidates);
            let mut union = each.next()??;
            for found in each {
                let found = found?;
                if found.field != union.field {
                    return None;
                }
                union.values.extend(found.values);
            }
            Some(union)
        }
        Query::And(members) => members
            .iter()
            .filter_map(candidates)
            .min_by_key(|found| found.values.len()),
        Query::All | Query::Exists(_) | Query::Term { field: None, .. } | Query::Not(_) => None,
    }
}

/// Collects the literal values of a word, phrase or group of them; `None` for anything else.
fn exact_values(value: &Value, out: &mut Vec<String>) -> Option<()> {
    match value {
        Value::Word(text) | Value::Phrase(text) => out.push(text.clone()),
        Value::Any(values) => values.iter().try_for_each(|v| exact_values(v, out))?,
        Value::Wildcard(_) | Value::Range { .. } => return None,
    }
    Some(())
}
