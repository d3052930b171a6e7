//! The Management API endpoints tenantgraph reads, as typed methods on one tenant.

use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::UpstreamError;
use super::http::{Call, Status, TenantHttp};
use super::model::{
    BruteForceBlock, DailyStat, LogEvent, MemberRef, Organization, Profile, Role, UsersPage,
};
use crate::config::TenantConfig;
use crate::metrics::Metrics;
use crate::shared::Shared;

/// Characters left as they are in a path segment; everything else (`|` in user ids above all)
/// is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One path segment. `.` and `..` are encoded whole, so that no id can climb the path
/// (`/api/v2/users/..` would be another endpoint); the layers above refuse them anyway.
pub(crate) fn encode_segment(segment: &str) -> String {
    if segment == "." || segment == ".." {
        return segment.replace('.', "%2E");
    }
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Auth0's largest page.
pub(crate) const MAX_PER_PAGE: u32 = 100;

/// Offset paging reaches only the first 1000 items of a list.
const OFFSET_WINDOW: u32 = 1000;

/// A list read by offset paging: what the window let through, and whether that was all of it.
#[derive(Debug)]
pub(crate) struct Listed<T> {
    pub(crate) items: Vec<T>,
    /// False when Auth0 counts more items than its 1000-item window lets anyone page to.
    pub(crate) complete: bool,
    pub(crate) total: Option<u64>,
}

/// Whether the window hid part of a list: it was read to its end and Auth0 counts more.
fn hidden_by_window(read: usize, total: Option<u64>) -> bool {
    read >= OFFSET_WINDOW as usize && total.is_some_and(|total| total > read as u64)
}

/// One Auth0 tenant as tenantgraph sees it: identity plus a client for its Management API.
pub(crate) struct TenantClient {
    pub(crate) id: Arc<str>,
    pub(crate) name: String,
    /// The canonical Auth0 domain (Management API, its audience).
    pub(crate) domain: String,
    /// The custom domain end users sign in through, if any.
    pub(crate) custom_domain: Option<String>,
    client_id: String,
    http: TenantHttp,
}

impl std::fmt::Debug for TenantClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantClient")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// One page of a checkpoint-paged list, under whichever name its endpoint gives the list.
#[derive(Deserialize)]
struct Checkpoint<T> {
    #[serde(
        default = "Vec::new",
        alias = "organizations",
        alias = "members",
        alias = "users"
    )]
    items: Vec<T>,
    #[serde(default)]
    next: Option<String>,
}

/// One page of an offset-paged list, under whichever name its endpoint gives the list.
#[derive(Deserialize)]
struct OffsetPage<T> {
    #[serde(
        default = "Vec::new",
        alias = "roles",
        alias = "organizations",
        alias = "logs"
    )]
    items: Vec<T>,
    #[serde(default)]
    total: Option<u64>,
}

#[derive(Deserialize)]
struct BlocksAnswer {
    #[serde(default)]
    blocked_for: Vec<BruteForceBlock>,
}

/// Not found is an answer, not a failure.
fn optional<T>(result: Result<T, UpstreamError>) -> Result<Option<T>, UpstreamError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(UpstreamError::NotFound) => Ok(None),
        Err(error) => Err(error),
    }
}

impl TenantClient {
    pub(crate) fn new(
        config: &TenantConfig,
        http: reqwest::Client,
        metrics: Metrics,
        shared: Option<Arc<Shared>>,
    ) -> Self {
        Self {
            id: Arc::from(config.id.as_str()),
            name: config.name.clone(),
            domain: config.domain.clone(),
            custom_domain: config.custom_domain.clone(),
            client_id: config.client_id.clone(),
            http: TenantHttp::new(config, http, metrics, shared),
        }
    }

    pub(crate) fn status(&self) -> Status {
        self.http.status()
    }

    pub(crate) fn transport(&self) -> &TenantHttp {
        &self.http
    }

    /// The application tenantgraph acts as in this tenant.
    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `GET /api/v2/users/{id}`: consistent, unlike search.
    pub(crate) async fn user(&self, id: &str) -> Result<Option<Profile>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/users/{id}",
            format!("/api/v2/users/{}", encode_segment(id)),
        );
        optional(self.http.json(&call).await)
    }

    /// As [`Self::user`], the profile as Auth0 sent it, every field (data-subject exports).
    pub(crate) async fn raw_user(&self, id: &str) -> Result<Option<Value>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/users/{id}",
            format!("/api/v2/users/{}", encode_segment(id)),
        );
        optional(self.http.json(&call).await)
    }

    /// `GET /api/v2/users` with a search query, one page, with the total.
    pub(crate) async fn search(
        &self,
        query: Option<&str>,
        sort: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> Result<UsersPage, UpstreamError> {
        let mut call = Call::get("GET /api/v2/users", "/api/v2/users".into())
            .query("search_engine", "v3")
            .query("page", page.to_string())
            .query("per_page", per_page.to_string())
            .query("include_totals", "true");
        if let Some(query) = query {
            call = call.query("q", query);
        }
        if let Some(sort) = sort {
            call = call.query("sort", sort);
        }
        self.http.json(&call).await
    }

    /// How many users match `query` (all users when `None`).
    pub(crate) async fn count(&self, query: Option<&str>) -> Result<u64, UpstreamError> {
        Ok(self.search(query, None, 0, 1).await?.total)
    }

    /// `GET /api/v2/users-by-email`: the accounts holding exactly this email (Auth0 compares it
    /// case-sensitively), consistent.
    pub(crate) async fn users_by_email(&self, email: &str) -> Result<Vec<Profile>, UpstreamError> {
        self.http.json(&users_by_email_call(email)).await
    }

    /// As [`Self::users_by_email`], the profiles as Auth0 sent them (data-subject exports).
    pub(crate) async fn raw_users_by_email(
        &self,
        email: &str,
    ) -> Result<Vec<Value>, UpstreamError> {
        self.http.json(&users_by_email_call(email)).await
    }

    /// Organizations of the tenant (checkpoint paging), at most `limit` + 1 of them: a caller
    /// learns there are more than `limit` without listing them all.
    pub(crate) async fn organizations(
        &self,
        limit: usize,
    ) -> Result<Vec<Organization>, UpstreamError> {
        self.checkpoint_paged(
            "GET /api/v2/organizations",
            "/api/v2/organizations".into(),
            limit.saturating_add(1),
        )
        .await?
        .ok_or(UpstreamError::NotFound)
    }

    /// The user ids of an organization's members (checkpoint paging); `None` if it is gone.
    pub(crate) async fn organization_members(
        &self,
        organization: &str,
    ) -> Result<Option<Vec<String>>, UpstreamError> {
        let path = format!(
            "/api/v2/organizations/{}/members",
            encode_segment(organization)
        );
        let members: Option<Vec<MemberRef>> = self
            .checkpoint_paged("GET /api/v2/organizations/{id}/members", path, usize::MAX)
            .await?;
        Ok(members.map(|members| members.into_iter().map(|m| m.user_id).collect()))
    }

    /// The items of a checkpoint-paged list (`take`/`from`), up to `limit`; `None` when the
    /// list's owner is gone (404), which can also happen between two pages.
    async fn checkpoint_paged<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
        limit: usize,
    ) -> Result<Option<Vec<T>>, UpstreamError> {
        let mut all = Vec::new();
        let mut from: Option<String> = None;
        loop {
            let mut call =
                Call::get(endpoint, path.clone()).query("take", MAX_PER_PAGE.to_string());
            if let Some(from) = from.take() {
                call = call.query("from", from);
            }
            let Some(chunk) = optional(self.http.json::<Checkpoint<T>>(&call).await)? else {
                return Ok(None);
            };
            let done = chunk.items.is_empty() || chunk.next.is_none();
            all.extend(chunk.items);
            if done || all.len() >= limit {
                all.truncate(limit);
                return Ok(Some(all));
            }
            from = chunk.next;
        }
    }

    /// The items of an offset-paged list (`page`/`per_page`), up to `limit` and never past the
    /// first 1000 (Auth0 refuses pages beyond, so asking would fail the whole list); `None` when
    /// the list's owner is gone.
    async fn offset_paged<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
        limit: usize,
    ) -> Result<Option<Listed<T>>, UpstreamError> {
        let mut all = Vec::new();
        let mut counted = None;
        for page in 0..OFFSET_WINDOW / MAX_PER_PAGE {
            let call = Call::get(endpoint, path.clone())
                .query("page", page.to_string())
                .query("per_page", MAX_PER_PAGE.to_string())
                .query("include_totals", "true");
            let Some(answer) = optional(self.http.json::<OffsetPage<T>>(&call).await)? else {
                return Ok(None);
            };
            let got = answer.items.len();
            all.extend(answer.items);
            counted = answer.total;
            let total = answer.total.unwrap_or(0);
            if got < MAX_PER_PAGE as usize || all.len() as u64 >= total || all.len() >= limit {
                break;
            }
        }
        all.truncate(limit);
        Ok(Some(Listed {
            complete: !hidden_by_window(all.len(), counted),
            items: all,
            total: counted,
        }))
    }

    /// Roles of the tenant, at most `limit` + 1 of them (see [`Self::organizations`]), and
    /// whether they are all of them. Auth0 allows 1000 roles per tenant, which the offset window
    /// reaches exactly; a tenant holding more (a raised limit) is reported incomplete rather
    /// than cut silently.
    pub(crate) async fn roles(&self, limit: usize) -> Result<Listed<Role>, UpstreamError> {
        Ok(self
            .offset_paged(
                "GET /api/v2/roles",
                "/api/v2/roles".into(),
                limit.saturating_add(1),
            )
            .await?
            .unwrap_or(Listed {
                items: Vec::new(),
                complete: true,
                total: None,
            }))
    }

    /// The user ids holding a role (checkpoint paging); none when the role is gone.
    pub(crate) async fn role_users(&self, role: &str) -> Result<Vec<String>, UpstreamError> {
        let path = format!("/api/v2/roles/{}/users", encode_segment(role));
        let users: Option<Vec<MemberRef>> = self
            .checkpoint_paged("GET /api/v2/roles/{id}/users", path, usize::MAX)
            .await?;
        Ok(users
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.user_id)
            .collect())
    }

    /// The organizations of a user (`GET /api/v2/users/{id}/organizations`, paged): all of
    /// them, or for a user in more than 1000 the first 1000 Auth0 lets anyone page to (Auth0
    /// has no other way to ask; the limit is logged and documented on `User.organizations`).
    pub(crate) async fn user_organizations(
        &self,
        id: &str,
    ) -> Result<Vec<Organization>, UpstreamError> {
        self.user_list(
            "GET /api/v2/users/{id}/organizations",
            format!("/api/v2/users/{}/organizations", encode_segment(id)),
            id,
        )
        .await
    }

    /// Every role of a user (`GET /api/v2/users/{id}/roles`, paged; Auth0 allows 50).
    pub(crate) async fn user_roles(&self, id: &str) -> Result<Vec<Role>, UpstreamError> {
        self.user_list(
            "GET /api/v2/users/{id}/roles",
            format!("/api/v2/users/{}/roles", encode_segment(id)),
            id,
        )
        .await
    }

    /// A list of one user's, as far as the offset window reaches.
    async fn user_list<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
        user: &str,
    ) -> Result<Vec<T>, UpstreamError> {
        let Some(listed) = self.offset_paged(endpoint, path, usize::MAX).await? else {
            return Ok(Vec::new());
        };
        if !listed.complete {
            tracing::warn!(
                tenant = %self.id,
                user,
                endpoint,
                read = listed.items.len(),
                total = listed.total,
                "Auth0 pages this list only through its first 1000 items; the rest are not shown"
            );
        }
        Ok(listed.items)
    }

    /// The organizations and roles of a user as Auth0 sent them (data-subject exports).
    pub(crate) async fn raw_memberships(&self, id: &str) -> Result<(Value, Value), UpstreamError> {
        let base = format!("/api/v2/users/{}", encode_segment(id));
        let (organizations, roles) = futures::try_join!(
            self.user_list::<Value>(
                "GET /api/v2/users/{id}/organizations",
                format!("{base}/organizations"),
                id
            ),
            self.user_list::<Value>("GET /api/v2/users/{id}/roles", format!("{base}/roles"), id),
        )?;
        Ok((Value::Array(organizations), Value::Array(roles)))
    }

    /// The newest `count` (≤ 100) log events of a user.
    pub(crate) async fn user_logs(
        &self,
        id: &str,
        count: u32,
    ) -> Result<Vec<LogEvent>, UpstreamError> {
        Ok(optional(
            self.http
                .json::<OffsetPage<LogEvent>>(&logs_call(id, count))
                .await,
        )?
        .map(|a| a.items)
        .unwrap_or_default())
    }

    /// As [`Self::user_logs`], the events as Auth0 sent them (data-subject exports).
    pub(crate) async fn raw_user_logs(&self, id: &str, count: u32) -> Result<Value, UpstreamError> {
        Ok(Value::Array(
            optional(
                self.http
                    .json::<OffsetPage<Value>>(&logs_call(id, count))
                    .await,
            )?
            .map(|a| a.items)
            .unwrap_or_default(),
        ))
    }

    /// Brute-force blocks of a user (`GET /api/v2/user-blocks/{id}`).
    pub(crate) async fn user_blocks(
        &self,
        id: &str,
    ) -> Result<Vec<BruteForceBlock>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/user-blocks/{id}",
            format!("/api/v2/user-blocks/{}", encode_segment(id)),
        );
        Ok(optional(self.http.json::<BlocksAnswer>(&call).await)?
            .map(|a| a.blocked_for)
            .unwrap_or_default())
    }

    /// Users who logged in during the last 30 days.
    pub(crate) async fn active_users(&self) -> Result<u64, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/stats/active-users",
            "/api/v2/stats/active-users".into(),
        );
        self.http.json(&call).await
    }

    /// Daily figures between two dates, `YYYYMMDD`, inclusive.
    pub(crate) async fn daily_stats(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<DailyStat>, UpstreamError> {
        let call = Call::get("GET /api/v2/stats/daily", "/api/v2/stats/daily".into())
            .query("from", from)
            .query("to", to);
        self.http.json(&call).await
    }
}

fn users_by_email_call(email: &str) -> Call {
    Call::get(
        "GET /api/v2/users-by-email",
        "/api/v2/users-by-email".into(),
    )
    .query("email", email)
}

fn logs_call(id: &str, count: u32) -> Call {
    Call::get(
        "GET /api/v2/users/{id}/logs",
        format!("/api/v2/users/{}/logs", encode_segment(id)),
    )
    .query("page", "0")
    .query("per_page", count.clamp(1, MAX_PER_PAGE).to_string())
    .query("sort", "date:-1")
    .query("include_totals", "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_window_with_more_counted_hides_items() {
        assert!(hidden_by_window(1000, Some(1050)));
        assert!(!hidden_by_window(1000, Some(1000)));
        assert!(!hidden_by_window(130, Some(130)));
        assert!(
            !hidden_by_window(101, Some(1050)),
            "stopped by the caller's limit"
        );
        assert!(!hidden_by_window(1000, None), "no count to compare with");
    }

    #[test]
    fn user_ids_are_encoded_as_one_segment() {
        assert_eq!(encode_segment("auth0|64f1"), "auth0%7C64f1");
        assert_eq!(encode_segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(
            encode_segment("google-oauth2|1.2_3~"),
            "google-oauth2%7C1.2_3~"
        );
    }

    #[test]
    fn dot_segments_cannot_climb_the_path() {
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("."), "%2E");
        assert_eq!(encode_segment("a..b"), "a..b");
    }
}
