//! Text comparison for evaluation: case folding without allocating, and `*` patterns.
//!
//! Case-insensitive literals are folded once when the filter is built; stored values are folded
//! on the fly, character by character (`char::to_lowercase`, the same folding on both sides),
//! with a byte-level fast path for ASCII, which almost every stored value is.

use std::cmp::Ordering;

use crate::ast::Pattern;

/// The lower-case form case-insensitive literals are kept in.
pub(crate) fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Whether `stored` equals `literal`; with `ci`, `literal` must already be folded.
pub(crate) fn equals(stored: &str, literal: &str, ci: bool) -> bool {
    if !ci {
        stored == literal
    } else if stored.is_ascii() {
        // ASCII folds to ASCII, so a folded non-ASCII literal cannot match and the bytes decide.
        stored.eq_ignore_ascii_case(literal)
    } else {
        stored
            .chars()
            .flat_map(char::to_lowercase)
            .eq(literal.chars())
    }
}

/// How `stored` orders against `bound` (byte order, which is code point order); with `ci`,
/// `bound` must already be folded.
pub(crate) fn compare(stored: &str, bound: &str, ci: bool) -> Ordering {
    if ci {
        stored
            .chars()
            .flat_map(char::to_lowercase)
            .cmp(bound.chars())
    } else {
        stored.cmp(bound)
    }
}

/// A compiled `*` pattern: the stored value must start with the first segment, end with the
/// last, and contain the middle ones in order in between. Greedy leftmost matching is exact for
/// patterns whose only wildcard is `*`.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    /// At least two; folded when `ci`.
    segments: Vec<Box<[u8]>>,
    ci: bool,
}

impl Glob {
    pub(crate) fn new(pattern: &Pattern, ci: bool) -> Self {
        let segments = pattern
            .segments()
            .iter()
            .map(|s| {
                if ci { fold(s) } else { s.clone() }
                    .into_bytes()
                    .into_boxed_slice()
            })
            .collect();
        Self { segments, ci }
    }

    pub(crate) fn matches(&self, stored: &str) -> bool {
        if self.ci && !stored.is_ascii() {
            // Folding can change byte lengths outside ASCII: fold a copy (rare).
            return self.matches_bytes(fold(stored).as_bytes(), false);
        }
        self.matches_bytes(stored.as_bytes(), self.ci)
    }

    /// Byte-level matching; UTF-8 is self-synchronising, so a match found on bytes is a match
    /// on characters. `ascii_ci` folds ASCII letters on the stored side.
    fn matches_bytes(&self, stored: &[u8], ascii_ci: bool) -> bool {
        let Some((first, rest)) = self.segments.split_first() else {
            return true;
        };
        let Some((last, middle)) = rest.split_last() else {
            return same(stored, first, ascii_ci);
        };
        if stored.len() < first.len() + last.len() {
            return false;
        }
        let Some((head, tail)) = stored.split_at_checked(first.len()) else {
            return false;
        };
        let Some((mut between, end)) = tail.split_at_checked(tail.len() - last.len()) else {
            return false;
        };
        if !same(head, first, ascii_ci) || !same(end, last, ascii_ci) {
            return false;
        }
        for segment in middle {
            let Some(after) =
                find(between, segment, ascii_ci).and_then(|at| between.get(at + segment.len()..))
            else {
                return false;
            };
            between = after;
        }
        true
    }
}

fn same(stored: &[u8], literal: &[u8], ascii_ci: bool) -> bool {
    if ascii_ci {
        stored.eq_ignore_ascii_case(literal)
    } else {
        stored == literal
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8], ascii_ci: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| same(window, needle, ascii_ci))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(pattern: &str, ci: bool) -> Glob {
        let segments = pattern.split('*').map(str::to_owned).collect();
        Glob::new(&Pattern::new(segments).unwrap(), ci)
    }

    #[test]
    fn globs() {
        let cases = [
            ("jo*", "john", true),
            ("jo*", "jo", true),
            ("jo*", "ajo", false),
            ("*son", "jackson", true),
            ("*son", "sonny", false),
            ("j*n", "jn", true),
            ("j*n", "jane smith", false),
            ("j*n", "jon", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "acbc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("*a*", "", false),
            ("**", "", true),
        ];
        for (pattern, stored, want) in cases {
            assert_eq!(
                glob(pattern, false).matches(stored),
                want,
                "{pattern} vs {stored}"
            );
        }
    }

    #[test]
    fn case_insensitive_globs_and_equality() {
        assert!(glob("JO*", true).matches("John"));
        assert!(glob("*ÉLÈNE", true).matches("Hélène"));
        assert!(!glob("JO*", false).matches("John"));
        assert!(equals("Jane@Example.COM", &fold("jane@example.com"), true));
        assert!(equals("HÉLÈNE", &fold("hélène"), true));
        assert!(!equals("Jane", "jane", false));
        assert_eq!(compare("B", "a", true), Ordering::Greater);
    }
}
