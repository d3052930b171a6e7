//! Splits query text into tokens, resolving escapes and rejecting unsupported Lucene syntax early.
//!
//! Inside `[ … ]` / `{ … }` the rules change, as in Lucene: a bound runs until whitespace, `]` or
//! `}`, so `created_at:[2024-01-01T00:00:00Z TO *]` and `[-5 TO 5]` need no quoting.

use crate::error::{ErrorKind, ParseError};

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    /// Byte offset of the token's first character.
    pub at: usize,
    /// The token's source text, for error messages.
    pub raw: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    LParen,
    RParen,
    /// `[` (inclusive) or `{` (exclusive).
    RangeOpen {
        inclusive: bool,
    },
    /// `]` (inclusive) or `}` (exclusive).
    RangeClose {
        inclusive: bool,
    },
    Colon,
    /// `AND` or `&&`.
    And,
    /// `OR` or `||`.
    Or,
    /// `NOT`, `!`, or `-` at the start of a term.
    Not,
    /// A bare word split on its unescaped `*`: one segment means no wildcard.
    Word(Vec<String>),
    /// A quoted phrase, unescaped.
    Phrase(String),
    /// A bound inside a range, unescaped.
    Bound(String),
    /// `TO` inside a range.
    To,
    /// A bare `*` inside a range: an open end.
    Star,
}

/// Characters that end a bare word (besides whitespace).
fn ends_word(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '[' | ']' | '{' | '}' | ':' | '"' | '^' | '~' | '/' | '!'
        )
}

pub(crate) fn tokenize(input: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let mut lexer = Lexer { input, pos: 0 };
    let mut tokens = Vec::new();
    // Where the open range started, while inside one.
    let mut range_start: Option<usize> = None;
    loop {
        lexer.skip_whitespace();
        let at = lexer.pos;
        let Some(c) = lexer.peek() else { break };
        let kind = if range_start.is_some() {
            lexer.range_token(c)?
        } else {
            lexer.token(c)?
        };
        match kind {
            Kind::RangeOpen { .. } => range_start = Some(at),
            Kind::RangeClose { .. } => range_start = None,
            _ => {}
        }
        tokens.push(Token {
            kind,
            at,
            raw: &input[at..lexer.pos],
        });
    }
    match range_start {
        Some(at) => Err(ParseError::at(ErrorKind::UnterminatedRange, at)),
        None => Ok(tokens),
    }
}

struct Lexer<'a> {
    input: &'a str,
    /// Byte offset of the next character; always on a character boundary.
    pos: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.input.get(self.pos..)?.chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.input.get(self.pos..)?.chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// A token outside ranges, starting with `c`.
    fn token(&mut self, c: char) -> Result<Kind, ParseError> {
        let at = self.pos;
        match c {
            '"' => return self.phrase(),
            '&' | '|' if self.peek_second() == Some(c) => {
                self.bump();
                self.bump();
                return Ok(if c == '&' { Kind::And } else { Kind::Or });
            }
            '+' => return Err(ParseError::at(ErrorKind::Plus, at)),
            '~' | '^' | '/' => return Err(ParseError::at(ErrorKind::Unsupported { found: c }, at)),
            '?' => return Err(ParseError::at(ErrorKind::QuestionMark, at)),
            _ => {}
        }
        let kind = match c {
            '(' => Kind::LParen,
            ')' => Kind::RParen,
            '[' => Kind::RangeOpen { inclusive: true },
            '{' => Kind::RangeOpen { inclusive: false },
            ']' => Kind::RangeClose { inclusive: true },
            '}' => Kind::RangeClose { inclusive: false },
            ':' => Kind::Colon,
            '!' | '-' => Kind::Not,
            _ => return self.word(),
        };
        self.bump();
        Ok(kind)
    }

    /// A bare word; `AND`, `OR` and `NOT` written without escapes are operators.
    fn word(&mut self) -> Result<Kind, ParseError> {
        let start = self.pos;
        let mut segments = vec![String::new()];
        while let Some(c) = self.peek() {
            if ends_word(c) {
                break;
            }
            let at = self.pos;
            self.bump();
            match c {
                '\\' => {
                    let escaped = self.escaped(at)?;
                    push_last(&mut segments, escaped);
                }
                '*' => segments.push(String::new()),
                '?' => return Err(ParseError::at(ErrorKind::QuestionMark, at)),
                _ => push_last(&mut segments, c),
            }
        }
        Ok(match &self.input[start..self.pos] {
            "AND" => Kind::And,
            "OR" => Kind::Or,
            "NOT" => Kind::Not,
            _ => Kind::Word(segments),
        })
    }

    /// The character after a `\` found at `at`.
    fn escaped(&mut self, at: usize) -> Result<char, ParseError> {
        self.bump()
            .ok_or(ParseError::at(ErrorKind::DanglingEscape, at))
    }

    /// A quoted phrase; the opening `"` is next.
    fn phrase(&mut self) -> Result<Kind, ParseError> {
        let start = self.pos;
        self.bump();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => return Err(ParseError::at(ErrorKind::UnterminatedPhrase, start)),
                Some('"') => return Ok(Kind::Phrase(text)),
                Some('\\') => match self.bump() {
                    Some(c) => text.push(c),
                    None => return Err(ParseError::at(ErrorKind::UnterminatedPhrase, start)),
                },
                Some(c) => text.push(c),
            }
        }
    }

    /// A token inside a range, starting with `c`.
    fn range_token(&mut self, c: char) -> Result<Kind, ParseError> {
        match c {
            ']' | '}' => {
                self.bump();
                return Ok(Kind::RangeClose {
                    inclusive: c == ']',
                });
            }
            '"' => return self.phrase(),
            _ => {}
        }
        let start = self.pos;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ']' | '}') {
                break;
            }
            let at = self.pos;
            self.bump();
            if c == '\\' {
                text.push(self.escaped(at)?);
            } else {
                text.push(c);
            }
        }
        Ok(match &self.input[start..self.pos] {
            "TO" => Kind::To,
            "*" => Kind::Star,
            _ => Kind::Bound(text),
        })
    }
}

fn push_last(segments: &mut [String], c: char) {
    if let Some(last) = segments.last_mut() {
        last.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<Kind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn word(s: &str) -> Kind {
        Kind::Word(s.split('*').map(str::to_owned).collect())
    }

    #[test]
    fn operators_and_words() {
        assert_eq!(
            kinds("a AND b && c OR d || NOT e !f -g and"),
            vec![
                word("a"),
                Kind::And,
                word("b"),
                Kind::And,
                word("c"),
                Kind::Or,
                word("d"),
                Kind::Or,
                Kind::Not,
                word("e"),
                Kind::Not,
                word("f"),
                Kind::Not,
                word("g"),
                word("and"),
            ]
        );
    }

    #[test]
    fn inner_dash_plus_and_pipe_are_literal() {
        assert_eq!(
            kinds("jane-doe+x@a.com a|b a&b"),
            vec![word("jane-doe+x@a.com"), word("a|b"), word("a&b")]
        );
    }

    #[test]
    fn escapes_and_wildcards() {
        assert_eq!(
            kinds(r"auth0\|abc \AND jo\*n* "),
            vec![
                word("auth0|abc"),
                word("AND"),
                Kind::Word(vec!["jo*n".into(), String::new()]),
            ]
        );
    }

    #[test]
    fn range_bounds_take_anything_but_whitespace_and_brackets() {
        assert_eq!(
            kinds("x:[2024-01-01T00:00:00Z TO *}"),
            vec![
                word("x"),
                Kind::Colon,
                Kind::RangeOpen { inclusive: true },
                Kind::Bound("2024-01-01T00:00:00Z".into()),
                Kind::To,
                Kind::Star,
                Kind::RangeClose { inclusive: false },
            ]
        );
    }

    #[test]
    fn positions_are_byte_offsets() {
        let tokens = tokenize("é:(a)").unwrap();
        let at: Vec<usize> = tokens.iter().map(|t| t.at).collect();
        assert_eq!(at, vec![0, 2, 3, 4, 5]);
    }
}
