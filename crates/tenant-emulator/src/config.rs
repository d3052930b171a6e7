//! What one emulated tenant is made of: its name, listener, seed, clients, limits and extra users.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The database connection every tenant has, as in a fresh Auth0 tenant.
pub const DATABASE_CONNECTION: &str = "Username-Password-Authentication";
/// The social connection every tenant has.
pub const SOCIAL_CONNECTION: &str = "google-oauth2";
/// Password of every seeded database user unless configured otherwise.
pub const DEFAULT_PASSWORD: &str = "Tenant-Emulator-1";

/// How long logs are kept unless configured otherwise: 30 days, the longest any Auth0 plan keeps
/// them (Enterprise), so nothing the emulator returns is older than what some real tenant shows.
pub const DEFAULT_LOG_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Auth0's limit on `POST /dbconnections/change_password` from one IP for one email, as published
/// for the Free, Essentials and Professional plans: a burst of 10, then 1 a minute.
pub const CHANGE_PASSWORD_LIMIT: RateLimit = RateLimit {
    per_second: 1.0 / 60.0,
    burst: 10,
};

/// Every Management API scope the emulator knows; the default client holds them all.
pub const ALL_SCOPES: &[&str] = &[
    "read:users",
    "update:users",
    "delete:users",
    "create:users",
    "read:users_app_metadata",
    "update:users_app_metadata",
    "delete:users_app_metadata",
    "create:users_app_metadata",
    "create:user_tickets",
    "read:logs",
    "read:logs_users",
    "read:stats",
    "read:organizations",
    "create:organizations",
    "read:organization_members",
    "read:organization_member_roles",
    "create:organization_members",
    "delete:organization_members",
    "read:roles",
    "create:roles",
    "update:roles",
    "read:role_members",
    "create:role_members",
    "delete:role_members",
    "read:connections",
    "read:clients",
];

/// One emulated tenant. `EmulatorConfig::new("acme-eu")` gives every default.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Slug, e.g. `acme-eu`.
    pub tenant: String,
    /// Default `{tenant}.auth0.test`; `iss` is `https://{domain}/`, the Management API audience
    /// `https://{domain}/api/v2/`.
    pub domain: String,
    /// A custom domain (e.g. `login.acme.test`): tokens requested through it (the request's
    /// `Host`) carry `iss` = `https://{custom_domain}/`; the Management API audience stays the
    /// canonical domain's. Default none.
    pub custom_domain: Option<String>,
    /// Default `127.0.0.1:0`: loopback only, a free port.
    pub listen: SocketAddr,
    /// Number of seeded users (default 1000).
    pub users: usize,
    /// Seed of every generated value (default 1). Tenants with the same seed share people.
    pub seed: u64,
    /// Password of every seeded database user.
    pub password: String,
    /// Applications allowed to get tokens.
    pub clients: Vec<ClientConfig>,
    /// Management API rate limit; `None` = unlimited (the headers are still sent).
    pub rate_limit: Option<RateLimit>,
    /// The limit on password-reset requests per (email, IP); default Auth0's
    /// ([`CHANGE_PASSWORD_LIMIT`]), `None` = unlimited.
    pub change_password_limit: Option<RateLimit>,
    /// How long search (`GET /api/v2/users`) keeps seeing a user as it was before a write.
    pub search_lag: Duration,
    /// How long `GET /api/v2/organizations/{id}/members` keeps showing the members as they were
    /// before a membership write (Auth0 documents that list as eventually consistent).
    pub membership_lag: Duration,
    /// Named database users added after the seed.
    pub extra_users: Vec<ExtraUser>,
    /// How long log events stay readable, on the tenant clock (default 30 days). Auth0 keeps
    /// them 1 to 30 days by plan.
    pub log_retention: Duration,
    /// Reference time of the seed (default: now). Fix it for byte-identical seeds.
    pub now: Option<DateTime<Utc>>,
    /// Lifetime of issued access tokens (default 86400 s, Auth0's).
    pub token_ttl: Duration,
    /// Users the login page offers to sign in with one button each (an emulator convenience).
    pub personas: Vec<Persona>,
}

impl EmulatorConfig {
    pub fn new(tenant: impl Into<String>) -> Self {
        let tenant = tenant.into();
        Self {
            domain: format!("{tenant}.auth0.test"),
            tenant,
            custom_domain: None,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            users: 1000,
            seed: 1,
            password: DEFAULT_PASSWORD.to_owned(),
            clients: vec![ClientConfig::default()],
            rate_limit: None,
            change_password_limit: Some(CHANGE_PASSWORD_LIMIT),
            search_lag: Duration::ZERO,
            membership_lag: Duration::ZERO,
            extra_users: Vec::new(),
            log_retention: DEFAULT_LOG_RETENTION,
            now: None,
            token_ttl: Duration::from_secs(86_400),
            personas: Vec::new(),
        }
    }
}

/// An application registered in the tenant, with its client grant to the Management API.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Management API scopes granted to the client.
    pub scopes: Vec<String>,
    /// Auth0's "Allowed Callback URLs": the only `redirect_uri`s `/authorize` accepts, compared
    /// exactly. None by default, as for a new Auth0 application.
    #[serde(default)]
    pub callbacks: Vec<String>,
    /// Auth0's "Allowed Logout URLs": where the logout endpoints may send the browser.
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    /// How the client authenticates when it exchanges an authorization code.
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
}

impl ClientConfig {
    /// Adds an allowed callback URL.
    #[must_use]
    pub fn with_callback(mut self, url: impl Into<String>) -> Self {
        self.callbacks.push(url.into());
        self
    }

    /// Adds an allowed logout URL.
    #[must_use]
    pub fn with_logout_url(mut self, url: impl Into<String>) -> Self {
        self.allowed_logout_urls.push(url.into());
        self
    }

    /// A public client (a single-page or native app): no secret at the token endpoint, so its
    /// authorization codes must carry a PKCE challenge.
    #[must_use]
    pub fn public(mut self) -> Self {
        self.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
        self
    }
}

impl std::fmt::Debug for ClientConfig {
    // The secret stays out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("callbacks", &self.callbacks)
            .field("allowed_logout_urls", &self.allowed_logout_urls)
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .finish()
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            client_id: "tenantgraph".to_owned(),
            client_secret: "tenantgraph-secret".to_owned(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            callbacks: Vec::new(),
            allowed_logout_urls: Vec::new(),
            token_endpoint_auth_method: TokenEndpointAuthMethod::default(),
        }
    }
}

/// Auth0's `token_endpoint_auth_method` of an application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// A public client: it cannot keep a secret.
    None,
    /// The secret in the body (`client_secret`); HTTP Basic is accepted too.
    #[default]
    ClientSecretPost,
    /// The secret by HTTP Basic; `client_secret` in the body is accepted too.
    ClientSecretBasic,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

/// A named database user added after the seed (also the body of `POST /__emulator/users`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtraUser {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    /// A full id (`auth0|abc`) or just the part after the `|`; generated when absent.
    pub user_id: Option<String>,
    /// Default `Username-Password-Authentication`.
    pub connection: Option<String>,
    pub email_verified: bool,
    /// The `permissions` claim of this user's password-realm tokens (Auth0 RBAC).
    pub permissions: Vec<String>,
    /// The `org_id` claim of this user's password-realm tokens.
    pub org_id: Option<String>,
    /// Extra claims, as an Auth0 Action would add them.
    pub claims: Map<String, Value>,
    pub user_metadata: Value,
    pub app_metadata: Value,
}

impl ExtraUser {
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            password: password.into(),
            ..Self::default()
        }
    }
}

/// A user the login page offers as a one-click sign-in, "Sign in as {label}", for demos and
/// browser tests. Shown only while `email` belongs to a database user of the tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub label: String,
    pub email: String,
}

impl Persona {
    pub fn new(label: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            email: email.into(),
        }
    }
}
