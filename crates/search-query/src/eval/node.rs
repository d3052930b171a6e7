//! The compiled form of a query and its evaluation against one user's JSON, without allocating
//! (except to fold a non-ASCII value for a case-insensitive wildcard).

use std::cmp::Ordering;

use serde_json::{Number, Value as Json};

use super::text::{self, Glob};
use crate::date::{self, Instant};

#[derive(Debug, Clone)]
pub(crate) enum Node {
    All,
    Exists(Path),
    Match { path: Path, test: Test },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Node {
    pub(crate) fn matches(&self, user: &Json) -> bool {
        match self {
            Self::All => true,
            Self::Exists(path) => path.exists(user),
            Self::Match { path, test } => path.any_leaf(user, |leaf| test.matches(leaf)),
            Self::And(nodes) => nodes.iter().all(|node| node.matches(user)),
            Self::Or(nodes) => nodes.iter().any(|node| node.matches(user)),
            Self::Not(node) => !node.matches(user),
        }
    }
}

/// Where a field's values are in the user JSON.
#[derive(Debug, Clone)]
pub(crate) enum Path {
    /// `email.domain`: the part of `email` after the last `@`.
    EmailDomain,
    /// Object keys from the root, looked up through arrays at every level.
    Keys(Box<[String]>),
}

/// A scalar found at a path. `null`, objects and empty arrays are no value at all.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf<'a> {
    Str(&'a str),
    Num(&'a Number),
    Bool(bool),
}

impl Path {
    pub(crate) fn of(field: &str) -> Self {
        match field {
            "email.domain" => Self::EmailDomain,
            _ => Self::Keys(field.split('.').map(str::to_owned).collect()),
        }
    }

    /// Whether `f` holds for any scalar at this path.
    fn any_leaf(&self, user: &Json, mut f: impl FnMut(Leaf<'_>) -> bool) -> bool {
        match self {
            Self::EmailDomain => visit(user, &["email"], &mut |value| {
                email_domain(value).is_some_and(|domain| f(Leaf::Str(domain)))
            }),
            Self::Keys(keys) => visit(user, keys, &mut |value| leaf(value).is_some_and(&mut f)),
        }
    }

    /// Whether the path holds at least one value that is not `null` (`_exists_`).
    fn exists(&self, user: &Json) -> bool {
        match self {
            Self::EmailDomain => visit(user, &["email"], &mut |v| email_domain(v).is_some()),
            Self::Keys(keys) => visit(user, keys, &mut has_value),
        }
    }
}

fn email_domain(value: &Json) -> Option<&str> {
    value.as_str()?.rsplit_once('@').map(|(_, domain)| domain)
}

fn leaf(value: &Json) -> Option<Leaf<'_>> {
    match value {
        Json::String(s) => Some(Leaf::Str(s)),
        Json::Number(n) => Some(Leaf::Num(n)),
        Json::Bool(b) => Some(Leaf::Bool(*b)),
        Json::Null | Json::Array(_) | Json::Object(_) => None,
    }
}

/// Elasticsearch's notion of presence: some non-null scalar somewhere below.
fn has_value(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Array(items) => items.iter().any(has_value),
        Json::Object(map) => map.values().any(has_value),
        Json::String(_) | Json::Number(_) | Json::Bool(_) => true,
    }
}

/// Whether `f` holds for any value at `keys` below `value`, looking through arrays at every
/// level (so `identities.connection` sees each identity's connection).
fn visit<K: AsRef<str>>(value: &Json, keys: &[K], f: &mut impl FnMut(&Json) -> bool) -> bool {
    if let Json::Array(items) = value {
        return items.iter().any(|item| visit(item, keys, f));
    }
    match keys.split_first() {
        None => f(value),
        Some((key, rest)) => value
            .get(key.as_ref())
            .is_some_and(|child| visit(child, rest, f)),
    }
}

/// What one value of a term asks of a scalar.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Equals(Literal),
    Glob(Glob),
    /// Date fields: equality and ranges both become a span of instants.
    Dates(DateSpan),
    Range(Range),
    AnyOf(Vec<Test>),
}

impl Test {
    fn matches(&self, leaf: Leaf<'_>) -> bool {
        match self {
            Self::Equals(literal) => literal.matches(leaf),
            Self::Glob(glob) => matches!(leaf, Leaf::Str(s) if glob.matches(s)),
            Self::Dates(span) => span.matches(leaf),
            Self::Range(range) => range.matches(leaf),
            Self::AnyOf(tests) => tests.iter().any(|test| test.matches(leaf)),
        }
    }
}

/// A word or phrase, with the forms it can take precomputed.
#[derive(Debug, Clone)]
pub(crate) struct Literal {
    /// Folded when `ci`.
    text: Box<str>,
    ci: bool,
    /// Matches a JSON number of this value.
    number: Option<f64>,
    /// Matches a JSON boolean (`true`/`false`, lower case only).
    boolean: Option<bool>,
}

impl Literal {
    pub(crate) fn new(text: &str, ci: bool) -> Self {
        Self {
            text: if ci {
                text::fold(text)
            } else {
                text.to_owned()
            }
            .into_boxed_str(),
            ci,
            number: crate::rules::number(text),
            boolean: match text {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
        }
    }

    fn matches(&self, leaf: Leaf<'_>) -> bool {
        match leaf {
            Leaf::Str(s) => text::equals(s, &self.text, self.ci),
            Leaf::Num(n) => self.number.is_some_and(|x| n.as_f64() == Some(x)),
            Leaf::Bool(b) => self.boolean == Some(b),
        }
    }
}

/// Instants from `from` (inclusive) until `until` (exclusive); `None` is open.
#[derive(Debug, Clone)]
pub(crate) struct DateSpan {
    pub(crate) from: Option<Instant>,
    pub(crate) until: Option<Instant>,
}

impl DateSpan {
    fn matches(&self, leaf: Leaf<'_>) -> bool {
        let Leaf::Str(s) = leaf else { return false };
        let Some(stored) = date::parse(s) else {
            return false;
        };
        let at = stored.start();
        self.from.is_none_or(|from| at >= from) && self.until.is_none_or(|until| at < until)
    }
}

/// A range on text (ordered by code point, folded when `ci`) or numbers.
#[derive(Debug, Clone)]
pub(crate) struct Range {
    pub(crate) lower: Option<End>,
    pub(crate) upper: Option<End>,
    pub(crate) ci: bool,
}

/// One closed side of a range.
#[derive(Debug, Clone)]
pub(crate) struct End {
    /// Folded when the range is `ci`.
    pub(crate) text: Box<str>,
    pub(crate) number: Option<f64>,
    pub(crate) inclusive: bool,
}

impl Range {
    fn matches(&self, leaf: Leaf<'_>) -> bool {
        let order = |end: &End| -> Option<Ordering> {
            match leaf {
                Leaf::Str(s) => Some(text::compare(s, &end.text, self.ci)),
                Leaf::Num(n) => n.as_f64()?.partial_cmp(&end.number?),
                Leaf::Bool(_) => None,
            }
        };
        let within = |end: &Option<End>, beyond: Ordering| match end {
            None => !matches!(leaf, Leaf::Bool(_)),
            Some(end) => order(end).is_some_and(|o| o == beyond || (end.inclusive && o.is_eq())),
        };
        within(&self.lower, Ordering::Greater) && within(&self.upper, Ordering::Less)
    }
}
