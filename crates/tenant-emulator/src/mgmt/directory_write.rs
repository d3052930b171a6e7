//! Creating organizations and roles: `POST /api/v2/organizations` and `POST /api/v2/roles`,
//! with Auth0's schema checks, unique names and entity limits.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::auth::Auth;
use super::params::{
    Body, body_error, json_object, only_known, optional_str, required_str, type_name,
};
use crate::errors::{ApiError, json_response};
use crate::profile::random_alnum;
use crate::state::SharedState;
use crate::store::{ORGANIZATIONS_PER_TENANT, Organization, ROLES_PER_TENANT, Role};

/// What `CreateOrganizationRequestContent` holds; the last three are Auth0's but not emulated.
const ORGANIZATION_FIELDS: &[&str] = &[
    "name",
    "display_name",
    "metadata",
    "branding",
    "enabled_connections",
    "token_quota",
];
const NOT_EMULATED: &[&str] = &["branding", "enabled_connections", "token_quota"];

/// Auth0's `metadata` of an organization: up to 25 properties, each a string of up to 255
/// characters (or null, which sets nothing).
const METADATA_PROPERTIES: usize = 25;
const METADATA_VALUE_CHARS: usize = 255;

/// A string property's length bounds, in Auth0's schema wording.
fn check_chars(property: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let chars = value.chars().count();
    if chars < min {
        return Err(body_error(
            property,
            &format!("String is too short ({chars} chars), minimum {min}"),
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

/// Auth0's `organization-name` format: lowercase letters, digits, `_` and `-` (a digit may come
/// first), 1 to 50 characters.
pub fn check_organization_name(name: &str) -> Result<(), ApiError> {
    check_chars("name", name, 1, 50)?;
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    if name.chars().all(allowed) {
        Ok(())
    } else {
        Err(body_error(
            "name",
            &format!("Object didn't pass validation for format organization-name: {name}"),
        ))
    }
}

/// The organization's `metadata` as stored: string values only, nulls dropped.
fn organization_metadata(value: &Value) -> Result<Value, ApiError> {
    let Value::Object(object) = value else {
        return Err(body_error(
            "metadata",
            &format!("Expected type object but found type {}", type_name(value)),
        ));
    };
    if object.len() > METADATA_PROPERTIES {
        return Err(body_error(
            "metadata",
            &format!(
                "Too many properties defined ({}), maximum {METADATA_PROPERTIES}",
                object.len()
            ),
        ));
    }
    let mut kept = Map::new();
    for (key, item) in object {
        let property = format!("metadata.{key}");
        match item {
            Value::Null => {}
            Value::String(text) => {
                check_chars(&property, text, 0, METADATA_VALUE_CHARS)?;
                kept.insert(key.clone(), item.clone());
            }
            other => {
                return Err(body_error(
                    &property,
                    &format!(
                        "Expected type string,null but found type {}",
                        type_name(other)
                    ),
                ));
            }
        }
    }
    Ok(Value::Object(kept))
}

/// Auth0's answer when an entity limit would be passed (status, code and wording are the
/// emulator's: Auth0 documents the limits, not the answer).
pub fn entity_limit(entity: &str, limit: usize) -> ApiError {
    ApiError::bad_request(
        "too_many_entities",
        format!("The tenant has reached its limit of {limit} {entity} (Auth0's entity limit)."),
    )
}

/// `POST /api/v2/organizations`: 201 with the organization.
pub async fn create_organization(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["create:organizations"])?;
    let body = json_object(&body)?;
    only_known(&body, ORGANIZATION_FIELDS)?;
    if let Some(field) = NOT_EMULATED.iter().find(|f| body.contains_key(**f)) {
        return Err(ApiError::bad_request(
            "operation_not_supported",
            format!("The emulator does not support '{field}' on organizations."),
        ));
    }
    let name = required_str(&body, "name")?;
    check_organization_name(name)?;
    let display_name = optional_str(&body, "display_name")?;
    if let Some(display_name) = display_name {
        check_chars("display_name", display_name, 1, 255)?;
    }
    let metadata = body
        .get("metadata")
        .map(organization_metadata)
        .transpose()?
        .unwrap_or(Value::Null);
    let created_at = state.clock.now();
    let mut store = state.write();
    if store.directory.organization_named(name).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "An organization with this name already exists.",
        ));
    }
    if store.directory.organizations.len() >= ORGANIZATIONS_PER_TENANT {
        return Err(entity_limit("organizations", ORGANIZATIONS_PER_TENANT));
    }
    let organization = Organization {
        id: format!("org_{}", random_alnum(&mut rand::thread_rng(), 16)),
        name: name.to_owned(),
        display_name: display_name.map(str::to_owned),
        metadata,
        created_at,
        members: Default::default(),
        member_roles: Default::default(),
        unlisted: Vec::new(),
    };
    let answer = organization.to_json();
    store.directory.organizations.push(organization);
    Ok(json_response(StatusCode::CREATED, &answer))
}

/// `POST /api/v2/roles`: 200 with the role.
pub async fn create_role(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["create:roles"])?;
    let body = json_object(&body)?;
    only_known(&body, &["name", "description"])?;
    let name = required_str(&body, "name")?;
    let description = optional_str(&body, "description")?;
    let mut store = state.write();
    if store.directory.role_named(name).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "The role already exists.",
        ));
    }
    if store.directory.roles.len() >= ROLES_PER_TENANT {
        return Err(entity_limit("roles", ROLES_PER_TENANT));
    }
    let role = Role {
        id: format!("rol_{}", random_alnum(&mut rand::thread_rng(), 16)),
        name: name.to_owned(),
        description: description.map(str::to_owned),
        permissions: Vec::new(),
        users: Default::default(),
    };
    let answer = role.to_json();
    store.directory.roles.push(role);
    Ok(json_response(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn organization_names_are_lowercase_letters_digits_dashes_and_underscores() {
        assert!(check_organization_name("acme").is_ok());
        assert!(check_organization_name("2nd_team-eu").is_ok());
        assert!(check_organization_name(&"a".repeat(50)).is_ok());
        for bad in ["", "Acme", "acme inc", "acme.eu", "café", &"a".repeat(51)] {
            assert!(check_organization_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metadata_holds_at_most_25_strings_of_255_characters() {
        assert_eq!(
            organization_metadata(&json!({"a": "x", "b": null})).unwrap(),
            json!({"a": "x"})
        );
        assert!(organization_metadata(&json!({"a": 1})).is_err());
        assert!(organization_metadata(&json!({"a": "x".repeat(256)})).is_err());
        let many: Map<String, Value> = (0..26).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(organization_metadata(&Value::Object(many)).is_err());
        assert!(organization_metadata(&json!(["a"])).is_err());
    }
}
