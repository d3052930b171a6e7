//! Which field behaves how, and the semantic rules every term must follow.
//!
//! Shared by the parser (so the gateway rejects a query before Auth0 would, with a position) and
//! by `Filter::new` (so queries built in code are held to the same rules).

use crate::ast::{Bound, Field, Pattern, Value};
use crate::date;
use crate::error::ErrorKind;

/// The fields a term without a field searches, each with its own case rule.
pub const DEFAULT_FIELDS: &[&str] = &[
    "user_id",
    "email",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "username",
    "phone_number",
];

/// How a field is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// `user_id`: exact and case-sensitive only.
    UserId,
    /// `email`, `name`, `given_name`, `family_name`, `nickname`, `email.domain`.
    CaseInsensitive,
    /// `created_at`, `updated_at`, `last_login`, `last_password_reset`.
    Date,
    /// `logins_count`.
    Number,
    /// `user_metadata` and below: no wildcards, no ranges.
    UserMetadata,
    /// `app_metadata` and below: no wildcards.
    AppMetadata,
    /// Anything else: case-sensitive text, numbers and booleans by their JSON text.
    Other,
}

pub(crate) fn kind_of(field: &str) -> FieldKind {
    match field {
        "user_id" => FieldKind::UserId,
        "email" | "name" | "given_name" | "family_name" | "nickname" | "email.domain" => {
            FieldKind::CaseInsensitive
        }
        "created_at" | "updated_at" | "last_login" | "last_password_reset" => FieldKind::Date,
        "logins_count" => FieldKind::Number,
        _ => match field.split('.').next() {
            Some("user_metadata") => FieldKind::UserMetadata,
            Some("app_metadata") => FieldKind::AppMetadata,
            _ => FieldKind::Other,
        },
    }
}

/// A number as a query writes it; only finite values count.
pub(crate) fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Checks one term's value against its field's rules (`None`: the default fields).
pub(crate) fn check(field: Option<&Field>, value: &Value) -> Result<(), ErrorKind> {
    let kind = field.map(|f| kind_of(f.as_str()));
    let name = || field.map(|f| f.as_str().to_owned()).unwrap_or_default();
    match value {
        Value::Word(text) | Value::Phrase(text) => check_literal(kind, text, name),
        Value::Wildcard(pattern) => check_wildcard(kind, pattern, name),
        Value::Range { lower, upper } => {
            match kind {
                None => return Err(ErrorKind::RangeNeedsField),
                Some(FieldKind::UserId) => return Err(ErrorKind::UserIdNotExact),
                Some(FieldKind::UserMetadata) => {
                    return Err(ErrorKind::RangeOnUserMetadata { field: name() });
                }
                _ => {}
            }
            for bound in [lower, upper] {
                if let Bound::Inclusive(text) | Bound::Exclusive(text) = bound {
                    check_literal(kind, text, name)?;
                }
            }
            Ok(())
        }
        Value::Any(values) => values.iter().try_for_each(|v| check(field, v)),
    }
}

fn check_literal(
    kind: Option<FieldKind>,
    text: &str,
    name: impl Fn() -> String,
) -> Result<(), ErrorKind> {
    match kind {
        Some(FieldKind::Date) if date::parse(text).is_none() => Err(ErrorKind::InvalidDate {
            field: name(),
            value: text.to_owned(),
        }),
        Some(FieldKind::Number) if number(text).is_none() => Err(ErrorKind::InvalidNumber {
            field: name(),
            value: text.to_owned(),
        }),
        _ => Ok(()),
    }
}

fn check_wildcard(
    kind: Option<FieldKind>,
    pattern: &Pattern,
    name: impl Fn() -> String,
) -> Result<(), ErrorKind> {
    match kind {
        Some(FieldKind::UserId) => return Err(ErrorKind::UserIdNotExact),
        Some(FieldKind::UserMetadata | FieldKind::AppMetadata) => {
            return Err(ErrorKind::WildcardOnMetadata { field: name() });
        }
        Some(FieldKind::Date | FieldKind::Number) => {
            return Err(ErrorKind::WildcardOnTypedField { field: name() });
        }
        _ => {}
    }
    // A leading `*` makes the search engine scan every term, so Auth0 asks for some text.
    if pattern.is_leading() && pattern.literal_chars() < 3 {
        let mut text = String::new();
        crate::print::pattern_into(&mut text, pattern);
        return Err(ErrorKind::ShortLeadingWildcard { pattern: text });
    }
    Ok(())
}
