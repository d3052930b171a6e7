//! Auth0 user search queries (search engine v3, a Lucene subset): parse, print, escape and,
//! with the `eval` feature, evaluate them against user JSON.
//!
//! Two consumers: the gateway parses a caller's `q`, rejects malformed input with a message that
//! names the problem and its byte position, and re-prints it in canonical form to wrap it as
//! `(<canonical>) AND (<scope filter>)`; the tenant emulator evaluates queries against users
//! stored as the JSON Auth0 returns for `GET /api/v2/users/{id}`. The gateway evaluates them
//! too, against the users it wrote lately, which Auth0's lagging index may not return yet.
//!
//! # Layout
//! - `lexer`: text to tokens; escapes; early rejection of `?`, `~`, `^`, `/` and `+`.
//! - `parser`: tokens to [`Query`], precedence, groups, ranges, depth and length bounds.
//! - `ast`: [`Query`], [`Value`], [`Bound`], [`Field`], [`Pattern`].
//! - `rules`: which field behaves how; the semantic rules shared by parser and evaluator.
//! - `print`: the canonical `Display`.
//! - `escape`: [`quote`] and [`escape`] for placing user input in a query.
//! - `date`: `YYYY-MM-DD` and RFC 3339, without a date library.
//! - `eval` (feature `eval`): `Filter`, compiled once, matched against each user.
//!
//! # Syntax
//! - `field:value`, `field:"exact phrase"`, `field:(a OR b OR c)` (only `OR`, explicit or by
//!   adjacency, inside the group), `_exists_:field`, `field:*` (the same as `_exists_:field`),
//!   `*:*` (every user), parentheses.
//! - Operators, upper case only: `AND`/`&&`, `OR`/`||`, `NOT`/`!`, and `-` before a clause.
//!   Lower-case `and`, `or`, `not` are plain words. `NOT` binds tightest, then `AND`, then `OR`.
//! - Adjacent clauses without an operator are joined by `OR`, Lucene's default operator
//!   (*unconfirmed* for Auth0). As in Lucene, a negated clause joined by adjacency excludes
//!   instead: `a b -c` means `(a OR b) AND NOT c`, and `-c` alone means every user but `c`
//!   (Elasticsearch's reading of a purely negative query). An explicit `a OR NOT b` means
//!   exactly that.
//! - Escapes: `\` followed by any character is that character (`auth0\|abc`), whitespace of
//!   any kind and control characters included: `jane\ doe` and `jane\<tab>` are one word each,
//!   also when the escaped whitespace is the last character of the query. So query text must
//!   be parsed as it is, never trimmed first (trimming `jane\<tab>` leaves a dangling `\`);
//!   [`parse`] skips unescaped whitespace around clauses itself. A `\` with nothing after it is
//!   refused, as Lucene refuses it. Lucene's `\uXXXX` escape is not read: `\u0041` is the word
//!   `u0041` here, where Lucene would read `A` (the printer never writes `\u`, so what the
//!   gateway sends means what it read). Inside a phrase only `\"` and `\\` need escaping.
//!   Special characters in a bare word: `( ) [ ] { } : " ^ ~ / !` and whitespace end it; `-` and
//!   `+` only matter at its start; a single `&` or `|` is literal.
//! - Wildcards: `*` only, trailing (`jo*`), inner (`j*n`) or leading with at least 3 literal
//!   characters in the whole pattern (`*son`). `?` is rejected rather than read literally.
//! - Ranges: `[a TO b]` inclusive, `{a TO b}` exclusive, mixed `{a TO b]`, `*` for an open end.
//!   As in Lucene, a bound runs until whitespace or a closing bracket, so date-times need no
//!   quotes inside a range; quoted bounds work too. A range needs a field.
//! - Rejected with a message: fuzzy `~`, boost `^`, regular expressions `/…/`, the `+`
//!   (required) prefix, empty or whitespace-only input (callers treat an absent `q` as
//!   match-all themselves), input over [`MAX_LEN`] bytes, nesting deeper than [`MAX_DEPTH`].
//!
//! # Semantics (checked by the parser and by `Filter::new`)
//! - Values are whole keywords, never tokenized: `name:jane` does not match "Jane Smith";
//!   `name:"jane smith"` and `name:jane*` do. A word and a phrase with the same text match the
//!   same users.
//! - `email`, `email.domain`, `name`, `given_name`, `family_name`, `nickname` match
//!   case-insensitively (Unicode lower case); every other field, metadata included, is
//!   case-sensitive.
//! - `user_id` matches exactly and case-sensitively; wildcards and ranges on it are rejected
//!   (Auth0 documents exact matching only; whether it would accept a wildcard is
//!   *unconfirmed*).
//! - No wildcards on `user_metadata.*` or `app_metadata.*`; no ranges on `user_metadata.*`.
//! - Typed fields: `created_at`, `updated_at`, `last_login`, `last_password_reset` are dates and
//!   `logins_count` a number; their values and bounds must parse as such, and wildcards on them
//!   are rejected (as Elasticsearch does on date and numeric fields).
//! - A term without a field searches [`DEFAULT_FIELDS`] (`user_id`, `email`, `name`,
//!   `nickname`, `given_name`, `family_name`, `username`, `phone_number`), each with its own case
//!   rule; a wildcard skips `user_id`. Which fields Auth0 searches is *unconfirmed*.
//!
//! With the `eval` feature, `Filter`'s documentation says how values are compared.

mod ast;
// The parser only validates dates; comparing them is for `eval`.
#[cfg_attr(not(feature = "eval"), allow(dead_code))]
mod date;
mod error;
mod escape;
mod lexer;
mod parser;
mod print;
mod rules;

#[cfg(feature = "eval")]
mod eval;

pub use ast::{Bound, Field, Pattern, Query, Value};
pub use error::{ErrorKind, ParseError};
pub use escape::{escape, quote};
pub use parser::{MAX_DEPTH, MAX_LEN, parse};
pub use rules::DEFAULT_FIELDS;

#[cfg(feature = "eval")]
pub use eval::{CandidateField, Candidates, Filter};
