//! Organization membership writes: `POST` and `DELETE /api/v2/organizations/{id}/members` with
//! `{"members": [user ids]}`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::Auth;
use super::params::{Body, body_error, json_object, only_known, type_name};
use super::{PathId, log_api};
use crate::errors::ApiError;
use crate::state::SharedState;

/// The `members` array of the body: 1 to 10 user ids, as Auth0's schema has it.
fn members(body: &axum::body::Bytes) -> Result<Vec<String>, ApiError> {
    let body = json_object(body)?;
    only_known(&body, &["members"])?;
    let Some(members) = body.get("members") else {
        return Err(ApiError::invalid_body(
            "Payload validation error: 'Missing required property: members'.",
        ));
    };
    let Value::Array(items) = members else {
        let found = type_name(members);
        return Err(body_error(
            "members",
            &format!("Expected type array but found type {found}"),
        ));
    };
    if items.is_empty() || items.len() > 10 {
        return Err(body_error(
            "members",
            "Array must hold between 1 and 10 items",
        ));
    }
    items
        .iter()
        .map(|item| {
            item.as_str().map(str::to_owned).ok_or_else(|| {
                let found = type_name(item);
                body_error(
                    "members",
                    &format!("Expected type string but found type {found}"),
                )
            })
        })
        .collect()
}

fn organization_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "inexistent_organization",
        "No organization found by that id or name",
    )
}

/// `POST /api/v2/organizations/{id}/members`: 204; every user must exist.
pub async fn add(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["create:organization_members"])?;
    let members = members(&body)?;
    let now = state.clock.now();
    let mut store = state.write();
    if store.directory.organization(&id).is_none() {
        return Err(organization_not_found());
    }
    let mut interned: Vec<Arc<str>> = Vec::with_capacity(members.len());
    for member in &members {
        match store
            .interned_id(member)
            .filter(|_| store.get(member).is_some())
        {
            Some(user) => interned.push(user),
            None => return Err(ApiError::user_not_found()),
        }
    }
    let (written, lag) = (Instant::now(), store.directory.membership_lag);
    if let Some(org) = store
        .directory
        .organizations
        .iter_mut()
        .find(|o| o.id == id)
    {
        for member in interned {
            org.add_member(member, Some(written), lag);
        }
    }
    let path = format!("/api/v2/organizations/{id}/members");
    for member in &members {
        log_api(
            &mut store,
            member,
            &caller,
            "Add members to an organization",
            ("POST", &path),
            now,
        );
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v2/organizations/{id}/members`: 204, whether or not they were members.
pub async fn remove(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["delete:organization_members"])?;
    let members = members(&body)?;
    let now = state.clock.now();
    let mut store = state.write();
    let profiles: Vec<Option<Arc<Value>>> = members.iter().map(|m| store.get(m).cloned()).collect();
    let (written, lag) = (Instant::now(), store.directory.membership_lag);
    let Some(org) = store
        .directory
        .organizations
        .iter_mut()
        .find(|o| o.id == id)
    else {
        return Err(organization_not_found());
    };
    for (member, profile) in members.iter().zip(profiles) {
        org.remove_member(member, profile, Some(written), lag);
    }
    let path = format!("/api/v2/organizations/{id}/members");
    for member in &members {
        let description = "Delete members from an organization";
        log_api(
            &mut store,
            member,
            &caller,
            description,
            ("DELETE", &path),
            now,
        );
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
