//! Input checks made before any upstream call. Each failure is BAD_USER_INPUT naming the field,
//! so a caller learns what to fix without a tenant being asked anything.

use serde_json::Value;

use crate::error::{ClientError, ClientResult};

/// Keys Auth0 refuses at the top level of `app_metadata`.
pub(crate) const FORBIDDEN_APP_METADATA_KEYS: [&str; 13] = [
    "blocked",
    "clientID",
    "created_at",
    "email",
    "email_verified",
    "global_client_id",
    "globalClientID",
    "identities",
    "lastIP",
    "lastLogin",
    "metadata",
    "user_id",
    "loginsCount",
];

/// Auth0's documented lengths for profile strings.
pub(crate) const MAX_NAME: usize = 300;
pub(crate) const MAX_GIVEN_OR_FAMILY_NAME: usize = 150;
pub(crate) const MAX_NICKNAME: usize = 300;
pub(crate) const MAX_USERNAME: usize = 128;
pub(crate) const MAX_URL: usize = 2048;
pub(crate) const MAX_PASSWORD: usize = 128;
pub(crate) const MAX_CONNECTION: usize = 128;

fn invalid(field: &str, problem: impl std::fmt::Display) -> ClientError {
    ClientError::bad_input(format!("{field}: {problem}"))
}

/// An email address: one `@`, a local part and a dotted domain, no spaces, at most 254 bytes.
pub(crate) fn email(field: &str, value: &str) -> ClientResult<String> {
    let value = value.trim();
    let Some((local, domain)) = value.split_once('@') else {
        return Err(invalid(field, "is not an email address"));
    };
    let valid = value.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !value.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        });
    if valid {
        Ok(value.to_owned())
    } else {
        Err(invalid(field, "is not an email address"))
    }
}

/// Plain text of at most `max` characters, without control characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> ClientResult<()> {
    if value.chars().count() > max {
        return Err(invalid(field, format!("is longer than {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

/// A non-empty username of at most 128 characters, without spaces.
pub(crate) fn username(field: &str, value: &str) -> ClientResult<()> {
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(invalid(field, "must be non-empty and without spaces"));
    }
    text(field, value, MAX_USERNAME)
}

/// An E.164 phone number: `+` then 2 to 15 digits, the first not 0.
pub(crate) fn phone_number(field: &str, value: &str) -> ClientResult<()> {
    let digits = value.strip_prefix('+').unwrap_or("");
    let valid = (2..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(())
    } else {
        Err(invalid(
            field,
            "must be an E.164 number such as +14155550123",
        ))
    }
}

/// An absolute http(s) URL.
pub(crate) fn url(field: &str, value: &str) -> ClientResult<()> {
    text(field, value, MAX_URL)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !value.chars().any(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(invalid(field, "must be an absolute http(s) URL")),
    }
}

/// A password that is present and bounded; strength is the connection's policy, checked by Auth0.
pub(crate) fn password(field: &str, value: &str) -> ClientResult<()> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_PASSWORD {
        return Err(invalid(
            field,
            format!("is longer than {MAX_PASSWORD} characters"),
        ));
    }
    Ok(())
}

/// Which metadata object a check concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metadata {
    User,
    App,
}

/// A metadata object (or patch): an object, keys without `.` or `$` at any depth, none of the
/// forbidden `app_metadata` keys, and at most `max_bytes` once serialized.
pub(crate) fn metadata(
    field: &str,
    value: &Value,
    kind: Metadata,
    max_bytes: usize,
) -> ClientResult<()> {
    let Value::Object(object) = value else {
        return Err(invalid(
            field,
            "must be a JSON object (send {} to clear it, {\"key\": null} to remove a key)",
        ));
    };
    let reserved = object
        .keys()
        .find(|k| FORBIDDEN_APP_METADATA_KEYS.contains(&k.as_str()));
    if let (Metadata::App, Some(key)) = (kind, reserved) {
        return Err(invalid(
            field,
            format!("the key `{key}` is reserved by Auth0"),
        ));
    }
    check_keys(field, value, 0)?;
    let size = serde_json::to_vec(value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > max_bytes {
        return Err(invalid(
            field,
            format!("is {size} bytes; the limit is {max_bytes} bytes"),
        ));
    }
    Ok(())
}

/// Auth0 stores metadata in a document store where `.` and `$` in keys have meaning.
fn check_keys(field: &str, value: &Value, depth: usize) -> ClientResult<()> {
    if depth > 32 {
        return Err(invalid(field, "is nested too deeply"));
    }
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                if key.contains('.') || key.contains('$') {
                    return Err(invalid(
                        field,
                        format!("the key `{key}` contains `.` or `$`"),
                    ));
                }
                if key.is_empty() {
                    return Err(invalid(field, "keys must not be empty"));
                }
                check_keys(field, child, depth + 1)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                check_keys(field, item, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A validated request body for Auth0 and the names of the fields it touches (for the audit
/// trail, never their values).
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub(crate) json: serde_json::Map<String, Value>,
    pub(crate) fields: Vec<&'static str>,
}

impl Body {
    /// Sets Auth0's `key` as the input field `field`.
    pub(crate) fn set(&mut self, field: &'static str, key: &str, value: Value) {
        self.json.insert(key.to_owned(), value);
        self.fields.push(field);
    }

    /// Whether the body sets Auth0's `key`.
    pub(crate) fn sets(&self, key: &str) -> bool {
        self.json.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        assert_eq!(
            email("e", " Jane@Example.com ").unwrap(),
            "Jane@Example.com"
        );
        for bad in [
            "",
            "jane",
            "@x.com",
            "jane@",
            "jane@x",
            "ja ne@x.com",
            "a@b@c.com",
            "jane@.com",
            "<a@b.com>",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_keys_sizes_and_reserved_names() {
        let limit = 16 * 1024;
        assert!(
            metadata(
                "m",
                &json!({"language": "fr", "a": {"b": [1, {"c": null}]}}),
                Metadata::User,
                limit
            )
            .is_ok()
        );
        let dotted = metadata("m", &json!({"a": {"b.c": 1}}), Metadata::User, limit).unwrap_err();
        assert!(dotted.message.contains("b.c"), "{}", dotted.message);
        assert!(metadata("m", &json!({"a": [{"$where": 1}]}), Metadata::User, limit).is_err());
        assert!(metadata("m", &json!({"email": "x"}), Metadata::User, limit).is_ok());
        let reserved = metadata("m", &json!({"email": "x"}), Metadata::App, limit).unwrap_err();
        assert!(reserved.message.contains("reserved"));
        assert!(
            metadata(
                "m",
                &json!({"big": "x".repeat(limit)}),
                Metadata::User,
                limit
            )
            .is_err()
        );
        assert!(metadata("m", &json!([1]), Metadata::User, limit).is_err());
    }

    #[test]
    fn phones_urls_usernames_texts() {
        assert!(phone_number("p", "+14155550123").is_ok());
        for bad in ["14155550123", "+0123", "+1", "+1415555012345678", "+1 415"] {
            assert!(phone_number("p", bad).is_err(), "{bad}");
        }
        assert!(url("u", "https://example.com/a.png").is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "javascript:alert(1)",
            "https:///x",
            "https://a b",
        ] {
            assert!(url("u", bad).is_err(), "{bad}");
        }
        assert!(username("u", "jane_doe").is_ok());
        assert!(username("u", "jane doe").is_err());
        assert!(text("t", &"x".repeat(301), MAX_NAME).is_err());
        assert!(text("t", "a\u{0}b", MAX_NAME).is_err());
    }
}
