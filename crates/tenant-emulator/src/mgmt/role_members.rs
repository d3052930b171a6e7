//! Tenant-wide role assignments: `POST` and `DELETE /api/v2/users/{id}/roles` with
//! `{"roles": [role ids]}`, and `POST /api/v2/roles/{id}/users` with `{"users": [user ids]}`.
//! A user holds at most 50 roles (Auth0's entity limit).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::Auth;
use super::directory_write::entity_limit;
use super::params::{Body, body_error, json_object, only_known, type_name};
use super::{PathId, log_api};
use crate::errors::ApiError;
use crate::state::SharedState;
use crate::store::{ROLES_PER_USER, Store};

/// The array `property` of the body: strings, at least `min_items` of them, each at least
/// `min_chars` long (Auth0's schemas differ between the two endpoints).
fn ids(
    body: &Bytes,
    property: &str,
    min_items: usize,
    min_chars: usize,
) -> Result<Vec<String>, ApiError> {
    let body = json_object(body)?;
    only_known(&body, &[property])?;
    let Some(items) = body.get(property) else {
        return Err(ApiError::invalid_body(format!(
            "Payload validation error: 'Missing required property: {property}'."
        )));
    };
    let Value::Array(items) = items else {
        let found = type_name(items);
        return Err(body_error(
            property,
            &format!("Expected type array but found type {found}"),
        ));
    };
    if items.len() < min_items {
        return Err(body_error(
            property,
            &format!("Array is too short ({}), minimum {min_items}", items.len()),
        ));
    }
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(id) if id.chars().count() >= min_chars => Ok(id.to_owned()),
            Some(id) => Err(body_error(
                property,
                &format!(
                    "String is too short ({} chars), minimum {min_chars}",
                    id.chars().count()
                ),
            )),
            None => Err(body_error(
                property,
                &format!("Expected type string but found type {}", type_name(item)),
            )),
        })
        .collect()
}

fn role_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "inexistent_role",
        "The role does not exist.",
    )
}

/// The interned id of a current user.
fn existing_user(store: &Store, id: &str) -> Option<Arc<str>> {
    store.interned_id(id).filter(|_| store.get(id).is_some())
}

/// Refuses assignments that would leave `user` with more than 50 roles.
fn check_role_count(store: &Store, user: &str, adding: &BTreeSet<&str>) -> Result<(), ApiError> {
    let held: BTreeSet<&str> = store
        .directory
        .roles_of(user)
        .map(|r| r.id.as_str())
        .collect();
    if held.union(adding).count() > ROLES_PER_USER {
        return Err(entity_limit("roles per user", ROLES_PER_USER));
    }
    Ok(())
}

/// `POST /api/v2/users/{id}/roles`: 204; the user and every role must exist.
pub async fn assign_to_user(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["update:users", "create:role_members"])?;
    let roles = ids(&body, "roles", 1, 1)?;
    let now = state.clock.now();
    let mut store = state.write();
    let user = existing_user(&store, &id).ok_or_else(ApiError::user_not_found)?;
    if roles.iter().any(|r| store.directory.role(r).is_none()) {
        return Err(role_not_found());
    }
    let adding: BTreeSet<&str> = roles.iter().map(String::as_str).collect();
    check_role_count(&store, &id, &adding)?;
    for role in &roles {
        if let Some(role) = store.directory.role_mut(role) {
            role.users.insert(Arc::clone(&user));
        }
    }
    let path = format!("/api/v2/users/{id}/roles");
    log_api(
        &mut store,
        &id,
        &caller,
        "Assign roles to a user",
        ("POST", &path),
        now,
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v2/users/{id}/roles`: 204; roles the user does not hold are ignored.
pub async fn remove_from_user(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["update:users", "delete:role_members"])?;
    let roles = ids(&body, "roles", 1, 1)?;
    let now = state.clock.now();
    let mut store = state.write();
    if existing_user(&store, &id).is_none() {
        return Err(ApiError::user_not_found());
    }
    for role in &roles {
        if let Some(role) = store.directory.role_mut(role) {
            role.users.remove(id.as_str());
        }
    }
    let path = format!("/api/v2/users/{id}/roles");
    log_api(
        &mut store,
        &id,
        &caller,
        "Removes roles from a user",
        ("DELETE", &path),
        now,
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v2/roles/{id}/users`: 200 without a body; the role and every user must exist.
pub async fn assign_users(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["update:roles", "create:role_members"])?;
    let users = ids(&body, "users", 0, 0)?;
    let now = state.clock.now();
    let mut store = state.write();
    if store.directory.role(&id).is_none() {
        return Err(role_not_found());
    }
    let mut interned = Vec::with_capacity(users.len());
    for user in &users {
        let Some(user) = existing_user(&store, user) else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "inexistent_user",
                "One or more of the users do not exist.",
            ));
        };
        interned.push(user);
    }
    let adding = BTreeSet::from([id.as_str()]);
    for user in &users {
        check_role_count(&store, user, &adding)?;
    }
    if let Some(role) = store.directory.role_mut(&id) {
        role.users.extend(interned);
    }
    let path = format!("/api/v2/roles/{id}/users");
    for user in &users {
        log_api(
            &mut store,
            user,
            &caller,
            "Assign users to a role",
            ("POST", &path),
            now,
        );
    }
    Ok(StatusCode::OK.into_response())
}
