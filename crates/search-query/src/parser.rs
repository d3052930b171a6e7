//! Builds a [`Query`] from tokens: operator precedence, field clauses, groups and ranges.
//!
//! Grammar, loosest first (`NOT` binds tightest, then `AND`, then `OR`):
//!
//! ```text
//! query   := or EOF
//! or      := and ((OR | nothing) and)*
//! and     := unary (AND unary)*
//! unary   := NOT unary | primary
//! primary := "(" or ")" | "*:*" | FIELD ":" value | "_exists_:" FIELD | word | phrase
//! value   := word | phrase | range | "(" value ((OR | nothing) value)* ")"
//! ```
//!
//! Recursion only happens through `(` and `NOT`, both counted against [`MAX_DEPTH`].

use crate::ast::{Bound, Field, Pattern, Query, Value};
use crate::error::{ErrorKind, ParseError};
use crate::lexer::{self, Kind, Token};
use crate::rules;

/// How deeply parentheses and `NOT` may nest.
pub const MAX_DEPTH: usize = 32;

/// The longest query accepted, in bytes; far above what fits in a URL Auth0 accepts.
pub const MAX_LEN: usize = 64 * 1024;

/// Parses a query, rejecting anything the search syntax does not support. Never panics.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    if input.len() > MAX_LEN {
        return Err(ParseError::new(ErrorKind::TooLong {
            len: input.len(),
            max: MAX_LEN,
        }));
    }
    if input.trim().is_empty() {
        return Err(ParseError::new(ErrorKind::Empty));
    }
    let tokens = lexer::tokenize(input)?;
    let mut parser = Parser {
        tokens: &tokens,
        next: 0,
        depth: 0,
        end: input.len(),
    };
    let query = parser.or()?;
    match parser.peek() {
        None => Ok(query),
        Some(token) if token.kind == Kind::RParen => {
            Err(ParseError::at(ErrorKind::UnbalancedParenthesis, token.at))
        }
        Some(token) => Err(parser.unexpected(token, "an operator or the end of the query")),
    }
}

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    next: usize,
    /// Current nesting of `(` and `NOT`.
    depth: usize,
    /// The input length: where "end of query" is.
    end: usize,
}

/// One operand of an `OR` level, with how it was joined.
struct Operand {
    query: Query,
    /// Written as `NOT x`, `!x` or `-x` on its own (not inside an `AND`).
    negated: bool,
    /// Joined to the previous operand by adjacency rather than an explicit `OR`.
    implicit: bool,
}

impl<'t, 'a> Parser<'t, 'a> {
    fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.next)
    }

    fn peek_kind(&self) -> Option<&'t Kind> {
        self.peek().map(|t| &t.kind)
    }

    fn bump(&mut self) -> Option<&'t Token<'a>> {
        let token = self.tokens.get(self.next)?;
        self.next += 1;
        Some(token)
    }

    fn unexpected(&self, token: &Token<'_>, expected: &'static str) -> ParseError {
        ParseError::at(
            ErrorKind::Unexpected {
                expected,
                found: describe(token),
            },
            token.at,
        )
    }

    fn unexpected_end(&self, expected: &'static str) -> ParseError {
        let found = "end of query".to_owned();
        ParseError::at(ErrorKind::Unexpected { expected, found }, self.end)
    }

    /// Consumes the next token, or reports what was expected instead of the end.
    fn expect_token(&mut self, expected: &'static str) -> Result<&'t Token<'a>, ParseError> {
        self.bump().ok_or_else(|| self.unexpected_end(expected))
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::at(ErrorKind::TooDeep { max: MAX_DEPTH }, at));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `a OR b`, `a b`: see [`combine`] for how adjacent negations are read.
    fn or(&mut self) -> Result<Query, ParseError> {
        let (query, negated) = self.and()?;
        let mut operands = vec![Operand {
            query,
            negated,
            implicit: false,
        }];
        loop {
            let implicit = match self.peek_kind() {
                Some(Kind::Or) => {
                    self.bump();
                    false
                }
                Some(kind) if starts_clause(kind) => true,
                _ => break,
            };
            let (query, negated) = self.and()?;
            operands.push(Operand {
                query,
                negated,
                implicit,
            });
        }
        Ok(combine(operands))
    }

    /// `a AND b AND c`; also says whether it was a single prefix negation.
    fn and(&mut self) -> Result<(Query, bool), ParseError> {
        let negated = self.peek_kind() == Some(&Kind::Not);
        let mut operands = vec![self.unary()?];
        while self.peek_kind() == Some(&Kind::And) {
            self.bump();
            operands.push(self.unary()?);
        }
        let negated = negated && operands.len() == 1;
        Ok((one_or(operands, Query::And), negated))
    }

    fn unary(&mut self) -> Result<Query, ParseError> {
        match self.peek() {
            Some(token) if token.kind == Kind::Not => {
                self.bump();
                self.enter(token.at)?;
                let inner = self.unary()?;
                self.leave();
                Ok(Query::Not(Box::new(inner)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Query, ParseError> {
        const EXPECTED: &str = "a clause";
        let token = self.expect_token(EXPECTED)?;
        match &token.kind {
            Kind::LParen => {
                self.enter(token.at)?;
                let query = self.or()?;
                match self.bump() {
                    Some(close) if close.kind == Kind::RParen => {}
                    Some(other) => return Err(self.unexpected(other, "`)` or an operator")),
                    None => return Err(ParseError::at(ErrorKind::UnbalancedParenthesis, token.at)),
                }
                self.leave();
                Ok(query)
            }
            Kind::Word(segments) if self.peek_kind() == Some(&Kind::Colon) => {
                self.bump();
                self.field_clause(token, segments)
            }
            Kind::Word(segments) => {
                let value =
                    word_value(segments).ok_or(ParseError::at(ErrorKind::BareStar, token.at))?;
                term(None, value, token.at)
            }
            Kind::Phrase(text) => term(None, Value::Phrase(text.clone()), token.at),
            Kind::RangeOpen { .. } => Err(ParseError::at(ErrorKind::RangeNeedsField, token.at)),
            // Inside parentheses a `)` here closes them too early (`(a AND )`, `()`).
            Kind::RParen if self.depth == 0 => {
                Err(ParseError::at(ErrorKind::UnbalancedParenthesis, token.at))
            }
            _ => Err(self.unexpected(token, EXPECTED)),
        }
    }

    /// What follows `name:`; `name` is the word token before the colon.
    fn field_clause(&mut self, name: &Token<'_>, segments: &[String]) -> Result<Query, ParseError> {
        const EXPECTED: &str = "a value after `:`";
        let [path] = segments else {
            // `*:*` is the only field with a wildcard.
            if name.raw == "*" && self.peek().is_some_and(|t| t.raw == "*") {
                self.bump();
                return Ok(Query::All);
            }
            return Err(ParseError::at(ErrorKind::WildcardInField, name.at));
        };
        if path == "_exists_" {
            return self.exists_clause();
        }
        let invalid = || ErrorKind::InvalidField { name: path.clone() };
        let field = Field::new(path.clone()).ok_or_else(|| ParseError::at(invalid(), name.at))?;
        let token = self.expect_token(EXPECTED)?;
        let value = match &token.kind {
            Kind::Word(segments) => match word_value(segments) {
                Some(value) => value,
                None => return Ok(Query::Exists(field)),
            },
            Kind::Phrase(text) => Value::Phrase(text.clone()),
            Kind::RangeOpen { inclusive } => self.range(*inclusive)?,
            Kind::LParen => self.group(token.at, &field)?,
            _ => return Err(self.unexpected(token, EXPECTED)),
        };
        term(Some(field), value, token.at)
    }

    /// What follows `_exists_:`: one plain field name.
    fn exists_clause(&mut self) -> Result<Query, ParseError> {
        let token = self.expect_token("a field name after `_exists_:`")?;
        let Kind::Word(segments) = &token.kind else {
            return Err(ParseError::at(ErrorKind::ExistsNeedsField, token.at));
        };
        let [path] = segments.as_slice() else {
            return Err(ParseError::at(ErrorKind::WildcardInField, token.at));
        };
        let invalid = || ErrorKind::InvalidField { name: path.clone() };
        Field::new(path.clone())
            .map(Query::Exists)
            .ok_or_else(|| ParseError::at(invalid(), token.at))
    }

    /// `(a OR b c)` after `field:`; the `(` at `open` is consumed. Values only, joined by `OR`.
    fn group(&mut self, open: usize, field: &Field) -> Result<Value, ParseError> {
        const EXPECTED: &str = "a value";
        let mut values = Vec::new();
        loop {
            let Some(token) = self.bump() else {
                return Err(ParseError::at(ErrorKind::UnbalancedParenthesis, open));
            };
            let value = match &token.kind {
                Kind::Word(segments) => {
                    word_value(segments).ok_or(ParseError::at(ErrorKind::BareStar, token.at))?
                }
                Kind::Phrase(text) => Value::Phrase(text.clone()),
                Kind::RangeOpen { inclusive } => self.range(*inclusive)?,
                Kind::RParen if values.is_empty() => {
                    return Err(ParseError::at(ErrorKind::EmptyGroup, open));
                }
                Kind::And | Kind::Not => {
                    return Err(ParseError::at(ErrorKind::GroupOperator, token.at));
                }
                _ => return Err(self.unexpected(token, EXPECTED)),
            };
            rules::check(Some(field), &value).map_err(|kind| ParseError::at(kind, token.at))?;
            values.push(value);
            match self.peek() {
                Some(t) if t.kind == Kind::Or => {
                    self.bump();
                }
                Some(t) if t.kind == Kind::RParen => {
                    self.bump();
                    break;
                }
                Some(t) if matches!(t.kind, Kind::And | Kind::Not) => {
                    return Err(ParseError::at(ErrorKind::GroupOperator, t.at));
                }
                Some(_) => {}
                None => return Err(ParseError::at(ErrorKind::UnbalancedParenthesis, open)),
            }
        }
        Ok(one_or(values, Value::Any))
    }

    /// `[a TO b]` and its variants; the opening bracket is consumed.
    fn range(&mut self, lower_inclusive: bool) -> Result<Value, ParseError> {
        let lower = self.bound_text("a lower bound")?;
        let to = self.expect_token("`TO`")?;
        if to.kind != Kind::To {
            return Err(self.unexpected(to, "`TO`"));
        }
        // Whether the upper bound is inclusive is only known from the bracket after it.
        let upper = self.bound_text("an upper bound")?;
        let close = self.expect_token("`]` or `}`")?;
        let Kind::RangeClose { inclusive } = close.kind else {
            return Err(self.unexpected(close, "`]` or `}`"));
        };
        Ok(Value::Range {
            lower: bound(lower, lower_inclusive),
            upper: bound(upper, inclusive),
        })
    }

    /// A range bound's text, `None` for `*`.
    fn bound_text(&mut self, expected: &'static str) -> Result<Option<&'t String>, ParseError> {
        let token = self.expect_token(expected)?;
        match &token.kind {
            Kind::Star => Ok(None),
            Kind::Bound(text) | Kind::Phrase(text) => Ok(Some(text)),
            _ => Err(self.unexpected(token, expected)),
        }
    }
}

fn bound(text: Option<&String>, inclusive: bool) -> Bound {
    match text {
        None => Bound::Unbounded,
        Some(text) if inclusive => Bound::Inclusive(text.clone()),
        Some(text) => Bound::Exclusive(text.clone()),
    }
}

/// Whether a token can begin an operand, so that adjacency means an implicit `OR`.
fn starts_clause(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::LParen | Kind::Not | Kind::Word(_) | Kind::Phrase(_) | Kind::RangeOpen { .. }
    )
}

/// The value of a bare word, or `None` for a lone `*`.
fn word_value(segments: &[String]) -> Option<Value> {
    match segments {
        [word] => Some(Value::Word(word.clone())),
        [a, b] if a.is_empty() && b.is_empty() => None,
        _ => Pattern::new(segments.to_vec()).map(Value::Wildcard),
    }
}

fn term(field: Option<Field>, value: Value, at: usize) -> Result<Query, ParseError> {
    rules::check(field.as_ref(), &value).map_err(|kind| ParseError::at(kind, at))?;
    Ok(Query::Term { field, value })
}

/// Joins the operands of one `OR` level.
///
/// Explicit `OR` means what it says. Adjacent operands default to `OR` too, except that a negated
/// operand joined by adjacency (`a b -c`, `-c a`) excludes, as Lucene's `MUST_NOT` does:
/// `(a OR b) AND NOT c`.
fn combine(operands: Vec<Operand>) -> Query {
    let first_followed_implicitly = operands.get(1).is_some_and(|o| o.implicit);
    let mut positives = Vec::new();
    let mut exclusions = Vec::new();
    for (index, operand) in operands.into_iter().enumerate() {
        let adjacent = operand.implicit || (index == 0 && first_followed_implicitly);
        if operand.negated && adjacent {
            exclusions.push(operand.query);
        } else {
            positives.push(operand.query);
        }
    }
    if exclusions.is_empty() {
        return one_or(positives, Query::Or);
    }
    if !positives.is_empty() {
        exclusions.insert(0, one_or(positives, Query::Or));
    }
    one_or(exclusions, Query::And)
}

/// The only item of `items`, or `many(items)` when there are several.
pub(crate) fn one_or<T>(mut items: Vec<T>, many: impl FnOnce(Vec<T>) -> T) -> T {
    if items.len() == 1
        && let Some(item) = items.pop()
    {
        return item;
    }
    many(items)
}

/// How a token is named in an error message.
fn describe(token: &Token<'_>) -> String {
    const LONGEST: usize = 40;
    match token.raw.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("`{}…`", &token.raw[..cut]),
        None => format!("`{}`", token.raw),
    }
}
