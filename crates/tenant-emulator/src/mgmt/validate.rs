//! The rules a user write must pass: metadata keys, reserved `app_metadata` keys, the 16 kB bound,
//! Auth0's first-level metadata merge, field formats and the password strength policy.

use serde_json::{Map, Value};

use super::params::{body_error, type_name};
use crate::errors::ApiError;

/// The gateway's bound per metadata object (Auth0 allows more but advises staying under it).
pub const METADATA_LIMIT: usize = 16 * 1024;

/// Keys Auth0 refuses at the top of `app_metadata`.
pub const RESERVED_APP_METADATA: &[&str] = &[
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

/// Checks a metadata object from a request body: an object, keys without `.` or `$` at any
/// depth, no reserved keys in `app_metadata`.
pub fn check_metadata(property: &str, value: &Value) -> Result<(), ApiError> {
    let Value::Object(object) = value else {
        return Err(body_error(
            property,
            &format!("Expected type object but found type {}", type_name(value)),
        ));
    };
    check_keys(value)?;
    if property == "app_metadata"
        && let Some(key) = object
            .keys()
            .find(|k| RESERVED_APP_METADATA.contains(&k.as_str()))
    {
        return Err(ApiError::invalid_body(format!(
            "Payload validation error: 'app_metadata.{key}' is a reserved property and cannot \
             be set."
        )));
    }
    Ok(())
}

fn check_keys(value: &Value) -> Result<(), ApiError> {
    match value {
        Value::Object(object) => {
            for (key, nested) in object {
                if key.contains('.') {
                    return Err(ApiError::invalid_body(format!(
                        "Fields with \".\" are not allowed, please remove all dotted fields. \
                         Example: {key}"
                    )));
                }
                if key.contains('$') {
                    return Err(ApiError::invalid_body(format!(
                        "Fields with \"$\" are not allowed, please remove all fields \
                         containing \"$\". Example: {key}"
                    )));
                }
                check_keys(nested)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(check_keys),
        _ => Ok(()),
    }
}

/// Auth0's merge: top-level keys of `patch` replace those of `existing` whole, a `null` deletes
/// its key, and an empty `patch` clears the object.
pub fn merge_metadata(existing: Option<&Value>, patch: &Map<String, Value>) -> Map<String, Value> {
    if patch.is_empty() {
        return Map::new();
    }
    let mut merged = existing
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, value) in patch {
        if value.is_null() {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    merged
}

/// The size bound, measured on the stored (merged) object as compact JSON.
pub fn check_size(property: &str, object: &Map<String, Value>) -> Result<(), ApiError> {
    let size = serde_json::to_vec(object).map_or(usize::MAX, |b| b.len());
    if size > METADATA_LIMIT {
        return Err(ApiError::invalid_body(format!(
            "Payload validation error: '{property} is {size} bytes, more than the maximum of \
             {METADATA_LIMIT} bytes (16 kB)'."
        )));
    }
    Ok(())
}

/// The connection's password policy ("good", Auth0's default for new database connections):
/// at least 8 characters and 3 of lower case, upper case, digits and special characters.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    let classes = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    let strong = password.chars().count() >= 8 && classes.iter().filter(|c| **c).count() >= 3;
    if strong {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_body",
            "PasswordStrengthError: Password is too weak",
        ))
    }
}

/// A plausible email: one `@`, something on both sides, a dot in the domain, no spaces.
pub fn check_email(email: &str) -> Result<(), ApiError> {
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(body_error(
            "email",
            &format!("Object didn't pass validation for format email: {email}"),
        ))
    }
}

/// Length bounds of the name fields, from Auth0's schema.
pub fn check_length(property: &str, value: &str) -> Result<(), ApiError> {
    let max = match property {
        "given_name" | "family_name" => 150,
        "name" | "nickname" => 300,
        "username" => 128,
        _ => usize::MAX,
    };
    let chars = value.chars().count();
    if chars == 0 {
        return Err(body_error(
            property,
            "String is too short (0 chars), minimum 1",
        ));
    }
    if chars > max {
        return Err(body_error(
            property,
            &format!("String is too long ({chars} chars), maximum {max}"),
        ));
    }
    Ok(())
}

/// E.164, as Auth0's schema has it: `+` and up to 15 digits.
pub fn check_phone(phone: &str) -> Result<(), ApiError> {
    let digits = phone.strip_prefix('+').unwrap_or_default();
    if !digits.is_empty() && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(body_error(
            "phone_number",
            &format!("String does not match pattern ^\\+[0-9]{{1,15}}$: {phone}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn merge_replaces_top_level_keys_whole_and_null_deletes() {
        let existing = json!({"a": {"x": 1, "y": 2}, "b": 1, "c": 3});
        let merged = merge_metadata(Some(&existing), &object(json!({"a": {"x": 9}, "b": null})));
        assert_eq!(Value::Object(merged), json!({"a": {"x": 9}, "c": 3}));
    }

    #[test]
    fn an_empty_patch_clears_the_object() {
        let existing = json!({"a": 1});
        assert!(merge_metadata(Some(&existing), &Map::new()).is_empty());
    }

    #[test]
    fn keys_with_dots_or_dollars_are_refused_at_any_depth() {
        assert!(
            check_metadata("user_metadata", &json!({"ok": {"fine": [1, {"also": 2}]}})).is_ok()
        );
        assert!(check_metadata("user_metadata", &json!({"a.b": 1})).is_err());
        assert!(check_metadata("user_metadata", &json!({"a": [{"$b": 1}]})).is_err());
        assert!(check_metadata("app_metadata", &json!({"user_id": 1})).is_err());
        assert!(check_metadata("user_metadata", &json!({"user_id": 1})).is_ok());
    }

    #[test]
    fn password_policy_wants_eight_characters_of_three_kinds() {
        assert!(check_password("Tenant-Emulator-1").is_ok());
        assert!(check_password("abcdefgh").is_err());
        assert!(check_password("Ab1-").is_err());
        assert!(check_password("abcdefg1A").is_ok());
    }
}
