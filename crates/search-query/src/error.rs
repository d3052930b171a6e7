//! Why a query was refused: one error type for syntax (with the byte position) and semantics.

use std::fmt;

/// A query that cannot be used, with what is wrong and, when it comes from text, where.
///
/// Its message is meant for the person who wrote the query, e.g.
/// "unbalanced parenthesis at 12".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}{}", Position(*.at))]
pub struct ParseError {
    kind: ErrorKind,
    at: Option<usize>,
}

impl ParseError {
    pub(crate) fn at(kind: ErrorKind, at: usize) -> Self {
        Self { kind, at: Some(at) }
    }

    /// An error without a position: about the whole input, or a query built in code.
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self { kind, at: None }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The byte offset in the input where the problem was found, when the query came from text.
    pub fn position(&self) -> Option<usize> {
        self.at
    }
}

/// Formats " at N" after the message, or nothing when the position is unknown.
struct Position(Option<usize>);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(at) => write!(f, " at {at}"),
            None => Ok(()),
        }
    }
}

/// What is wrong with a query. New kinds may be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("empty query")]
    Empty,
    #[error("query too long: {len} bytes, at most {max}")]
    TooLong { len: usize, max: usize },
    #[error("query nested deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("unbalanced parenthesis")]
    UnbalancedParenthesis,
    #[error("unterminated phrase: missing closing `\"`")]
    UnterminatedPhrase,
    #[error("unterminated range: missing `]` or `}}`")]
    UnterminatedRange,
    #[error("`\\` at the end of the query escapes nothing")]
    DanglingEscape,
    #[error("`?` wildcards are not supported (escape a literal `?` as `\\?`)")]
    QuestionMark,
    #[error(
        "fuzzy (`~`), boost (`^`) and regular expressions are not supported: found `{found}` \
         (escape a literal one with `\\`)"
    )]
    Unsupported { found: char },
    #[error("`+` (required clause) is not supported: use `AND`, or escape a literal `+` as `\\+`")]
    Plus,
    #[error("expected {expected}, found {found}")]
    Unexpected {
        expected: &'static str,
        found: String,
    },
    #[error("invalid field name `{name}`")]
    InvalidField { name: String },
    #[error("wildcards are not allowed in field names (only `*:*`)")]
    WildcardInField,
    #[error("`*` alone is not a query: use `field:*` or `*:*`")]
    BareStar,
    #[error("`_exists_:` takes one field name")]
    ExistsNeedsField,
    #[error("a range needs a field, e.g. `logins_count:[1 TO 5]`")]
    RangeNeedsField,
    #[error("only `OR` may join the values inside `field:( … )`")]
    GroupOperator,
    #[error("empty value group `()`")]
    EmptyGroup,
    #[error("leading wildcard needs at least 3 literal characters: `{pattern}`")]
    ShortLeadingWildcard { pattern: String },
    #[error("wildcards are not supported on metadata field `{field}`")]
    WildcardOnMetadata { field: String },
    #[error("ranges are not supported on user_metadata field `{field}`")]
    RangeOnUserMetadata { field: String },
    #[error("`user_id` is matched exactly: wildcards and ranges are not supported on it")]
    UserIdNotExact,
    #[error("wildcards are not supported on `{field}`")]
    WildcardOnTypedField { field: String },
    #[error(
        "invalid date `{value}` for `{field}`: expected YYYY-MM-DD or RFC 3339 \
         (quote a date-time: \"2024-05-01T10:20:30Z\")"
    )]
    InvalidDate { field: String, value: String },
    #[error("`{field}` takes a number, found `{value}`")]
    InvalidNumber { field: String, value: String },
}
