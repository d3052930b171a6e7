//! Organizations and roles: `GET /api/v2/organizations`, `…/organizations/{id}/members`,
//! `GET /api/v2/roles`, `…/roles/{id}/users`, `GET /api/v2/users/{id}/organizations` and
//! `…/users/{id}/roles`, with offset paging and, where Auth0 has it, checkpoint paging; the
//! organizations list also sorts.

use std::cmp::Ordering;
use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::PathId;
use super::auth::Auth;
use super::params::{Paging, QueryParams, checkpoint_window_error, query_error};
use super::projection::FieldSelection;
use crate::errors::{ApiError, json_response};
use crate::state::SharedState;
use crate::store::{ListedMember, Organization, Store};

const OFFSET: &[&str] = &["page", "per_page", "include_totals"];
const OFFSET_AND_CHECKPOINT: &[&str] = &["page", "per_page", "include_totals", "from", "take"];

/// What `fields` may name on organization members. `roles` is only sent when named.
const MEMBER_FIELDS: &[&str] = &["user_id", "email", "picture", "name", "roles"];

/// Items with the id checkpoint paging resumes after.
type Keyed = Vec<(String, Value)>;

/// Answers a list in Auth0's shapes: checkpoint (`from`/`take` → `{key: […], next}`) when those
/// parameters are present and allowed, else offset (bare array, or `{start, limit, total, key}`
/// with `include_totals`).
fn page_of(
    items: Keyed,
    key: &str,
    query: &QueryParams,
    checkpoint: bool,
) -> Result<Value, ApiError> {
    if checkpoint && (query.str("from").is_some() || query.str("take").is_some()) {
        let take = usize::try_from(query.int("take", 1, Some(100))?.unwrap_or(50)).unwrap_or(50);
        let start = match query.non_empty("from") {
            None => 0,
            Some(from) => {
                let after = URL_SAFE_NO_PAD
                    .decode(from)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| query_error("from", "Invalid checkpoint"))?;
                // Resume after the checkpoint's item in the list's order; an item gone since
                // (a removed member) resumes at its place in `id` order, the lists' default.
                match items.iter().position(|(id, _)| *id == after) {
                    Some(at) => at + 1,
                    None => items.partition_point(|(id, _)| id.as_str() <= after.as_str()),
                }
            }
        };
        let end = start.saturating_add(take).min(items.len());
        let mut body = Map::new();
        if end < items.len()
            && let Some((last, _)) = items.get(end.saturating_sub(1))
        {
            body.insert("next".into(), json!(URL_SAFE_NO_PAD.encode(last)));
        }
        let page: Vec<Value> = items
            .into_iter()
            .skip(start)
            .take(end - start)
            .map(|(_, v)| v)
            .collect();
        body.insert(key.into(), Value::Array(page));
        return Ok(Value::Object(body));
    }
    // Auth0's schemas of these lists take `per_page` from 1 to 100.
    let paging = Paging::read_bounded(query, 1, 100)?;
    if !paging.within_window() {
        return Err(checkpoint_window_error(paging.page));
    }
    let total = items.len();
    let page: Vec<Value> = paging
        .slice(&items)
        .iter()
        .map(|(_, v)| v.clone())
        .collect();
    Ok(if paging.include_totals {
        json!({ "start": paging.start(), "limit": paging.per_page, "total": total, key: page })
    } else {
        Value::Array(page)
    })
}

/// A member or role user as Auth0 lists them.
fn member(store: &Store, id: &str) -> Option<(String, Value)> {
    Some(member_entry(id, store.get(id)?))
}

fn member_entry(id: &str, user: &Value) -> (String, Value) {
    let mut entry = Map::new();
    entry.insert("user_id".into(), json!(id));
    for field in ["email", "name", "picture"] {
        if let Some(value) = user.get(field) {
            entry.insert(field.into(), value.clone());
        }
    }
    (id.to_owned(), Value::Object(entry))
}

/// The fields `GET /api/v2/organizations` sorts by.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OrganizationField {
    Name,
    DisplayName,
    CreatedAt,
}

/// `sort=name:1`, `display_name:-1`, `created_at:1`…
#[derive(Clone, Copy, Debug, PartialEq)]
struct OrganizationSort {
    field: OrganizationField,
    descending: bool,
}

const ORGANIZATION_SORT_PATTERN: &str = "^(name|display_name|created_at):(1|-1)$";

impl OrganizationSort {
    fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || {
            query_error(
                "sort",
                &format!("String does not match pattern {ORGANIZATION_SORT_PATTERN}: {raw}"),
            )
        };
        let (field, order) = raw.split_once(':').ok_or_else(bad)?;
        let field = match field {
            "name" => OrganizationField::Name,
            "display_name" => OrganizationField::DisplayName,
            "created_at" => OrganizationField::CreatedAt,
            _ => return Err(bad()),
        };
        let descending = match order {
            "1" => false,
            "-1" => true,
            _ => return Err(bad()),
        };
        Ok(Self { field, descending })
    }

    /// Orders by the field, ties by id (so paging through a sorted list is stable).
    fn compare(self, a: &Organization, b: &Organization) -> Ordering {
        let by_field = match self.field {
            OrganizationField::Name => a.name.cmp(&b.name),
            OrganizationField::DisplayName => a.display_name.cmp(&b.display_name),
            OrganizationField::CreatedAt => a.created_at.cmp(&b.created_at),
        };
        let by_field = if self.descending {
            by_field.reverse()
        } else {
            by_field
        };
        by_field.then_with(|| a.id.cmp(&b.id))
    }
}

/// `GET /api/v2/organizations`
pub async fn organizations(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:organizations"])?;
    let mut known = OFFSET_AND_CHECKPOINT.to_vec();
    known.push("sort");
    let query = QueryParams::parse(raw.as_deref(), &known)?;
    let sort = query
        .non_empty("sort")
        .map(OrganizationSort::parse)
        .transpose()?;
    let store = state.read();
    let mut organizations: Vec<&Organization> = store.directory.organizations.iter().collect();
    match sort {
        Some(sort) => organizations.sort_by(|a, b| sort.compare(a, b)),
        None => organizations.sort_by(|a, b| a.id.cmp(&b.id)),
    }
    let items: Keyed = organizations
        .into_iter()
        .map(|o| (o.id.clone(), o.to_json()))
        .collect();
    drop(store);
    Ok(json_response(
        StatusCode::OK,
        &page_of(items, "organizations", &query, true)?,
    ))
}

/// An organization member as the members list shows it: `roles` (their roles in this
/// organization) only when asked for, then the `fields` selection. A member whose removal the
/// list does not show yet appears as they were.
fn organization_member(
    store: &Store,
    org: &Organization,
    listed: &ListedMember<'_>,
    fields: Option<&FieldSelection>,
) -> Option<(String, Value)> {
    let id: &str = listed.user_id;
    let departed = listed.departed;
    let profile = store
        .get(id)
        .or_else(|| departed.and_then(|d| d.profile.as_ref()))?;
    let (id, mut entry) = member_entry(id, profile);
    let with_roles = fields.is_some_and(|f| f.names_included("roles"));
    if let (true, Some(object)) = (with_roles, entry.as_object_mut()) {
        let roles = match departed {
            Some(departed) => store.directory.roles_json(&departed.roles),
            None => store.directory.member_roles_json(org, &id),
        };
        object.insert("roles".into(), roles);
    }
    if let (Some(fields), Some(object)) = (fields, entry.as_object_mut()) {
        object.retain(|key, _| fields.keeps(key));
    }
    Some((id, entry))
}

/// `GET /api/v2/organizations/{id}/members`
pub async fn organization_members(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:organization_members"])?;
    let mut known = OFFSET_AND_CHECKPOINT.to_vec();
    known.extend(["fields", "include_fields"]);
    let query = QueryParams::parse(raw.as_deref(), &known)?;
    let fields = FieldSelection::read_among(&query, MEMBER_FIELDS)?;
    if fields.as_ref().is_some_and(|f| f.names_included("roles")) {
        caller.require(&["read:organization_member_roles"])?;
    }
    let store = state.read();
    let org = store.directory.organization(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "inexistent_organization",
            "No organization found by that id or name",
        )
    })?;
    let items: Keyed = org
        .listed_members(Instant::now(), store.directory.membership_lag)
        .iter()
        .filter_map(|m| organization_member(&store, org, m, fields.as_ref()))
        .collect();
    drop(store);
    Ok(json_response(
        StatusCode::OK,
        &page_of(items, "members", &query, true)?,
    ))
}

/// `GET /api/v2/roles`
pub async fn roles(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:roles"])?;
    let mut known = OFFSET.to_vec();
    known.push("name_filter");
    let query = QueryParams::parse(raw.as_deref(), &known)?;
    let filter = query.non_empty("name_filter").map(str::to_lowercase);
    let store = state.read();
    let items: Keyed = store
        .directory
        .roles
        .iter()
        .filter(|r| {
            filter
                .as_ref()
                .is_none_or(|f| r.name.to_lowercase().contains(f.as_str()))
        })
        .map(|r| (r.id.clone(), r.to_json()))
        .collect();
    drop(store);
    Ok(json_response(
        StatusCode::OK,
        &page_of(items, "roles", &query, false)?,
    ))
}

/// `GET /api/v2/roles/{id}/users`
pub async fn role_users(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:users", "read:roles", "read:role_members"])?;
    let query = QueryParams::parse(raw.as_deref(), OFFSET_AND_CHECKPOINT)?;
    let store = state.read();
    let role = store.directory.role(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "inexistent_role",
            "The role does not exist.",
        )
    })?;
    let items: Keyed = role
        .users
        .iter()
        .filter_map(|u| member(&store, u))
        .collect();
    drop(store);
    Ok(json_response(
        StatusCode::OK,
        &page_of(items, "users", &query, true)?,
    ))
}

/// `GET /api/v2/users/{id}/organizations`
pub async fn user_organizations(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:organizations"])?;
    let query = QueryParams::parse(raw.as_deref(), OFFSET)?;
    let store = state.read();
    if store.get(&id).is_none() {
        return Err(ApiError::user_not_found());
    }
    let items: Keyed = store
        .directory
        .organizations_of(&id)
        .map(|o| (o.id.clone(), o.to_json()))
        .collect();
    drop(store);
    Ok(json_response(
        StatusCode::OK,
        &page_of(items, "organizations", &query, false)?,
    ))
}

/// `GET /api/v2/users/{id}/roles`
pub async fn user_roles(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:users", "read:roles", "read:role_members"])?;
    let query = QueryParams::parse(raw.as_deref(), OFFSET)?;
    let store = state.read();
    if store.get(&id).is_none() {
        return Err(ApiError::user_not_found());
    }
    let items: Keyed = store
        .directory
        .roles_of(&id)
        .map(|r| (r.id.clone(), r.to_json()))
        .collect();
    drop(store);
    Ok(json_response(
        StatusCode::OK,
        &page_of(items, "roles", &query, false)?,
    ))
}
