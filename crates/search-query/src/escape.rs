//! Turning arbitrary text into query literals that parse back to exactly that text.

/// Characters that mean something to the query syntax when unescaped in a bare term.
///
/// `&` and `|` are only operators when doubled, and `-`/`+` only at the start of a term, but
/// escaping every occurrence is harmless (`\x` always reads as `x`) and easier to trust. `=`, `<`
/// and `>` mean nothing to this parser but start `field:>5` ranges in Elasticsearch's dialect,
/// which is what Auth0 runs.
const SPECIAL: &[char] = &[
    '+', '-', '&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '\\', '/',
    '=', '<', '>',
];

/// Words that are operators when written bare.
const KEYWORDS: &[&str] = &["AND", "OR", "NOT", "TO"];

/// A phrase literal `"…"` for any text, with `\` and `"` escaped.
///
/// `parse(&format!("email:{}", quote(s)))` yields the phrase `s` for every `s`: use it to put an
/// email or a user id such as `auth0|abc` into a query.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A bare term for any text: every special character and whitespace is backslash-escaped, and
/// the keywords `AND`, `OR`, `NOT`, `TO` are escaped so they read as words.
///
/// An empty value cannot be written bare, so it comes back as the empty phrase `""`.
pub fn escape(value: &str) -> String {
    if value.is_empty() {
        return quote(value);
    }
    let mut out = String::with_capacity(value.len() + 4);
    if KEYWORDS.contains(&value) {
        out.push('\\');
    }
    escape_into(&mut out, value);
    out
}

/// Appends `value` with every special character and whitespace escaped.
pub(crate) fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        if SPECIAL.contains(&c) || c.is_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_only_backslash_and_quote() {
        assert_eq!(quote(r#"a"b\c|d"#), r#""a\"b\\c|d""#);
        assert_eq!(quote(""), r#""""#);
    }

    #[test]
    fn escape_covers_specials_whitespace_and_keywords() {
        assert_eq!(escape("auth0|abc"), r"auth0\|abc");
        assert_eq!(escape("a b:c*"), r"a\ b\:c\*");
        assert_eq!(escape("AND"), r"\AND");
        assert_eq!(escape("and"), "and");
        assert_eq!(escape(""), r#""""#);
    }
}
