//! `GET /api/v2/users/{id}/logs`: a user's log events within the tenant's log retention, newest
//! first by default, paged within the first 1000.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::PathId;
use super::auth::Auth;
use super::params::{Paging, QueryParams, query_error, search_window_error};
use crate::errors::{ApiError, json_response};
use crate::state::SharedState;

/// `GET /api/v2/users/{id}/logs`
pub async fn of_user(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:logs", "read:logs_users"])?;
    let query = QueryParams::parse(
        raw.as_deref(),
        &[
            "page",
            "per_page",
            "sort",
            "include_totals",
            "fields",
            "include_fields",
        ],
    )?;
    let paging = Paging::read(&query, 100)?;
    if !paging.within_window() {
        return Err(search_window_error());
    }
    let descending = match query.non_empty("sort") {
        None | Some("date:-1") => true,
        Some("date:1") => false,
        Some(other) => {
            return Err(query_error(
                "sort",
                &format!("String does not match pattern ^date:(1|-1)$: {other}"),
            ));
        }
    };
    let include = query.bool("include_fields")?.unwrap_or(true);
    let fields: Option<Vec<&str>> = query.non_empty("fields").map(|f| f.split(',').collect());

    let now = state.clock.now();
    let store = state.read();
    let events = store.logs.of_user(&id, now);
    let total = events.len();
    // Logs are stored oldest first; the default answer is newest first.
    let ordered: Vec<usize> = if descending {
        (0..total).rev().collect()
    } else {
        (0..total).collect()
    };
    let logs: Vec<Value> = paging
        .slice(&ordered)
        .iter()
        .filter_map(|&i| events.get(i))
        .map(|e| {
            let mut rendered = e.render(&id, &store.directory, &state.tenant.domain);
            if let (Some(fields), Some(object)) = (&fields, rendered.as_object_mut()) {
                object.retain(|k, _| fields.contains(&k.as_str()) == include);
            }
            rendered
        })
        .collect();
    drop(store);
    let body = if paging.include_totals {
        json!({
            "start": paging.start(),
            "limit": paging.per_page,
            "length": logs.len(),
            "total": total,
            "logs": logs,
        })
    } else {
        Value::Array(logs)
    };
    Ok(json_response(StatusCode::OK, &body))
}
