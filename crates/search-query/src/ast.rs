//! The parsed form of a query: what `parse` returns, `Display` prints and `Filter` evaluates.

/// A search query.
///
/// [`crate::parse`] only produces `And` and `Or` with at least two members, `Any` groups with at
/// least two values and no nested `Any`, and `Range` values only under a field. Queries built in
/// code may break these rules; they still print as one balanced expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `*:*`: every user.
    All,
    /// `_exists_:field` or `field:*`: the field is present with a non-null value.
    Exists(Field),
    /// `field:value`, or a bare `value` searched in the default fields when `field` is `None`.
    Term { field: Option<Field>, value: Value },
    /// Every member matches.
    And(Vec<Query>),
    /// At least one member matches.
    Or(Vec<Query>),
    /// The inner query does not match.
    Not(Box<Query>),
}

/// The value side of a term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A bare word, unescaped (`auth0\|abc` is the word `auth0|abc`).
    Word(String),
    /// A quoted phrase, unescaped. Matches exactly like a word: values are whole keywords.
    Phrase(String),
    /// A word containing at least one unescaped `*`.
    Wildcard(Pattern),
    /// `[a TO b]`, `{a TO b}`, mixed, with `*` for an open end.
    Range { lower: Bound, upper: Bound },
    /// `field:(a OR b OR c)`: any of the values.
    Any(Vec<Value>),
}

/// One end of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// `*`: no limit on this side.
    Unbounded,
    /// `[` or `]` side: the bound itself is included.
    Inclusive(String),
    /// `{` or `}` side: the bound itself is excluded.
    Exclusive(String),
}

/// A field path such as `email`, `identities.connection` or `user_metadata.address.city`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field(String);

impl Field {
    /// A field from its dotted path; `None` when the path or one of its segments is empty.
    pub fn new(path: impl Into<String>) -> Option<Self> {
        let path = path.into();
        if path.split('.').any(str::is_empty) {
            return None;
        }
        Some(Self(path))
    }

    /// The dotted path, unescaped.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path's segments (`user_metadata.address.city` → `user_metadata`, `address`, `city`).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('.')
    }
}

/// A wildcard pattern: literal segments separated by `*` (`j*n` is `["j", "n"]`, `jo*` is
/// `["jo", ""]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<String>);

impl Pattern {
    /// A pattern from its literal segments; `None` unless there are at least two (one `*`).
    pub fn new(segments: Vec<String>) -> Option<Self> {
        (segments.len() >= 2).then_some(Self(segments))
    }

    /// The literal text between the stars, unescaped.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// How many literal characters the pattern has (the leading-wildcard rule counts these).
    pub fn literal_chars(&self) -> usize {
        self.0.iter().map(|s| s.chars().count()).sum()
    }

    /// Whether the pattern starts with `*`.
    pub fn is_leading(&self) -> bool {
        self.0.first().is_some_and(String::is_empty)
    }
}
