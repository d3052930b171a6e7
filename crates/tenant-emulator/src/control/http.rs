//! The control API over HTTP under `/__emulator/` (no token; never counted, never faulted).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{Control, MintRequest};
use crate::config::{ExtraUser, Persona};
use crate::errors::{ApiError, json_response};
use crate::faults::Faults;
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/stats/reset", post(reset_stats))
        .route("/__emulator/requests", get(recent_requests))
        .route(
            "/__emulator/faults",
            put(set_faults).get(get_faults).delete(clear_faults),
        )
        .route("/__emulator/users", get(users).post(add_user))
        .route("/__emulator/organizations", get(organizations))
        .route("/__emulator/personas", get(personas).post(add_persona))
        .route("/__emulator/tokens", post(mint_token))
        .route("/__emulator/keys/rotate", post(rotate_keys))
}

fn control(state: &SharedState) -> Control {
    Control::new(state.clone())
}

/// A JSON body; an empty body reads as `{}` so that `POST` without one takes the defaults.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_body(e.to_string()))
}

fn bad_request(error: &anyhow::Error) -> ApiError {
    ApiError::invalid_body(format!("{error:#}"))
}

async fn stats(State(state): State<SharedState>) -> Response {
    json_response(StatusCode::OK, &control(&state).stats())
}

async fn recent_requests(State(state): State<SharedState>) -> Response {
    json_response(StatusCode::OK, &control(&state).recent_requests())
}

async fn reset_stats(State(state): State<SharedState>) -> StatusCode {
    control(&state).reset_stats();
    StatusCode::NO_CONTENT
}

async fn set_faults(
    State(state): State<SharedState>,
    bytes: Bytes,
) -> Result<StatusCode, ApiError> {
    let faults: Faults = body(&bytes)?;
    control(&state)
        .set_faults(faults)
        .map_err(|e| bad_request(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_faults(State(state): State<SharedState>) -> Response {
    json_response(
        StatusCode::OK,
        &control(&state).faults().unwrap_or_default(),
    )
}

async fn clear_faults(State(state): State<SharedState>) -> StatusCode {
    control(&state).clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Window {
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn users(
    State(state): State<SharedState>,
    window: Result<Query<Window>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(window) = window.map_err(|e| ApiError::invalid_query(e.body_text()))?;
    let page = control(&state).users(window.limit.unwrap_or(100), window.offset.unwrap_or(0));
    Ok(json_response(StatusCode::OK, &page))
}

async fn add_user(State(state): State<SharedState>, bytes: Bytes) -> Result<Response, ApiError> {
    let user: ExtraUser = body(&bytes)?;
    let profile = control(&state).add_user(user).map_err(|e| {
        let mut error = bad_request(&e);
        if error.message.starts_with("The user already exists") {
            error.status = StatusCode::CONFLICT;
            error.code = "user_exists";
        }
        error
    })?;
    Ok(json_response(StatusCode::CREATED, &profile))
}

async fn organizations(State(state): State<SharedState>) -> Response {
    json_response(StatusCode::OK, &control(&state).organizations())
}

async fn personas(State(state): State<SharedState>) -> Response {
    json_response(StatusCode::OK, &control(&state).personas())
}

async fn add_persona(State(state): State<SharedState>, bytes: Bytes) -> Result<Response, ApiError> {
    let persona: Persona = body(&bytes)?;
    control(&state)
        .add_persona(persona.clone())
        .map_err(|e| bad_request(&e))?;
    Ok(json_response(StatusCode::CREATED, &persona))
}

async fn mint_token(State(state): State<SharedState>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: MintRequest = body(&bytes)?;
    let control = control(&state);
    // The foreign key may need generating: keep that off the async workers.
    let token = tokio::task::spawn_blocking(move || control.mint_token(request))
        .await
        .map_err(|e| bad_request(&anyhow::Error::new(e)))?
        .map_err(|e| bad_request(&e))?;
    Ok(json_response(StatusCode::OK, &json!({ "token": token })))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Rotate {
    retire_old: bool,
}

async fn rotate_keys(State(state): State<SharedState>, bytes: Bytes) -> Result<Response, ApiError> {
    let rotate: Rotate = body(&bytes)?;
    let kid = control(&state)
        .rotate_keys(rotate.retire_old)
        .await
        .map_err(|e| bad_request(&e))?;
    Ok((StatusCode::OK, axum::Json(json!({ "kid": kid }))).into_response())
}
