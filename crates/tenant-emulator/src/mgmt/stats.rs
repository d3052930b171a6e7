//! `GET /api/v2/stats/active-users` and `GET /api/v2/stats/daily`, computed from the same
//! profiles and log events the other endpoints serve, so the figures agree with them.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};

use super::auth::Auth;
use super::params::{QueryParams, query_error};
use crate::clock::iso;
use crate::errors::{ApiError, json_response};
use crate::state::SharedState;

/// `GET /api/v2/stats/active-users`: users who logged in during the last 30 days, a bare number.
pub async fn active_users(
    State(state): State<SharedState>,
    Auth(caller): Auth,
) -> Result<Response, ApiError> {
    caller.require(&["read:stats"])?;
    let since = state.clock.now() - TimeDelta::days(30);
    let store = state.read();
    let active = store
        .current_users()
        .filter_map(|u| u.get("last_login").and_then(Value::as_str))
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .filter(|t| *t >= since)
        .count();
    Ok(json_response(StatusCode::OK, &active))
}

fn day(query: &QueryParams, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    query
        .non_empty(name)
        .map(|raw| {
            NaiveDate::parse_from_str(raw, "%Y%m%d").map_err(|_| {
                query_error(
                    name,
                    &format!("String does not match pattern ^\\d{{8}}$: {raw}"),
                )
            })
        })
        .transpose()
}

/// `GET /api/v2/stats/daily?from=YYYYMMDD&to=YYYYMMDD`: one entry per day of the range that
/// has figures (every day of the seed's last 60 days does).
pub async fn daily(
    State(state): State<SharedState>,
    Auth(caller): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(&["read:stats"])?;
    let query = QueryParams::parse(raw.as_deref(), &["from", "to"])?;
    let from = day(&query, "from")?.unwrap_or(NaiveDate::MIN);
    let to = day(&query, "to")?.unwrap_or(NaiveDate::MAX);
    if from > to {
        // BTreeMap::range would panic; an empty range has no days.
        return Ok(json_response(StatusCode::OK, &Value::Array(Vec::new())));
    }
    let now = state.clock.now();
    let store = state.read();
    let days: Vec<Value> = store
        .logs
        .daily()
        .range(from..=to)
        .map(|(date, stats)| {
            let midnight = date
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(now);
            // A day's figures are final once it is over; today's are still moving.
            let updated: DateTime<Utc> = (midnight + TimeDelta::days(1)).min(now);
            json!({
                "date": iso(midnight),
                "logins": stats.logins,
                "signups": stats.signups,
                "leaked_passwords": stats.leaked_passwords,
                "updated_at": iso(updated),
                "created_at": iso(midnight),
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Value::Array(days)))
}
