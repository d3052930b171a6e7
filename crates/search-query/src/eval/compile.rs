//! Turns a checked [`Query`] into the [`Node`] tree evaluated per user, doing every per-query
//! computation (folding, number and date parsing, pattern splitting) once.

use super::node::{DateSpan, End, Literal, Node, Path, Range, Test};
use super::text::{self, Glob};
use crate::ast::{Bound, Query, Value};
use crate::date::{self, Date};
use crate::error::{ErrorKind, ParseError};
use crate::rules::{self, DEFAULT_FIELDS, FieldKind};

pub(crate) fn compile(query: &Query) -> Result<Node, ParseError> {
    Ok(match query {
        Query::All => Node::All,
        Query::Exists(field) => Node::Exists(Path::of(field.as_str())),
        Query::Term {
            field: Some(field),
            value,
        } => {
            rules::check(Some(field), value).map_err(ParseError::new)?;
            term(field.as_str(), value)?
        }
        Query::Term { field: None, value } => {
            rules::check(None, value).map_err(ParseError::new)?;
            // `user_id` only matches exactly, so a pattern does not look at it.
            let skip_user_id = has_wildcard(value);
            let fields = DEFAULT_FIELDS
                .iter()
                .filter(|f| !(skip_user_id && **f == "user_id"));
            Node::Or(
                fields
                    .map(|field| term(field, value))
                    .collect::<Result<_, _>>()?,
            )
        }
        Query::And(members) => Node::And(members.iter().map(compile).collect::<Result<_, _>>()?),
        Query::Or(members) => Node::Or(members.iter().map(compile).collect::<Result<_, _>>()?),
        Query::Not(inner) => Node::Not(Box::new(compile(inner)?)),
    })
}

fn has_wildcard(value: &Value) -> bool {
    match value {
        Value::Wildcard(_) => true,
        Value::Any(values) => values.iter().any(has_wildcard),
        Value::Word(_) | Value::Phrase(_) | Value::Range { .. } => false,
    }
}

fn term(field: &str, value: &Value) -> Result<Node, ParseError> {
    Ok(Node::Match {
        path: Path::of(field),
        test: test(field, rules::kind_of(field), value)?,
    })
}

fn test(field: &str, kind: FieldKind, value: &Value) -> Result<Test, ParseError> {
    let ci = kind == FieldKind::CaseInsensitive;
    Ok(match value {
        Value::Word(text) | Value::Phrase(text) if kind == FieldKind::Date => {
            let date = parse_date(field, text)?;
            Test::Dates(DateSpan {
                from: Some(date.start()),
                until: Some(date.end()),
            })
        }
        Value::Word(text) | Value::Phrase(text) => Test::Equals(Literal::new(text, ci)),
        Value::Wildcard(pattern) => Test::Glob(Glob::new(pattern, ci)),
        Value::Range { lower, upper } if kind == FieldKind::Date => {
            // A date-only bound stands for its whole day: `[d` starts at d, `{d` after it,
            // `d]` ends after it, `d}` before it.
            let from = match lower {
                Bound::Unbounded => None,
                Bound::Inclusive(text) => Some(parse_date(field, text)?.start()),
                Bound::Exclusive(text) => Some(parse_date(field, text)?.end()),
            };
            let until = match upper {
                Bound::Unbounded => None,
                Bound::Inclusive(text) => Some(parse_date(field, text)?.end()),
                Bound::Exclusive(text) => Some(parse_date(field, text)?.start()),
            };
            Test::Dates(DateSpan { from, until })
        }
        Value::Range { lower, upper } => Test::Range(Range {
            lower: end(lower, ci),
            upper: end(upper, ci),
            ci,
        }),
        Value::Any(values) => Test::AnyOf(
            values
                .iter()
                .map(|v| test(field, kind, v))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn end(bound: &Bound, ci: bool) -> Option<End> {
    let (text, inclusive) = match bound {
        Bound::Unbounded => return None,
        Bound::Inclusive(text) => (text, true),
        Bound::Exclusive(text) => (text, false),
    };
    Some(End {
        text: if ci { text::fold(text) } else { text.clone() }.into_boxed_str(),
        number: rules::number(text),
        inclusive,
    })
}

fn parse_date(field: &str, text: &str) -> Result<Date, ParseError> {
    date::parse(text).ok_or_else(|| {
        ParseError::new(ErrorKind::InvalidDate {
            field: field.to_owned(),
            value: text.to_owned(),
        })
    })
}
