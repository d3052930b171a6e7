//! Tickets and jobs: `POST /api/v2/tickets/password-change`,
//! `POST /api/v2/tickets/email-verification`,
//! `POST /api/v2/jobs/verification-email` and `GET /api/v2/jobs/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::auth::Auth;
use super::params::{
    Body, body_error, json_object, only_known, optional_bool, optional_str, required_str,
};
use super::users_write::log_user_event;
use super::{PathId, log_api};
use crate::clock::iso;
use crate::errors::{ApiError, json_response};
use crate::profile::random_alnum;
use crate::state::SharedState;
use crate::store::{Connection, Job, LogKind};

fn check_ttl(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.get("ttl_sec") {
        None => Ok(()),
        Some(v) if v.as_u64().is_some() => Ok(()),
        Some(_) => Err(body_error("ttl_sec", "Expected a non-negative integer")),
    }
}

fn ticket_url(domain: &str, path: &str) -> String {
    format!(
        "https://{domain}{path}?ticket={}#",
        random_alnum(&mut rand::thread_rng(), 32)
    )
}

/// `POST /api/v2/tickets/password-change`: for `user_id`, or `email` with `connection_id`;
/// database users only.
pub async fn password_change(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["create:user_tickets"])?;
    let body = json_object(&body)?;
    only_known(
        &body,
        &[
            "result_url",
            "user_id",
            "client_id",
            "organization_id",
            "connection_id",
            "email",
            "ttl_sec",
            "mark_email_as_verified",
            "includeEmailInRedirect",
        ],
    )?;
    for key in ["result_url", "client_id", "organization_id"] {
        optional_str(&body, key)?;
    }
    optional_bool(&body, "mark_email_as_verified")?;
    optional_bool(&body, "includeEmailInRedirect")?;
    check_ttl(&body)?;
    let user_id = optional_str(&body, "user_id")?;
    let email = optional_str(&body, "email")?;
    let connection_id = optional_str(&body, "connection_id")?;
    let now = state.clock.now();
    let mut store = state.write();
    let user = match (user_id, email, connection_id) {
        (Some(id), _, _) => store.get(id).cloned(),
        (None, Some(email), Some(connection_id)) => {
            let connection = store
                .directory
                .connection_by_id(connection_id)
                .map(|c| c.name.clone())
                .ok_or_else(|| {
                    ApiError::bad_request("inexistent_connection", "The connection does not exist.")
                })?;
            store.by_connection_email(&connection, email).cloned()
        }
        _ => {
            return Err(ApiError::invalid_body(
                "Payload validation error: 'Missing required property: user_id' (or email and \
                 connection_id).",
            ));
        }
    };
    let user = user.ok_or_else(ApiError::user_not_found)?;
    let database = crate::store::connection(&user)
        .and_then(|c| store.directory.connection(c))
        .is_some_and(Connection::is_database);
    if !database {
        return Err(ApiError::bad_request(
            "operation_not_supported",
            "Password change tickets are only supported for users of database connections.",
        ));
    }
    let id = crate::store::user_id(&user).unwrap_or_default().to_owned();
    let path = "/api/v2/tickets/password-change";
    log_api(
        &mut store,
        &id,
        &caller,
        "Create a password change ticket",
        ("POST", path),
        now,
    );
    drop(store);
    let ticket = ticket_url(&state.tenant.domain, "/lo/reset");
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "ticket": ticket }),
    ))
}

/// `POST /api/v2/tickets/email-verification`
pub async fn email_verification(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["create:user_tickets"])?;
    let body = json_object(&body)?;
    only_known(
        &body,
        &[
            "result_url",
            "user_id",
            "client_id",
            "organization_id",
            "ttl_sec",
            "includeEmailInRedirect",
            "identity",
        ],
    )?;
    let user_id = required_str(&body, "user_id")?;
    check_ttl(&body)?;
    let now = state.clock.now();
    let mut store = state.write();
    if store.get(user_id).is_none() {
        return Err(ApiError::user_not_found());
    }
    let path = "/api/v2/tickets/email-verification";
    log_api(
        &mut store,
        user_id,
        &caller,
        "Create an email verification ticket",
        ("POST", path),
        now,
    );
    drop(store);
    let ticket = ticket_url(&state.tenant.domain, "/u/email-verification");
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "ticket": ticket }),
    ))
}

fn job_json(job: &Job, status: &str) -> Value {
    json!({ "type": job.kind, "status": status, "created_at": job.created_at, "id": job.id })
}

/// `POST /api/v2/jobs/verification-email`: answered `pending`; the email goes out at once, so
/// the job reads `completed` from then on.
pub async fn verification_job(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.require(&["update:users"])?;
    let body = json_object(&body)?;
    only_known(
        &body,
        &["user_id", "client_id", "identity", "organization_id"],
    )?;
    let user_id = required_str(&body, "user_id")?;
    optional_str(&body, "client_id")?;
    optional_str(&body, "organization_id")?;
    let now = state.clock.now();
    let mut store = state.write();
    if store.get(user_id).is_none() {
        return Err(ApiError::user_not_found());
    }
    let job = Job {
        id: format!("job_{}", random_alnum(&mut rand::thread_rng(), 16)),
        kind: "verification_email",
        created_at: iso(now),
    };
    store.directory.jobs.insert(job.id.clone(), job.clone());
    log_user_event(
        &mut store,
        user_id,
        LogKind::VerificationSent,
        &caller.client_id,
        now,
    );
    let path = "/api/v2/jobs/verification-email";
    log_api(
        &mut store,
        user_id,
        &caller,
        "Send a verification email",
        ("POST", path),
        now,
    );
    drop(store);
    Ok(json_response(
        StatusCode::CREATED,
        &job_json(&job, "pending"),
    ))
}

/// `GET /api/v2/jobs/{id}`
pub async fn job(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    caller.require(&["create:users", "read:users"])?;
    let store = state.read();
    let job = store.directory.jobs.get(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "inexistent_job",
            "The job does not exist.",
        )
    })?;
    Ok(json_response(StatusCode::OK, &job_json(job, "completed")))
}
