//! Properties: parsing never panics, printing round-trips and cannot be escaped, and quoted or
//! escaped user input reads back exactly.
// Helpers outside #[test] functions unwrap too: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use search_query::{Bound, Pattern, Query, Value, escape, parse, quote};

/// Pieces of valid and invalid syntax, inserted into valid queries to make near-valid ones.
const PIECES: &[&str] = &[
    "name:",
    "user_id:",
    "_exists_:",
    "*:*",
    "jane",
    "jo*",
    "*",
    "\"",
    "\\",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    " TO ",
    "AND",
    "OR",
    "NOT",
    "and",
    "-",
    "!",
    "&&",
    "||",
    "+",
    "~",
    "^",
    "?",
    ":",
    "/",
    "2024-01-01T00:00:00Z",
    "é",
    "\u{3000}",
    " ",
];

const FIELDS: &[&str] = &[
    "name",
    "email",
    "user_id",
    "email.domain",
    "identities.connection",
    "app_metadata.roles",
    "user_metadata.city",
    "created_at",
    "logins_count",
    "blocked",
];

const VALUES: &[&str] = &[
    "jane",
    "Jane",
    "jo*",
    "*son",
    "j*n",
    "*",
    "\"a b\"",
    "auth0\\|abc",
    "\"auth0|abc\"",
    "2024-01-01",
    "5",
    "true",
    "é",
    "(a OR b)",
    "(x y)",
    "[1 TO 5]",
    "{2024-01-01 TO *]",
    "[a TO \"z z\"}",
    "jane-doe@x.com",
];

const OPERATORS: &[&str] = &[" AND ", " OR ", " ", " && ", " || ", " AND NOT ", " -"];

fn clause() -> impl Strategy<Value = String> {
    prop_oneof![
        (prop::sample::select(FIELDS), prop::sample::select(VALUES))
            .prop_map(|(field, value)| format!("{field}:{value}")),
        prop::sample::select(VALUES).prop_map(str::to_owned),
        prop::sample::select(FIELDS).prop_map(|field| format!("_exists_:{field}")),
        Just("*:*".to_owned()),
    ]
}

/// Mostly valid query text, sometimes with a stray piece of syntax inserted.
fn near_valid() -> impl Strategy<Value = String> {
    let valid = clause().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(OPERATORS),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a}{op}{b}")),
            inner.clone().prop_map(|q| format!("({q})")),
            (prop::sample::select(vec!["NOT ", "-", "!"]), inner)
                .prop_map(|(op, q)| format!("{op}{q}")),
        ]
    });
    let stray = prop::option::weighted(
        0.5,
        (any::<prop::sample::Index>(), prop::sample::select(PIECES)),
    );
    (valid, stray).prop_map(|(mut text, stray)| {
        if let Some((index, piece)) = stray {
            let mut at = index.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, piece);
        }
        text
    })
}

/// Characters an escape may hide: whitespace of every kind, ASCII controls, Lucene's specials
/// (`+ - && || ! ( ) { } [ ] ^ " ~ * ? : \ /`) and the letters of the keywords.
const ESCAPABLE: &[char] = &[
    ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{2028}', '\u{3000}', '\u{0}',
    '\u{1}', '\u{1b}', '\u{7f}', '+', '-', '&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"',
    '~', '*', '?', ':', '\\', '/', 'A', 'N', 'O', 'T', 'u',
];

/// Query text dense in escapes, whitespace and control characters, unescaped and escaped, with a
/// `\` often last: the inputs where what the lexer reads and what the printer writes can part.
fn escapes() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(ESCAPABLE).prop_map(|c| format!("\\{c}")),
        2 => prop::sample::select(ESCAPABLE).prop_map(String::from),
        1 => any::<char>().prop_map(|c| format!("\\{c}")),
        3 => prop::sample::select(vec![
            "jane", "a", "jo*", "*", "name:", "_exists_:", "user_id:", "NOT ", "!", "-", " AND ",
            " OR ", " ", "(", ")", "[", " TO ", "]", "\"", "\\",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 1..10).prop_map(|pieces| pieces.concat())
}

/// Text for literals: mostly troublesome ASCII, sometimes any Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-zA-Z0-9 |:()\\[\\]{}*?\"\\\\~^/+!&<>=-]{0,8}", 1 => any::<String>()]
}

fn nonempty_text() -> impl Strategy<Value = String> {
    text().prop_filter("non-empty", |s| !s.is_empty())
}

/// A pattern the parser accepts: a leading `*` needs 3 literal characters.
fn pattern() -> impl Strategy<Value = Pattern> {
    prop::collection::vec(text(), 2..4)
        .prop_map(|segments| Pattern::new(segments).unwrap())
        .prop_filter("leading wildcard rule", |p| {
            !p.is_leading() || p.literal_chars() >= 3
        })
}

fn bound() -> impl Strategy<Value = Bound> {
    prop_oneof![
        Just(Bound::Unbounded),
        text().prop_map(Bound::Inclusive),
        text().prop_map(Bound::Exclusive),
    ]
}

/// A value that can stand alone (not a group), wildcards and ranges included when allowed.
fn single(wildcards: bool, ranges: bool) -> BoxedStrategy<Value> {
    let mut options = vec![
        nonempty_text().prop_map(Value::Word).boxed(),
        text().prop_map(Value::Phrase).boxed(),
    ];
    if wildcards {
        options.push(pattern().prop_map(Value::Wildcard).boxed());
    }
    if ranges {
        options.push(
            (bound(), bound())
                .prop_map(|(lower, upper)| Value::Range { lower, upper })
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn value(wildcards: bool, ranges: bool) -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => single(wildcards, ranges),
        1 => prop::collection::vec(single(wildcards, ranges), 2..4).prop_map(Value::Any),
    ]
}

/// Queries of the shapes `parse` returns, on fields whose rules they follow.
fn query() -> impl Strategy<Value = Query> {
    let leaf = prop_oneof![
        Just(Query::All),
        prop::sample::select(vec!["email", "app_metadata.plan", "user_metadata.a b"])
            .prop_map(exists),
        (
            prop::sample::select(vec!["name", "email", "username", "identities.connection"]),
            value(true, true)
        )
            .prop_map(|(path, value)| term(path, value)),
        (
            prop::sample::select(vec!["app_metadata.plan", "user_metadata.city", "user_id"]),
            value(false, false)
        )
            .prop_map(|(path, value)| term(path, value)),
        single(true, false).prop_map(bare),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Query::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Query::Or),
            inner.prop_map(|q| Query::Not(Box::new(q))),
        ]
    })
}

/// `q` printed, wrapped with a scope filter, parses as exactly `q AND scope`.
fn assert_wraps(query: &Query) -> Result<(), TestCaseError> {
    let scope = phrase("user_id", "auth0|scope");
    let wrapped = format!("({query}) AND ({scope})");
    prop_assert_eq!(
        parse(&wrapped),
        Ok(and(vec![query.clone(), scope])),
        "{}",
        wrapped
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(input in any::<String>()) {
        let _ = parse(&input);
    }

    #[test]
    fn parsed_queries_round_trip_and_cannot_escape(input in near_valid()) {
        if let Ok(query) = parse(&input) {
            let printed = query.to_string();
            prop_assert_eq!(parse(&printed), Ok(query.clone()), "{} printed as {}", input, printed);
            assert_wraps(&query)?;
        }
    }

    /// print∘parse is stable on text full of escapes and control characters: the canonical
    /// text parses to the same query (never wider) and prints the same again, so printing it
    /// a second time changes nothing; it stays one expression when wrapped; and unescaped
    /// whitespace before the query means nothing.
    #[test]
    fn escapes_and_control_characters_round_trip(input in escapes()) {
        let parsed = parse(&input);
        prop_assert_eq!(parse(&format!(" \t\n\u{3000}{input}")).ok(), parsed.clone().ok(), "{:?}", input);
        if let Ok(query) = parsed {
            let printed = query.to_string();
            prop_assert_eq!(parse(&printed), Ok(query.clone()), "{:?} printed as {:?}", input, printed);
            prop_assert_eq!(&parse(&printed).unwrap().to_string(), &printed, "{:?}", input);
            assert_wraps(&query)?;
        }
    }

    #[test]
    fn generated_queries_round_trip_and_cannot_escape(query in query()) {
        let printed = query.to_string();
        prop_assert_eq!(parse(&printed), Ok(query.clone()), "{}", printed);
        assert_wraps(&query)?;
    }

    #[test]
    fn quoted_text_reads_back_as_the_same_phrase(value in any::<String>()) {
        let input = format!("email:{}", quote(&value));
        prop_assert_eq!(parse(&input), Ok(phrase("email", &value)));
    }

    #[test]
    fn escaped_text_reads_back_as_the_same_word(value in nonempty_text()) {
        let input = format!("name:{}", escape(&value));
        prop_assert_eq!(parse(&input), Ok(word("name", &value)), "{}", input);
        prop_assert_eq!(parse(&escape(&value)), Ok(bare(w(&value))), "{}", escape(&value));
    }
}
