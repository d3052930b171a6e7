//! Brute-force blocks (`/api/v2/user-blocks`), separate from the admin block (`blocked: true` on
//! the profile), which lifting them leaves alone.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::Auth;
use super::params::QueryParams;
use super::{PathId, log_api};
use crate::errors::{ApiError, json_response};
use crate::state::SharedState;
use crate::store::BlockedFor;

/// The identifiers a user can be blocked under.
fn identifiers(user: &Value) -> Vec<&str> {
    ["email", "username", "phone_number"]
        .iter()
        .filter_map(|k| user.get(*k).and_then(Value::as_str))
        .collect()
}

fn blocked_for(blocks: &[&BlockedFor]) -> Value {
    json!({ "blocked_for": blocks.iter().map(|b| b.to_json()).collect::<Vec<_>>() })
}

fn identifier(raw: Option<&str>) -> Result<String, ApiError> {
    let query = QueryParams::parse(raw, &["identifier", "consider_brute_force_enablement"])?;
    query
        .non_empty("identifier")
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::invalid_query(
                "Query validation error: 'Missing required property: identifier'.",
            )
        })
}

/// `GET /api/v2/user-blocks/{id}`
pub async fn get_by_user(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:users"])?;
    QueryParams::parse(raw.as_deref(), &["consider_brute_force_enablement"])?;
    let store = state.read();
    let user = store.get(&id).ok_or_else(ApiError::user_not_found)?;
    let blocks = store.directory.blocks_of(&identifiers(user));
    Ok(json_response(StatusCode::OK, &blocked_for(&blocks)))
}

/// `DELETE /api/v2/user-blocks/{id}`
pub async fn delete_by_user(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    caller.require(&["update:users"])?;
    let now = state.clock.now();
    let mut store = state.write();
    let user = store
        .get(&id)
        .cloned()
        .ok_or_else(ApiError::user_not_found)?;
    store.directory.unblock(&identifiers(&user));
    let path = format!("/api/v2/user-blocks/{id}");
    log_api(
        &mut store,
        &id,
        &caller,
        "Unblock a user",
        ("DELETE", &path),
        now,
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v2/user-blocks?identifier=`
pub async fn get_by_identifier(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:users"])?;
    let identifier = identifier(raw.as_deref())?;
    let store = state.read();
    let blocks = store.directory.blocks_of(&[identifier.as_str()]);
    Ok(json_response(StatusCode::OK, &blocked_for(&blocks)))
}

/// `DELETE /api/v2/user-blocks?identifier=`: 204 whether or not anything was blocked.
pub async fn delete_by_identifier(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["update:users"])?;
    let identifier = identifier(raw.as_deref())?;
    let now = state.clock.now();
    let mut store = state.write();
    store.directory.unblock(&[identifier.as_str()]);
    let holders: Vec<String> = store
        .by_email(&identifier)
        .filter_map(|u| crate::store::user_id(u).map(str::to_owned))
        .collect();
    for id in holders {
        log_api(
            &mut store,
            &id,
            &caller,
            "Unblock a user",
            ("DELETE", "/api/v2/user-blocks"),
            now,
        );
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
