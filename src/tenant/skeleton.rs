//! Metadata kept as its values alone, its skeleton (keys, structure, spacing) shared by every
//! profile whose metadata has the same.
//!
//! Most users of a tenant have metadata of one or a few shapes, and the keys are about half of
//! a typical object's text. A metadata text is split into its skeleton, with a NUL where each
//! scalar value was, and its values, NUL-separated; joining them gives back the very same
//! text (NUL cannot appear raw in JSON text, so it cannot be confused with either part).
//! Skeletons are interned in one table for the process, bounded in count and length: past the
//! bound a text is simply kept whole.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

/// A shared skeleton: a thin pointer, eight bytes in a profile's header.
pub(super) type Skeleton = Arc<Box<str>>;

/// How many skeletons the process keeps, and the longest: at most 2 MiB however many shapes
/// tenants' metadata takes.
const MAX_SKELETONS: usize = 4096;
const MAX_SKELETON_BYTES: usize = 512;

const SEPARATOR: char = '\0';

/// Read-mostly: a shape is written once and then only looked up, from every worker thread.
static SKELETONS: LazyLock<RwLock<HashMap<Box<str>, Skeleton>>> = LazyLock::new(Default::default);

/// The skeleton and values of `json` (valid JSON text), or `None` when it is better kept whole
/// (no values to share it with, or the table is full).
pub(super) fn split(json: &str) -> Option<(Skeleton, String)> {
    let (skeleton, values) = split_text(json)?;
    if skeleton.len() > MAX_SKELETON_BYTES {
        return None;
    }
    if let Some(shared) = SKELETONS.read().ok()?.get(skeleton.as_str()) {
        return Some((shared.clone(), values));
    }
    let mut table = SKELETONS.write().ok()?;
    if let Some(shared) = table.get(skeleton.as_str()) {
        return Some((shared.clone(), values));
    }
    if table.len() >= MAX_SKELETONS {
        return None;
    }
    let shared: Skeleton = Arc::new(skeleton.clone().into_boxed_str());
    table.insert(skeleton.into_boxed_str(), shared.clone());
    Some((shared, values))
}

/// The text `split` was given.
pub(super) fn join(skeleton: &str, values: &str) -> String {
    let mut text = String::with_capacity(skeleton.len() + values.len());
    let mut values = values.split(SEPARATOR);
    let mut parts = skeleton.split(SEPARATOR);
    if let Some(first) = parts.next() {
        text.push_str(first);
    }
    for part in parts {
        text.push_str(values.next().unwrap_or_default());
        text.push_str(part);
    }
    text
}

/// Splits without interning; `None` when the text has no scalar value.
fn split_text(json: &str) -> Option<(String, String)> {
    let bytes = json.as_bytes();
    let mut skeleton = String::with_capacity(json.len());
    let mut values = String::with_capacity(json.len());
    let (mut index, mut copied, mut count) = (0, 0, 0);
    while index < bytes.len() {
        let end = match bytes[index] {
            b'"' => {
                let end = string_end(bytes, index);
                let next = bytes[end..].iter().find(|b| !b.is_ascii_whitespace());
                if next == Some(&b':') {
                    // A key: part of the skeleton.
                    index = end;
                    continue;
                }
                end
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => scalar_end(bytes, index),
            _ => {
                index += 1;
                continue;
            }
        };
        skeleton.push_str(&json[copied..index]);
        skeleton.push(SEPARATOR);
        if count > 0 {
            values.push(SEPARATOR);
        }
        values.push_str(&json[index..end]);
        count += 1;
        (index, copied) = (end, end);
    }
    skeleton.push_str(&json[copied..]);
    (count > 0).then_some((skeleton, values))
}

/// The index after the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// The index after the number or literal that begins at `start`.
fn scalar_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|b| matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace())
        .map_or(bytes.len(), |length| start + length)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: &[&str] = &[
        r#"{"address":{"city":"Paris","country":"FR"},"language":"it","preferences":{"newsletter":false,"theme":"dark","timezone":"America/Los_Angeles"}}"#,
        r#"{"customer_id":"cus_XK3Up24fv1xJqZ","plan":"free"}"#,
        r#"{"a":[1,2,3],"b":[],"c":{},"d":null,"e":-1.5e+3,"f":true}"#,
        r#"{"k\":\"ey":"va\"l:ue","\\":"\\","\u0000":"\u0000"}"#,
        r#" { "spaced" : [ 1 , "two" , { "three" : 3 } ] , "x" : "y" } "#,
        r#"{"n":12,"m":34}"#,
        r#"[12,34,"5",6]"#,
        r#""just a string""#,
        "42",
        "{}",
        "[]",
    ];

    #[test]
    fn joining_the_parts_gives_back_the_very_text() {
        for text in TEXTS {
            match split_text(text) {
                Some((skeleton, values)) => assert_eq!(join(&skeleton, &values), *text),
                None => assert!(matches!(*text, "{}" | "[]"), "{text}"),
            }
        }
    }

    #[test]
    fn keys_and_structure_are_the_skeleton_and_values_the_rest() {
        let (skeleton, values) = split_text(r#"{"plan":"free","seats":3}"#).unwrap();
        assert_eq!(skeleton, "{\"plan\":\0,\"seats\":\0}");
        assert_eq!(values, "\"free\"\x003");
    }

    #[test]
    fn metadata_of_one_shape_shares_one_skeleton() {
        let a = split(r#"{"plan":"free","seats":3}"#).unwrap();
        let b = split(r#"{"plan":"pro","seats":40}"#).unwrap();
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(join(&b.0, &b.1), r#"{"plan":"pro","seats":40}"#);
        let long = format!(r#"{{"{}":1}}"#, "k".repeat(MAX_SKELETON_BYTES));
        assert!(split(&long).is_none(), "a long skeleton is not kept");
    }
}
