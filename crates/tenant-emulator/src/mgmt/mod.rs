//! The Management API (`/api/v2/…`): its routes, the path-id extractor and the `sapi` log every
//! successful write leaves.

pub mod auth;
mod blocks;
mod directory;
mod directory_write;
mod logs;
mod memberships;
pub(crate) mod params;
mod projection;
mod role_members;
mod stats;
mod tickets;
mod users_read;
mod users_write;
pub(crate) mod validate;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::middleware;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::errors::ApiError;
use crate::layers;
use crate::state::SharedState;
use crate::store::{LogEvent, LogKind, Store};
use auth::Caller;

/// The routes, each behind the tenant's rate limit.
pub fn router(state: SharedState) -> Router<SharedState> {
    Router::new()
        .route(
            "/api/v2/users",
            get(users_read::list).post(users_write::create),
        )
        .route(
            "/api/v2/users/{id}",
            get(users_read::get)
                .patch(users_write::update)
                .delete(users_write::delete),
        )
        .route("/api/v2/users/{id}/logs", get(logs::of_user))
        .route(
            "/api/v2/users/{id}/organizations",
            get(directory::user_organizations),
        )
        .route(
            "/api/v2/users/{id}/roles",
            get(directory::user_roles)
                .post(role_members::assign_to_user)
                .delete(role_members::remove_from_user),
        )
        .route("/api/v2/users-by-email", get(users_read::by_email))
        .route(
            "/api/v2/tickets/password-change",
            post(tickets::password_change),
        )
        .route(
            "/api/v2/tickets/email-verification",
            post(tickets::email_verification),
        )
        .route(
            "/api/v2/jobs/verification-email",
            post(tickets::verification_job),
        )
        .route("/api/v2/jobs/{id}", get(tickets::job))
        .route(
            "/api/v2/user-blocks/{id}",
            get(blocks::get_by_user).delete(blocks::delete_by_user),
        )
        .route(
            "/api/v2/user-blocks",
            get(blocks::get_by_identifier).delete(blocks::delete_by_identifier),
        )
        .route(
            "/api/v2/organizations",
            get(directory::organizations).post(directory_write::create_organization),
        )
        .route(
            "/api/v2/organizations/{id}/members",
            get(directory::organization_members)
                .post(memberships::add)
                .delete(memberships::remove),
        )
        .route(
            "/api/v2/roles",
            get(directory::roles).post(directory_write::create_role),
        )
        .route(
            "/api/v2/roles/{id}/users",
            get(directory::role_users).post(role_members::assign_users),
        )
        .route("/api/v2/stats/active-users", get(stats::active_users))
        .route("/api/v2/stats/daily", get(stats::daily))
        .layer(DefaultBodyLimit::max(params::MAX_BODY))
        .route_layer(middleware::from_fn_with_state(state, layers::limit))
}

/// The `{id}` of a path, percent-decoded (`auth0%7Cabc` is `auth0|abc`).
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(_) => Err(ApiError::bad_request(
                "invalid_uri",
                "Path validation error: 'Invalid path parameter'.",
            )),
        }
    }
}

/// Logs a successful Management API operation on a user, as Auth0's `sapi` events do.
pub fn log_api(
    store: &mut Store,
    user_id: &str,
    caller: &Caller,
    description: &str,
    request: (&str, &str),
    at: DateTime<Utc>,
) {
    let (method, path) = request;
    let user: Arc<str> = store
        .interned_id(user_id)
        .unwrap_or_else(|| Arc::from(user_id));
    let mut event = LogEvent::new(at, LogKind::Api);
    event.app = store.directory.app_index(&caller.client_id);
    event.agent = u8::try_from(crate::store::USER_AGENTS.len() - 1).unwrap_or(0);
    event.description = Some(description.into());
    event.details = Some(Box::new(json!({
        "request": { "method": method, "path": path, "channel": "api" },
        "response": { "statusCode": if method == "DELETE" { 204 } else { 200 } },
    })));
    store.logs.push(&user, event);
}
