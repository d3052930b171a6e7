//! The parser and printer against tables of valid and malformed queries.
// Helpers outside #[test] functions unwrap too: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use search_query::{Bound, ErrorKind, MAX_DEPTH, Query, Value, parse};

/// Input, expected query, canonical text.
fn valid_cases() -> Vec<(&'static str, Query, &'static str)> {
    use Bound::Unbounded;
    vec![
        ("name:jane", word("name", "jane"), "name:jane"),
        ("name : jane", word("name", "jane"), "name:jane"),
        (
            r#"email:"Jane@Example.com""#,
            phrase("email", "Jane@Example.com"),
            r#"email:"Jane@Example.com""#,
        ),
        (
            r#"user_id:"auth0|abc""#,
            phrase("user_id", "auth0|abc"),
            r#"user_id:"auth0|abc""#,
        ),
        (
            r"user_id:auth0\|abc",
            word("user_id", "auth0|abc"),
            r"user_id:auth0\|abc",
        ),
        (
            "email:jane-doe@x.com",
            word("email", "jane-doe@x.com"),
            r"email:jane\-doe@x.com",
        ),
        (
            "phone_number:\\+15551234567",
            word("phone_number", "+15551234567"),
            r"phone_number:\+15551234567",
        ),
        (
            r#"name:"a \"b\" \\ c""#,
            phrase("name", r#"a "b" \ c"#),
            r#"name:"a \"b\" \\ c""#,
        ),
        ("name:Hélène", word("name", "Hélène"), "name:Hélène"),
        ("name:and", word("name", "and"), "name:and"),
        (r"name:\AND", word("name", "AND"), r"name:\AND"),
        ("name:jo*", wildcard("name", "jo*"), "name:jo*"),
        ("name:j*n", wildcard("name", "j*n"), "name:j*n"),
        ("name:*son", wildcard("name", "*son"), "name:*son"),
        (
            r"name:jo\*n*",
            term(
                "name",
                Value::Wildcard(
                    search_query::Pattern::new(vec!["jo*n".into(), String::new()]).unwrap(),
                ),
            ),
            r"name:jo\*n*",
        ),
        (
            "email.domain:example.com",
            word("email.domain", "example.com"),
            "email.domain:example.com",
        ),
        (
            "identities.connection:github",
            word("identities.connection", "github"),
            "identities.connection:github",
        ),
        (
            r#"app_metadata.roles:"admin""#,
            phrase("app_metadata.roles", "admin"),
            r#"app_metadata.roles:"admin""#,
        ),
        (
            r#"user_metadata.address.city:"Paris""#,
            phrase("user_metadata.address.city", "Paris"),
            r#"user_metadata.address.city:"Paris""#,
        ),
        ("jane", bare(w("jane")), "jane"),
        (r#""Jane Smith""#, bare(p("Jane Smith")), r#""Jane Smith""#),
        (
            "_exists_:app_metadata.plan",
            exists("app_metadata.plan"),
            "_exists_:app_metadata.plan",
        ),
        (
            "phone_number:*",
            exists("phone_number"),
            "_exists_:phone_number",
        ),
        ("*:*", Query::All, "*:*"),
        ("((name:jane))", word("name", "jane"), "name:jane"),
        (
            "name:jane AND blocked:true",
            and(vec![word("name", "jane"), word("blocked", "true")]),
            "name:jane AND blocked:true",
        ),
        (
            "a OR b AND c",
            or(vec![bare(w("a")), and(vec![bare(w("b")), bare(w("c"))])]),
            "a OR b AND c",
        ),
        ("a b", or(vec![bare(w("a")), bare(w("b"))]), "a OR b"),
        (
            "a and b",
            or(vec![bare(w("a")), bare(w("and")), bare(w("b"))]),
            "a OR and OR b",
        ),
        (
            "a b -c",
            and(vec![
                or(vec![bare(w("a")), bare(w("b"))]),
                not(bare(w("c"))),
            ]),
            "(a OR b) AND NOT c",
        ),
        (
            "-a b",
            and(vec![bare(w("b")), not(bare(w("a")))]),
            "b AND NOT a",
        ),
        (
            "-a -b",
            and(vec![not(bare(w("a"))), not(bare(w("b")))]),
            "NOT a AND NOT b",
        ),
        (
            "a OR -b",
            or(vec![bare(w("a")), not(bare(w("b")))]),
            "a OR NOT b",
        ),
        (
            "NOT a OR b",
            or(vec![not(bare(w("a"))), bare(w("b"))]),
            "NOT a OR b",
        ),
        (
            "-blocked:true",
            not(word("blocked", "true")),
            "NOT blocked:true",
        ),
        ("NOT NOT a", not(not(bare(w("a")))), "NOT NOT a"),
        (
            "!a && b || c",
            or(vec![
                and(vec![not(bare(w("a"))), bare(w("b"))]),
                bare(w("c")),
            ]),
            "NOT a AND b OR c",
        ),
        (
            "a AND (b OR c) AND NOT d",
            and(vec![
                bare(w("a")),
                or(vec![bare(w("b")), bare(w("c"))]),
                not(bare(w("d"))),
            ]),
            "a AND (b OR c) AND NOT d",
        ),
        (
            r#"user_id:("auth0|a" OR "auth0|b" OR auth0\|c)"#,
            term(
                "user_id",
                group(vec![p("auth0|a"), p("auth0|b"), w("auth0|c")]),
            ),
            r#"user_id:("auth0|a" OR "auth0|b" OR auth0\|c)"#,
        ),
        (
            "name:(jane john)",
            term("name", group(vec![w("jane"), w("john")])),
            "name:(jane OR john)",
        ),
        ("name:(jane)", word("name", "jane"), "name:jane"),
        (
            "name:([a TO m] OR zed*)",
            term("name", group(vec![range(inc("a"), inc("m")), glob("zed*")])),
            r#"name:(["a" TO "m"] OR zed*)"#,
        ),
        (
            "logins_count:{100 TO *]",
            term("logins_count", range(exc("100"), Unbounded)),
            r#"logins_count:{"100" TO *]"#,
        ),
        (
            "logins_count:[-5 TO 5}",
            term("logins_count", range(inc("-5"), exc("5"))),
            r#"logins_count:["-5" TO "5"}"#,
        ),
        (
            "created_at:[2024-01-01 TO 2024-12-31]",
            term("created_at", range(inc("2024-01-01"), inc("2024-12-31"))),
            r#"created_at:["2024-01-01" TO "2024-12-31"]"#,
        ),
        (
            "last_login:{2024-05-01T00:00:00Z TO *}",
            term("last_login", range(exc("2024-05-01T00:00:00Z"), Unbounded)),
            r#"last_login:{"2024-05-01T00:00:00Z" TO *]"#,
        ),
        (
            r#"created_at:"2024-05-01T10:20:30Z""#,
            phrase("created_at", "2024-05-01T10:20:30Z"),
            r#"created_at:"2024-05-01T10:20:30Z""#,
        ),
        (
            r#"app_metadata.level:["a b" TO "*"]"#,
            term("app_metadata.level", range(inc("a b"), inc("*"))),
            r#"app_metadata.level:["a b" TO "*"]"#,
        ),
    ]
}

#[test]
fn valid_queries_parse_and_print_canonically() {
    for (input, expected, canonical) in valid_cases() {
        let parsed = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(parsed, expected, "{input}");
        assert_eq!(parsed.to_string(), canonical, "{input}");
        assert_eq!(parse(canonical), Ok(expected), "{canonical}");
    }
}

/// Input, fragment of the message, position.
fn malformed_cases() -> Vec<(String, &'static str, Option<usize>)> {
    let cases: Vec<(&str, &str, Option<usize>)> = vec![
        ("", "empty query", None),
        ("  \t\n", "empty query", None),
        ("(name:jane", "unbalanced parenthesis", Some(0)),
        ("name:jane)", "unbalanced parenthesis", Some(9)),
        ("a AND (b OR c", "unbalanced parenthesis", Some(6)),
        (
            "(a OR b]",
            "expected `)` or an operator, found `]`",
            Some(7),
        ),
        ("name:(a OR b", "unbalanced parenthesis", Some(5)),
        (
            "name:*so",
            "leading wildcard needs at least 3 literal characters: `*so`",
            Some(5),
        ),
        (
            "*ab",
            "leading wildcard needs at least 3 literal characters: `*ab`",
            Some(0),
        ),
        ("name:jo?n", "`?` wildcards are not supported", Some(7)),
        (
            "name:jane~",
            "fuzzy (`~`), boost (`^`) and regular expressions are not supported",
            Some(9),
        ),
        ("name:jane~2", "found `~`", Some(9)),
        ("name:jane^2", "found `^`", Some(9)),
        ("name:/ja.e/", "found `/`", Some(5)),
        (
            "+name:jane",
            "`+` (required clause) is not supported",
            Some(0),
        ),
        (r#"name:"jane"#, "unterminated phrase", Some(5)),
        (r"name:jane\", "escapes nothing", Some(9)),
        ("logins_count:[1 TO 5", "unterminated range", Some(13)),
        ("logins_count:[1 5]", "expected `TO`, found `5`", Some(16)),
        (
            "logins_count:[1 TO 5 6]",
            "expected `]` or `}`, found `6`",
            Some(21),
        ),
        (
            "logins_count:[1 TO]",
            "expected an upper bound, found `]`",
            Some(18),
        ),
        ("[1 TO 5]", "a range needs a field", Some(0)),
        (
            "name:",
            "expected a value after `:`, found end of query",
            Some(5),
        ),
        (
            "name:-jane",
            "expected a value after `:`, found `-`",
            Some(5),
        ),
        ("AND name:jane", "expected a clause, found `AND`", Some(0)),
        (
            "name:jane AND",
            "expected a clause, found end of query",
            Some(13),
        ),
        (
            "name:jane OR OR x",
            "expected a clause, found `OR`",
            Some(13),
        ),
        ("name:jane ]", "found `]`", Some(10)),
        (
            r#""a":b"#,
            "expected an operator or the end of the query, found `:`",
            Some(3),
        ),
        ("*", "`*` alone is not a query", Some(0)),
        (
            "na*me:x",
            "wildcards are not allowed in field names",
            Some(0),
        ),
        ("*:x", "wildcards are not allowed in field names", Some(0)),
        ("a..b:x", "invalid field name `a..b`", Some(0)),
        (
            r#"_exists_:"name""#,
            "`_exists_:` takes one field name",
            Some(9),
        ),
        ("name:(a AND b)", "only `OR` may join the values", Some(8)),
        ("name:(NOT b)", "only `OR` may join the values", Some(6)),
        ("name:()", "empty value group", Some(5)),
        (
            "user_metadata.color:bl*",
            "wildcards are not supported on metadata field `user_metadata.color`",
            Some(20),
        ),
        (
            "app_metadata.plan:*old",
            "wildcards are not supported on metadata field `app_metadata.plan`",
            Some(18),
        ),
        (
            "app_metadata.plan:(gold OR si*)",
            "metadata field",
            Some(27),
        ),
        (
            "user_metadata.age:[1 TO 5]",
            "ranges are not supported on user_metadata field `user_metadata.age`",
            Some(18),
        ),
        ("user_id:auth0*", "`user_id` is matched exactly", Some(8)),
        ("user_id:[a TO b]", "`user_id` is matched exactly", Some(8)),
        (
            "created_at:[2024-13-01 TO *]",
            "invalid date `2024-13-01` for `created_at`",
            Some(11),
        ),
        ("created_at:yesterday", "invalid date `yesterday`", Some(11)),
        (
            "created_at:2024*",
            "wildcards are not supported on `created_at`",
            Some(11),
        ),
        (
            "logins_count:many",
            "`logins_count` takes a number, found `many`",
            Some(13),
        ),
    ];
    let mut cases: Vec<_> = cases
        .into_iter()
        .map(|(input, fragment, at)| (input.to_owned(), fragment, at))
        .collect();
    let deep = MAX_DEPTH + 1;
    cases.push((
        format!("{}a{}", "(".repeat(deep), ")".repeat(deep)),
        "nested deeper than 32",
        Some(32),
    ));
    cases.push((
        format!("{}a", "NOT ".repeat(deep)),
        "nested deeper than 32",
        Some(128),
    ));
    cases.push((
        "a ".repeat(40_000),
        "query too long: 80000 bytes, at most 65536",
        None,
    ));
    cases
}

#[test]
fn malformed_queries_are_rejected_with_a_message_and_position() {
    for (input, fragment, at) in malformed_cases() {
        let shown: String = input.chars().take(60).collect();
        let error = parse(&input).expect_err(&shown);
        let message = error.to_string();
        assert!(message.contains(fragment), "{shown}: {message}");
        assert_eq!(error.position(), at, "{shown}: {message}");
        if let Some(at) = at {
            assert!(
                message.ends_with(&format!(" at {at}")),
                "{shown}: {message}"
            );
        }
    }
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let input = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&input), Ok(bare(w("a"))));
    let input = format!("{}a", "NOT ".repeat(MAX_DEPTH));
    assert!(parse(&input).is_ok());
}

#[test]
fn error_kinds_can_be_matched() {
    let error = parse("(a").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnbalancedParenthesis);
    assert_eq!(error.to_string(), "unbalanced parenthesis at 0");
}

#[test]
fn queries_built_in_code_still_print_as_one_expression() {
    let cases = [
        (Query::Or(vec![]), "(NOT *:*)"),
        (Query::And(vec![]), "*:*"),
        (and(vec![word("name", "x")]), "name:x"),
        (term("name", group(vec![])), "(NOT *:*)"),
        (
            term("name", group(vec![w("a"), group(vec![w("b"), p("c")])])),
            r#"name:(a OR b OR "c")"#,
        ),
        (word("name", ""), r#"name:"""#),
        (bare(group(vec![w("a"), w("b")])), "(a OR b)"),
    ];
    for (query, text) in cases {
        assert_eq!(query.to_string(), text);
        let wrapped = format!("({query}) AND (user_id:\"scope\")");
        let parsed = parse(&wrapped).unwrap();
        let Query::And(members) = parsed else {
            panic!("{wrapped}")
        };
        assert_eq!(members.len(), 2, "{wrapped}");
        assert_eq!(members[1], phrase("user_id", "scope"));
    }
}

#[test]
fn a_query_cannot_break_out_of_its_parentheses() {
    for hostile in [
        "a) OR (*:*",
        "a OR *:*",
        "x\\",
        "\"a) OR (b",
        "NOT",
        "a)) OR ((b",
    ] {
        if let Ok(query) = parse(hostile) {
            let scope = phrase("user_id", "auth0|me");
            let wrapped = format!("({query}) AND ({scope})");
            assert_eq!(parse(&wrapped), Ok(and(vec![query, scope])), "{hostile}");
        }
    }
}

/// Regression (found by the gateway's scope property): sixteen prefix negations used to print as
/// sixteen nested `(NOT …)`, twice as deep as the input, which the parser then refused. The
/// canonical text never nests deeper than what was parsed.
#[test]
fn printing_never_nests_deeper_than_the_input() {
    let found = "NOTuser_id:auth0|64f1c2aa0000000000000001 ----------------jo*";
    let query = parse(found).unwrap();
    assert_eq!(parse(&query.to_string()), Ok(query.clone()), "{query}");
    for n in 1..=MAX_DEPTH {
        for input in [
            format!("{}jo*", "-".repeat(n)),
            format!("{}a", "NOT ".repeat(n)),
            format!("{}a b -c{}", "(".repeat(n - 1), ")".repeat(n - 1)),
            format!("{}a OR b{}", "-(".repeat(n / 2), ")".repeat(n / 2)),
            format!("{}(a OR b) AND c{}", "(".repeat(n - 1), ")".repeat(n - 1)),
        ] {
            let Ok(query) = parse(&input) else { continue };
            let printed = query.to_string();
            assert_eq!(parse(&printed), Ok(query), "{input} printed as {printed}");
        }
    }
}

/// Whitespace of every kind Rust's `char::is_whitespace` knows, and the ASCII controls that are
/// not whitespace: each is a plain character once escaped (`\` + any character is that
/// character), also as the very last character of the query.
const ESCAPABLE_BLANKS: &[char] = &[
    ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}', '\u{0}', '\u{1}',
    '\u{1b}', '\u{7f}',
];

/// Asserts that `input` parses as `expected` and that its canonical text parses back to exactly
/// that, also inside the gateway's wrapping, untrimmed.
fn assert_round_trip(input: &str, expected: &Query) {
    assert_eq!(parse(input).as_ref(), Ok(expected), "{input:?}");
    let printed = expected.to_string();
    assert_eq!(
        parse(&printed).as_ref(),
        Ok(expected),
        "{input:?} printed as {printed:?}"
    );
    assert_eq!(parse(&printed).unwrap().to_string(), printed, "{input:?}");
    let scope = phrase("user_id", "auth0|me");
    let wrapped = format!("({printed}) AND ({scope})");
    assert_eq!(
        parse(&wrapped),
        Ok(and(vec![expected.clone(), scope])),
        "{wrapped:?}"
    );
}

/// Regression (found by the gateway's scope property with `!\<tab> jane`): a word ending in an
/// escaped whitespace character prints with the escape last (`jane AND NOT \<tab>`). That text
/// is canonical and parses back to the same query, but only untrimmed: `str::trim` removes the
/// escaped tab and leaves a dangling `\`. Escaped whitespace and controls are word characters
/// everywhere; a `\` with nothing after it is refused wherever it is.
#[test]
fn escaped_whitespace_and_trailing_backslashes() {
    for &c in ESCAPABLE_BLANKS {
        let s = c.to_string();
        let blank = c.is_whitespace();
        // The found input: a negated word that is one escaped character, then a word.
        let query = and(vec![bare(w("jane")), not(bare(w(&s)))]);
        assert_round_trip(&format!("!\\{c} jane"), &query);
        let printed = query.to_string();
        assert!(
            printed.ends_with(&format!("NOT \\{c}")) || !blank,
            "{printed:?}"
        );
        if blank {
            // Trimming the canonical text breaks the escape: callers must not trim.
            let error = parse(printed.trim()).unwrap_err();
            assert_eq!(error.kind(), &ErrorKind::DanglingEscape, "{printed:?}");
        }
        // At the end of the query, of a field's value, after unescaped whitespace too.
        assert_round_trip(
            &format!("name:jane\\{c}"),
            &word("name", &format!("jane{c}")),
        );
        assert_round_trip(
            &format!(" name:jane\\{c}  \t"),
            &word("name", &format!("jane{c}")),
        );
        assert_round_trip(&format!("a\\{c}b"), &bare(w(&format!("a{c}b"))));
        assert_round_trip(
            &format!("name:\\{c}\\{c}"),
            &word("name", &format!("{c}{c}")),
        );
        assert_round_trip(
            &format!("name:jo\\{c}*"),
            &wildcard("name", &format!("jo{c}*")),
        );
        assert_round_trip(&format!("*abc\\{c}"), &bare(glob(&format!("*abc{c}"))));
        assert_round_trip(&format!("_exists_:a\\{c}"), &exists(&format!("a{c}")));
        assert_round_trip(
            &format!("name:[a\\{c} TO \\{c}]"),
            &term("name", range(inc(&format!("a{c}")), inc(&s))),
        );
        assert_round_trip(&format!("name:\"{c}\""), &phrase("name", &s));
        // Unescaped, whitespace separates words (and a control character is a word character).
        if blank {
            assert_round_trip(&format!("a{c}b"), &or(vec![bare(w("a")), bare(w("b"))]));
        } else {
            assert_round_trip(&format!("a{c}b"), &bare(w(&format!("a{c}b"))));
        }
    }

    // A backslash with nothing after it, wherever it ends the query.
    for (input, at) in [
        ("\\", 0),
        ("jane\\", 4),
        ("jane \\", 5),
        ("name:jane\\", 9),
        ("!\\", 1),
        ("NOT \\", 4),
        ("jo*\\", 3),
        ("_exists_:a\\", 10),
        ("name:[a TO b\\", 12),
        ("jane\\\\\\", 6),
    ] {
        let error = parse(input).expect_err(input);
        assert_eq!(
            error.kind(),
            &ErrorKind::DanglingEscape,
            "{input:?}: {error}"
        );
        assert_eq!(error.position(), Some(at), "{input:?}: {error}");
    }
    // An escaped closing quote or bracket does not close anything.
    let error = parse("name:\"jane\\").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnterminatedPhrase);
    let error = parse("name:\"jane\\\"").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnterminatedPhrase);
    let error = parse("name:[a TO b\\]").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnterminatedRange);
    // An escaped backslash is a word character, also at the end.
    assert_round_trip("jane\\\\", &bare(w("jane\\")));
    assert_round_trip("name:\\\\", &word("name", "\\"));
}

/// Every Lucene special character, escaped, is a literal word character; printed back, it is
/// escaped again, so the canonical text reads the same in Lucene.
#[test]
fn escaped_lucene_specials_are_literal_and_stay_escaped() {
    for special in [
        "+", "-", "&&", "||", "&", "|", "!", "(", ")", "{", "}", "[", "]", "^", "\"", "~", "*",
        "?", ":", "\\", "/", "=", "<", ">",
    ] {
        let escaped: String = special.chars().flat_map(|c| ['\\', c]).collect();
        assert_round_trip(&escaped, &bare(w(special)));
        assert_round_trip(
            &format!("name:a{escaped}b"),
            &word("name", &format!("a{special}b")),
        );
        assert_round_trip(&format!("!{escaped}"), &not(bare(w(special))));
        let printed = bare(w(special)).to_string();
        assert_eq!(printed, escaped, "{special}");
    }
    for keyword in ["AND", "OR", "NOT", "TO"] {
        assert_round_trip(&format!("\\{keyword}"), &bare(w(keyword)));
    }
}
