//! The Management API endpoints tenantgraph reads, as typed methods on one tenant.

use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::breaker::Health;
use super::error::UpstreamError;
use super::http::{Call, TenantHttp};
use super::model::{
    BruteForceBlock, DailyStat, LogEvent, MemberRef, Organization, Profile, Role, UsersPage,
};
use crate::config::TenantConfig;
use crate::metrics::Metrics;

/// Characters left as they are in a path segment; everything else (`|` in user ids above all)
/// is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Auth0's largest page.
pub const MAX_PER_PAGE: u32 = 100;

/// One Auth0 tenant as tenantgraph sees it: identity plus a client for its Management API.
pub struct TenantClient {
    pub id: Arc<str>,
    pub name: String,
    pub domain: String,
    /// The `iss` of the tokens this tenant gives its end users.
    pub issuer: String,
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

#[derive(Deserialize)]
struct RolesPage {
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    total: u64,
}

#[derive(Deserialize)]
struct LogsPage {
    #[serde(default)]
    logs: Vec<LogEvent>,
}

#[derive(Deserialize)]
struct BlocksAnswer {
    #[serde(default)]
    blocked_for: Vec<BruteForceBlock>,
}

/// `{organizations: [...]}` or `{roles: [...]}` pages of a user's memberships.
#[derive(Deserialize)]
struct UserOrganizations {
    #[serde(default)]
    organizations: Vec<Organization>,
}

#[derive(Deserialize)]
struct UserRoles {
    #[serde(default)]
    roles: Vec<Role>,
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
    pub fn new(
        config: &TenantConfig,
        http: reqwest::Client,
        metrics: Metrics,
        shared: Option<Arc<crate::shared::Shared>>,
    ) -> Self {
        Self {
            id: Arc::from(config.id.as_str()),
            name: config.name.clone(),
            domain: config.domain.clone(),
            issuer: config.issuer(),
            client_id: config.client_id.clone(),
            http: TenantHttp::new(config, http, metrics, shared),
        }
    }

    pub fn health(&self) -> Health {
        self.http.health()
    }

    pub fn transport(&self) -> &TenantHttp {
        &self.http
    }

    /// The application tenantgraph acts as in this tenant.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `GET /api/v2/users/{id}`: consistent, unlike search.
    pub async fn user(&self, id: &str) -> Result<Option<Profile>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/users/{id}",
            format!("/api/v2/users/{}", encode_segment(id)),
        );
        optional(self.http.json(&call).await)
    }

    /// `GET /api/v2/users` with a search query, one page, with the total.
    pub async fn search(
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
    pub async fn count(&self, query: Option<&str>) -> Result<u64, UpstreamError> {
        Ok(self.search(query, None, 0, 1).await?.total)
    }

    /// `GET /api/v2/users-by-email`: every account with this email, consistent.
    pub async fn users_by_email(&self, email: &str) -> Result<Vec<Profile>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/users-by-email",
            "/api/v2/users-by-email".into(),
        )
        .query("email", email);
        self.http.json(&call).await
    }

    /// Every organization of the tenant (checkpoint paging).
    pub async fn organizations(&self) -> Result<Vec<Organization>, UpstreamError> {
        self.checkpoint_paged("GET /api/v2/organizations", "/api/v2/organizations".into())
            .await?
            .ok_or(UpstreamError::NotFound)
    }

    /// The user ids of an organization's members (checkpoint paging); `None` if it is gone.
    pub async fn organization_members(
        &self,
        organization: &str,
    ) -> Result<Option<Vec<String>>, UpstreamError> {
        let path = format!(
            "/api/v2/organizations/{}/members",
            encode_segment(organization)
        );
        let members: Option<Vec<MemberRef>> = self
            .checkpoint_paged("GET /api/v2/organizations/{id}/members", path)
            .await?;
        Ok(members.map(|members| members.into_iter().map(|m| m.user_id).collect()))
    }

    /// Every item of a checkpoint-paged list (`take`/`from`); `None` when the list's owner is
    /// gone (404), which can also happen between two pages.
    async fn checkpoint_paged<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: String,
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
            if done {
                return Ok(Some(all));
            }
            from = chunk.next;
        }
    }

    /// Every role of the tenant (offset paging).
    pub async fn roles(&self) -> Result<Vec<Role>, UpstreamError> {
        let mut all = Vec::new();
        for page in 0.. {
            let call = Call::get("GET /api/v2/roles", "/api/v2/roles".into())
                .query("page", page.to_string())
                .query("per_page", MAX_PER_PAGE.to_string())
                .query("include_totals", "true");
            let answer: RolesPage = self.http.json(&call).await?;
            let got = answer.roles.len();
            all.extend(answer.roles);
            if got == 0 || all.len() as u64 >= answer.total {
                break;
            }
        }
        Ok(all)
    }

    /// The user ids holding a role (checkpoint paging); none when the role is gone.
    pub async fn role_users(&self, role: &str) -> Result<Vec<String>, UpstreamError> {
        let path = format!("/api/v2/roles/{}/users", encode_segment(role));
        let users: Option<Vec<MemberRef>> = self
            .checkpoint_paged("GET /api/v2/roles/{id}/users", path)
            .await?;
        Ok(users
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.user_id)
            .collect())
    }

    /// `GET /api/v2/users/{id}/organizations` (first 100).
    pub async fn user_organizations(&self, id: &str) -> Result<Vec<Organization>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/users/{id}/organizations",
            format!("/api/v2/users/{}/organizations", encode_segment(id)),
        )
        .query("per_page", MAX_PER_PAGE.to_string())
        .query("include_totals", "true");
        Ok(optional(self.http.json::<UserOrganizations>(&call).await)?
            .map(|a| a.organizations)
            .unwrap_or_default())
    }

    /// `GET /api/v2/users/{id}/roles` (first 100).
    pub async fn user_roles(&self, id: &str) -> Result<Vec<Role>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/users/{id}/roles",
            format!("/api/v2/users/{}/roles", encode_segment(id)),
        )
        .query("per_page", MAX_PER_PAGE.to_string())
        .query("include_totals", "true");
        Ok(optional(self.http.json::<UserRoles>(&call).await)?
            .map(|a| a.roles)
            .unwrap_or_default())
    }

    /// The newest `count` (≤ 100) log events of a user.
    pub async fn user_logs(&self, id: &str, count: u32) -> Result<Vec<LogEvent>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/users/{id}/logs",
            format!("/api/v2/users/{}/logs", encode_segment(id)),
        )
        .query("page", "0")
        .query("per_page", count.min(MAX_PER_PAGE).to_string())
        .query("sort", "date:-1")
        .query("include_totals", "true");
        Ok(optional(self.http.json::<LogsPage>(&call).await)?
            .map(|a| a.logs)
            .unwrap_or_default())
    }

    /// Brute-force blocks of a user (`GET /api/v2/user-blocks/{id}`).
    pub async fn user_blocks(&self, id: &str) -> Result<Vec<BruteForceBlock>, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/user-blocks/{id}",
            format!("/api/v2/user-blocks/{}", encode_segment(id)),
        );
        Ok(optional(self.http.json::<BlocksAnswer>(&call).await)?
            .map(|a| a.blocked_for)
            .unwrap_or_default())
    }

    /// Users who logged in during the last 30 days.
    pub async fn active_users(&self) -> Result<u64, UpstreamError> {
        let call = Call::get(
            "GET /api/v2/stats/active-users",
            "/api/v2/stats/active-users".into(),
        );
        self.http.json(&call).await
    }

    /// Daily figures between two dates, `YYYYMMDD`, inclusive.
    pub async fn daily_stats(&self, from: &str, to: &str) -> Result<Vec<DailyStat>, UpstreamError> {
        let call = Call::get("GET /api/v2/stats/daily", "/api/v2/stats/daily".into())
            .query("from", from)
            .query("to", to);
        self.http.json(&call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_encoded_as_one_segment() {
        assert_eq!(encode_segment("auth0|64f1"), "auth0%7C64f1");
        assert_eq!(encode_segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(
            encode_segment("google-oauth2|1.2_3~"),
            "google-oauth2%7C1.2_3~"
        );
    }
}
