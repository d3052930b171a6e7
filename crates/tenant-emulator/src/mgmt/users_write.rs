//! Writing users: `POST /api/v2/users`, `PATCH /api/v2/users/{id}` (root fields replace, `null`
//! unsets, metadata merged at the first level) and `DELETE /api/v2/users/{id}`, with their logs.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::auth::Auth;
use super::params::{
    Body, expect_str, json_object, only_known, optional_bool, optional_str, required_str,
};
use super::validate::{
    check_email, check_length, check_metadata, check_password, check_phone, check_size,
    merge_metadata,
};
use super::{PathId, log_api};
use crate::clock::iso;
use crate::errors::{ApiError, json_response};
use crate::profile::{NewProfile, new_profile, object_id};
use crate::state::SharedState;
use crate::store::{Conflict, Connection, Credentials, LogEvent, LogKind, Store};

const CREATE_FIELDS: &[&str] = &[
    "connection",
    "email",
    "phone_number",
    "user_metadata",
    "blocked",
    "email_verified",
    "phone_verified",
    "app_metadata",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "user_id",
    "password",
    "verify_email",
    "username",
];

const UPDATE_FIELDS: &[&str] = &[
    "blocked",
    "email_verified",
    "email",
    "phone_number",
    "phone_verified",
    "user_metadata",
    "app_metadata",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "verify_email",
    "verify_phone_number",
    "password",
    "connection",
    "client_id",
    "username",
];

/// Root string fields a write may set, and a PATCH may unset with `null`.
const NULLABLE_STRINGS: &[&str] = &[
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "username",
    "phone_number",
];

/// Checks one root string field's value (`null` allowed when `nullable`).
fn check_root_string(key: &str, value: &Value, nullable: bool) -> Result<(), ApiError> {
    if value.is_null() && nullable {
        return Ok(());
    }
    let text = expect_str(key, value)?;
    match key {
        "phone_number" => check_phone(text),
        "picture" => Ok(()),
        _ => check_length(key, text),
    }
}

fn check_bool(body: &Map<String, Value>, keys: &[&str]) -> Result<(), ApiError> {
    keys.iter()
        .try_for_each(|k| optional_bool(body, k).map(drop))
}

/// `POST /api/v2/users`
pub async fn create(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["create:users"])?;
    let body = json_object(&body)?;
    only_known(&body, CREATE_FIELDS)?;
    let connection_name = required_str(&body, "connection")?;
    check_bool(
        &body,
        &[
            "blocked",
            "email_verified",
            "phone_verified",
            "verify_email",
        ],
    )?;
    for key in NULLABLE_STRINGS {
        if let Some(value) = body.get(*key) {
            check_root_string(key, value, false)?;
        }
    }
    for key in ["user_metadata", "app_metadata"] {
        if let Some(value) = body.get(key) {
            check_metadata(key, value)?;
            check_size(key, value.as_object().unwrap_or(&Map::new()))?;
        }
    }
    let email = optional_str(&body, "email")?;
    let password = optional_str(&body, "password")?;
    let given_id = optional_str(&body, "user_id")?;

    let now = state.clock.now();
    let mut store = state.write();
    let Some(connection) = store.directory.connection(connection_name).cloned() else {
        return Err(ApiError::bad_request(
            "inexistent_connection",
            "The connection does not exist.",
        ));
    };
    if !connection.is_database() {
        return Err(ApiError::bad_request(
            "operation_not_supported",
            "Connection is not supported for this operation.",
        ));
    }
    let email = email.ok_or_else(|| {
        ApiError::invalid_body("Payload validation error: 'Missing required property: email'.")
    })?;
    check_email(email)?;
    let password = password.ok_or_else(|| {
        ApiError::invalid_body("Payload validation error: 'Missing required property: password'.")
    })?;
    check_password(password)?;
    // Auth0 takes the id without its provider prefix; tolerate one that names this provider.
    let prefix = format!("{}|", connection.strategy);
    let id_tail = match given_id {
        Some(id) => id.strip_prefix(prefix.as_str()).unwrap_or(id).to_owned(),
        None => object_id(now, rand::random()),
    };
    let email_verified = optional_bool(&body, "email_verified")?.unwrap_or(false);
    let mut profile = new_profile(NewProfile {
        connection: &connection,
        id_tail,
        email: Some(email.to_owned()),
        email_verified,
        name: None,
        created_at: now,
    });
    for (key, value) in &body {
        match key.as_str() {
            "blocked" | "phone_verified" | "user_metadata" | "app_metadata" => {
                profile.insert(key.clone(), value.clone());
            }
            k if NULLABLE_STRINGS.contains(&k) => {
                profile.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    let verify = optional_bool(&body, "verify_email")?.unwrap_or(!email_verified);
    let credentials = Credentials {
        password: Some(Arc::from(password)),
        ..Credentials::default()
    };
    let created = store
        .insert(Value::Object(profile), credentials, Instant::now())
        .map_err(|_| ApiError::user_exists())?;
    let id = crate::store::user_id(&created)
        .unwrap_or_default()
        .to_owned();
    store.logs.add_signup(now);
    log_api(
        &mut store,
        &id,
        &caller,
        "Create a User",
        ("POST", "/api/v2/users"),
        now,
    );
    if verify {
        log_user_event(
            &mut store,
            &id,
            LogKind::VerificationSent,
            &caller.client_id,
            now,
        );
    }
    drop(store);
    Ok(json_response(StatusCode::CREATED, &*created))
}

/// Stores a user-facing event (`svr`, `scp`, …) of `user_id` raised by a Management API call.
pub fn log_user_event(
    store: &mut Store,
    user_id: &str,
    kind: LogKind,
    client_id: &str,
    at: chrono::DateTime<chrono::Utc>,
) {
    let Some(user) = store.get(user_id).cloned() else {
        return;
    };
    let mut event = LogEvent::new(at, kind);
    event.app = store.directory.app_index(client_id);
    event.connection =
        crate::store::connection(&user).and_then(|c| store.directory.connection_index(c));
    event.user_name = crate::store::email(&user).map(Arc::from);
    if let Some(id) = store.interned_id(user_id) {
        store.logs.push(&id, event);
    }
}

/// `PATCH /api/v2/users/{id}`
pub async fn update(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["update:users", "update:users_app_metadata"])?;
    let patch = json_object(&body)?;
    if patch.is_empty() {
        return Err(ApiError::invalid_body(
            "Payload validation error: 'Too few properties defined (0), minimum 1'.",
        ));
    }
    only_known(&patch, UPDATE_FIELDS)?;
    if !caller.has("update:users") && patch.keys().any(|k| k != "app_metadata") {
        return Err(ApiError::insufficient_scope(&["update:users"]));
    }
    check_bool(
        &patch,
        &[
            "blocked",
            "email_verified",
            "phone_verified",
            "verify_email",
            "verify_phone_number",
        ],
    )?;
    for key in NULLABLE_STRINGS {
        if let Some(value) = patch.get(*key) {
            check_root_string(key, value, true)?;
        }
    }
    for key in ["connection", "client_id"] {
        optional_str(&patch, key)?;
    }
    for key in ["user_metadata", "app_metadata"] {
        if let Some(value) = patch.get(key) {
            check_metadata(key, value)?;
        }
    }
    let new_email = patch
        .get("email")
        .map(|v| expect_str("email", v))
        .transpose()?;
    if let Some(email) = new_email {
        check_email(email)?;
    }
    let new_password = patch
        .get("password")
        .map(|v| expect_str("password", v))
        .transpose()?;
    if new_email.is_some() && new_password.is_some() {
        return Err(ApiError::bad_request(
            "operation_not_supported",
            "Cannot update password and email simultaneously",
        ));
    }

    let now = state.clock.now();
    let mut store = state.write();
    let current = store
        .get(&id)
        .cloned()
        .ok_or_else(ApiError::user_not_found)?;
    if let Some(name) = patch.get("connection").and_then(Value::as_str)
        && store.directory.connection(name).is_none()
    {
        return Err(ApiError::bad_request(
            "inexistent_connection",
            "The connection does not exist.",
        ));
    }
    let is_database = crate::store::connection(&current)
        .and_then(|c| store.directory.connection(c))
        .is_some_and(Connection::is_database);
    if new_password.is_some() && !is_database {
        return Err(ApiError::bad_request(
            "operation_not_supported",
            "Cannot update password for non-database connections",
        ));
    }
    if let Some(password) = new_password {
        check_password(password)?;
    }
    let mut profile = current.as_object().cloned().unwrap_or_default();
    for (key, value) in &patch {
        match key.as_str() {
            "blocked" | "email_verified" | "phone_verified" => {
                profile.insert(key.clone(), value.clone());
            }
            k if NULLABLE_STRINGS.contains(&k) => {
                if value.is_null() {
                    profile.remove(k);
                } else {
                    profile.insert(key.clone(), value.clone());
                }
            }
            "user_metadata" | "app_metadata" => {
                let merged =
                    merge_metadata(profile.get(key), value.as_object().unwrap_or(&Map::new()));
                check_size(key, &merged)?;
                profile.insert(key.clone(), Value::Object(merged));
            }
            _ => {}
        }
    }
    let email_changed = new_email.map(|e| {
        if is_database {
            e.to_lowercase()
        } else {
            e.to_owned()
        }
    });
    if let Some(email) = &email_changed {
        if crate::store::email(&current) != Some(email.as_str()) {
            // A new address is unverified unless the same request says otherwise.
            if !patch.contains_key("email_verified") {
                profile.insert("email_verified".into(), json!(false));
            }
        }
        profile.insert("email".into(), json!(email));
    }
    if new_password.is_some() {
        profile.insert("last_password_reset".into(), json!(iso(now)));
    }
    profile.insert("updated_at".into(), json!(iso(now)));
    let updated = match store.replace(Value::Object(profile), Instant::now()) {
        Ok(updated) => updated,
        Err(Conflict::EmailTaken) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "auth0_idp_error",
                "The specified new email already exists",
            ));
        }
        Err(Conflict::UserIdTaken) => return Err(ApiError::user_not_found()),
    };
    if let Some(password) = new_password {
        store.set_password(&id, password);
        log_user_event(
            &mut store,
            &id,
            LogKind::PasswordChanged,
            &caller.client_id,
            now,
        );
    }
    if email_changed
        .as_deref()
        .is_some_and(|e| crate::store::email(&current) != Some(e))
    {
        log_user_event(
            &mut store,
            &id,
            LogKind::EmailChanged,
            &caller.client_id,
            now,
        );
    }
    if email_changed.is_some() && optional_bool(&patch, "verify_email")?.unwrap_or(false) {
        log_user_event(
            &mut store,
            &id,
            LogKind::VerificationSent,
            &caller.client_id,
            now,
        );
    }
    let path = format!("/api/v2/users/{id}");
    log_api(
        &mut store,
        &id,
        &caller,
        "Update a User",
        ("PATCH", &path),
        now,
    );
    drop(store);
    Ok(json_response(StatusCode::OK, &*updated))
}

/// `DELETE /api/v2/users/{id}`: 204; the user leaves its organizations and roles, its
/// brute-force blocks go, its logs stay.
pub async fn delete(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    caller.require(&["delete:users"])?;
    let now = state.clock.now();
    let mut store = state.write();
    let Some(user) = store.get(&id).cloned() else {
        return Err(ApiError::user_not_found());
    };
    log_user_event(&mut store, &id, LogKind::Deleted, &caller.client_id, now);
    let path = format!("/api/v2/users/{id}");
    log_api(
        &mut store,
        &id,
        &caller,
        "Delete a User",
        ("DELETE", &path),
        now,
    );
    store.delete(&id, Instant::now());
    let identifiers: Vec<&str> = ["email", "username"]
        .iter()
        .filter_map(|k| user.get(*k).and_then(Value::as_str))
        .collect();
    store.directory.unblock(&identifiers);
    drop(store);
    Ok(StatusCode::NO_CONTENT.into_response())
}
