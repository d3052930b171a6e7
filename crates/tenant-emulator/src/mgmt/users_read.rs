//! Reading users: `GET /api/v2/users` (list and search, through the lagging search view),
//! `GET /api/v2/users/{id}` and `GET /api/v2/users-by-email` (both consistent at once).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use search_query::{CandidateField, Filter};
use serde::Serialize;
use serde_json::Value;

use super::PathId;
use super::auth::Auth;
use super::params::{Paging, QueryParams, query_error, search_window_error};
use super::projection::{FieldSelection, Projected, ProjectedList, SortSpec, sort_by_id};
use crate::errors::{ApiError, json_bytes};
use crate::state::SharedState;
use crate::store::Store;

const LIST_PARAMS: &[&str] = &[
    "q",
    "search_engine",
    "page",
    "per_page",
    "include_totals",
    "sort",
    "fields",
    "include_fields",
    // Accepted and ignored with v3, as Auth0 does.
    "connection",
    "primary_order",
];

/// `GET /api/v2/users`
pub async fn list(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:users"])?;
    let query = QueryParams::parse(raw.as_deref(), LIST_PARAMS)?;
    check_search_engine(query.str("search_engine"))?;
    let paging = Paging::read(&query, 100)?;
    if !paging.within_window() {
        return Err(search_window_error());
    }
    let sort = query.non_empty("sort").map(SortSpec::parse).transpose()?;
    let fields = FieldSelection::read(&query)?;
    let filter = query.non_empty("q").map(compile).transpose()?;

    let mut found = {
        let store = state.read();
        search(&store, filter.as_ref(), Instant::now())
    };
    match &sort {
        Some(sort) => sort.sort(&mut found),
        None => sort_by_id(&mut found),
    }
    let page = paging.slice(&found);
    let users = ProjectedList {
        users: page,
        fields: fields.as_ref(),
    };
    let body = if paging.include_totals {
        serde_json::to_vec(&WithTotals {
            start: paging.start(),
            limit: paging.per_page,
            length: page.len(),
            total: found.len(),
            users,
        })
    } else {
        serde_json::to_vec(&users)
    };
    Ok(json_bytes(StatusCode::OK, body.unwrap_or_default()))
}

/// `{start, limit, length, total, users}`, serialised without copying the users.
#[derive(Serialize)]
struct WithTotals<'a> {
    start: u64,
    limit: u64,
    length: usize,
    total: usize,
    users: ProjectedList<'a>,
}

/// Only v3 exists today; v1 and v2 reached their end of life.
fn check_search_engine(engine: Option<&str>) -> Result<(), ApiError> {
    match engine {
        None | Some("v3") => Ok(()),
        Some(old @ ("v1" | "v2")) => Err(ApiError::bad_request(
            "operation_not_supported",
            format!(
                "You are not allowed to use search_engine={old}. Use search_engine=v3 instead."
            ),
        )),
        Some(other) => Err(query_error(
            "search_engine",
            &format!("No enum match for: \"{other}\""),
        )),
    }
}

/// Parses and compiles `q`. A panic in the parser must not cost the client its connection, so
/// it is answered as the malformed query it was given.
fn compile(q: &str) -> Result<Filter, ApiError> {
    let compiled = catch_unwind(AssertUnwindSafe(|| {
        search_query::parse(q).and_then(|query| Filter::new(&query))
    }));
    match compiled {
        Ok(Ok(filter)) => Ok(filter),
        Ok(Err(error)) => Err(ApiError::invalid_query(error.to_string())),
        Err(_) => Err(ApiError::invalid_query("Invalid query")),
    }
}

/// Every user search sees at `now` matching `filter`, in `user_id` order. Exact `user_id` and
/// email queries go through the hash indexes; the rest scans.
fn search(store: &Store, filter: Option<&Filter>, now: Instant) -> Vec<Arc<Value>> {
    let Some(filter) = filter else {
        return store.search_all(now).cloned().collect();
    };
    let keep = |user: &&Arc<Value>| filter.matches(user);
    let mut found: Vec<Arc<Value>> = match filter.exact_candidates() {
        Some(c) if c.field == CandidateField::UserId => store
            .search_ids(&c.values, now)
            .into_iter()
            .filter(keep)
            .cloned()
            .collect(),
        Some(c) => store
            .search_emails(&c.values, now)
            .into_iter()
            .filter(keep)
            .cloned()
            .collect(),
        None => return store.search_all(now).filter(keep).cloned().collect(),
    };
    sort_by_id(&mut found);
    found
}

/// `GET /api/v2/users/{id}`
pub async fn get(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:users", "read:current_user"])?;
    let query = QueryParams::parse(raw.as_deref(), &["fields", "include_fields"])?;
    let fields = FieldSelection::read(&query)?;
    let user = state
        .read()
        .get(&id)
        .cloned()
        .ok_or_else(ApiError::user_not_found)?;
    let body = serde_json::to_vec(&Projected {
        user: &user,
        fields: fields.as_ref(),
    });
    Ok(json_bytes(StatusCode::OK, body.unwrap_or_default()))
}

/// `GET /api/v2/users-by-email?email=`: exact and case-sensitive (Auth0 stores database emails
/// lower-cased and asks callers to search with the right case).
pub async fn by_email(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:users"])?;
    let query = QueryParams::parse(raw.as_deref(), &["email", "fields", "include_fields"])?;
    let fields = FieldSelection::read(&query)?;
    let email = query.str("email").ok_or_else(|| {
        ApiError::invalid_query("Query validation error: 'Missing required property: email'.")
    })?;
    let mut users: Vec<Arc<Value>> = state
        .read()
        .by_email(email)
        .filter(|u| crate::store::email(u) == Some(email))
        .cloned()
        .collect();
    sort_by_id(&mut users);
    let body = serde_json::to_vec(&ProjectedList {
        users: &users,
        fields: fields.as_ref(),
    });
    Ok(json_bytes(StatusCode::OK, body.unwrap_or_default()))
}
