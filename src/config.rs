//! Typed configuration: defaults, then a TOML file, then `TENANTGRAPH__*` environment variables.
//!
//! Unknown keys are errors that name the key. Client secrets never live in the file: each tenant
//! names the environment variable holding its secret (by default `TENANTGRAPH_SECRET_<ID>`), a
//! missing variable is an error naming it, and secrets are redacted from `Debug` output.
//! `examples/tenantgraph.toml` documents every key.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;

/// Everything tenantgraph needs to serve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    pub auth: AuthConfig,
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub audit: AuditConfig,
    /// Shared state for several replicas; absent: this gateway runs alone.
    #[serde(default)]
    pub redis: Option<RedisConfig>,
    /// What end users may change about themselves (`updateMe`, `acceptTerms`).
    #[serde(default)]
    pub self_service: SelfServiceConfig,
    /// The admin portal (`/admin/`) and the self-service page (`/account/`); absent: off.
    #[serde(default)]
    pub portal: Option<PortalConfig>,
    /// OpenTelemetry traces; off unless an endpoint is given here or in `OTEL_*` variables.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    pub tenants: Vec<TenantConfig>,
}

/// What a signed-in end user may change about their own account, through `updateMe` (and the
/// self-service page) and `acceptTerms`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfServiceConfig {
    /// The `user_metadata` keys a user may set themselves, each with its label on the
    /// self-service page; empty: any key (the page then offers none).
    pub editable_metadata: Vec<EditableField>,
    /// The current version of the terms of use; absent: no terms (`acceptTerms` is refused and
    /// `User.termsAccepted` is null).
    pub terms_version: Option<String>,
}

/// A `user_metadata` key end users may edit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditableField {
    /// The key in `user_metadata`, e.g. `language`.
    pub key: String,
    /// The label shown on the self-service page, e.g. "Language".
    pub label: String,
    /// The values offered (a choice list); empty: free text.
    #[serde(default)]
    pub choices: Vec<String>,
}

/// The admin portal and the self-service page, served by this binary over the same schema.
/// Operators sign in to `/admin/` with OpenID Connect (authorization code, PKCE) at
/// `auth.operator_issuer`; end users sign in to `/account/` at their own tenant, through the
/// application named by the tenant's `login_client_id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// The address browsers reach this gateway by, e.g. `https://admin.example.com`: the
    /// redirect URIs are `{public_url}/admin/callback` and `{public_url}/account/callback`, and
    /// cookies are `Secure` when it is https.
    pub public_url: String,
    /// The operator issuer's application for the admin portal (a Regular Web Application).
    pub client_id: String,
    /// Environment variable holding that application's secret; absent: a public client, which
    /// proves itself by PKCE alone.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Filled from `client_secret_env` at load time, never from the file.
    #[serde(skip)]
    pub client_secret: Option<SecretString>,
    /// The operator issuer's discovery document; default
    /// `{auth.operator_issuer}.well-known/openid-configuration`.
    #[serde(default)]
    pub discovery_url: Option<String>,
    /// Environment variable holding the key that encrypts session cookies (at least 64
    /// bytes, or its base64). Every replica needs the same one; absent: a random key per
    /// process (sessions end when it restarts, and do not work across replicas).
    #[serde(default)]
    pub cookie_key_env: Option<String>,
    /// Filled from `cookie_key_env` at load time.
    #[serde(skip)]
    pub cookie_key: Option<SecretString>,
    /// A session unused this long ends.
    #[serde(default = "default_session_idle", with = "humantime_serde")]
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    #[serde(default = "default_session_absolute", with = "humantime_serde")]
    pub session_absolute: Duration,
}

fn default_session_idle() -> Duration {
    Duration::from_secs(30 * 60)
}
fn default_session_absolute() -> Duration {
    Duration::from_secs(12 * 3600)
}

impl PortalConfig {
    /// `public_url` without a trailing slash.
    pub fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

/// OpenTelemetry traces exported over OTLP/HTTP. Every key is optional: a key left out is taken
/// from the standard `OTEL_*` variable that means the same, and a key set here wins over it
/// (`crate::telemetry::Settings` resolves the two). Tracing is on once an endpoint is known.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// The collector's OTLP/HTTP base URL, e.g. `http://otel-collector:4318`: spans are posted
    /// to `{otlp_endpoint}/v1/traces`, as with `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` of every span; default `OTEL_SERVICE_NAME`, else `tenantgraph`.
    pub service_name: Option<String>,
    /// Share (0 to 1) of the traces that start here which are recorded; a caller's trace is
    /// recorded when its `traceparent` says it is sampled, whatever this says. Default: what
    /// `OTEL_TRACES_SAMPLER` says, else every trace.
    pub sample_ratio: Option<f64>,
}

impl TelemetryConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if let Some(endpoint) = &self.otlp_endpoint
            && let Err(why) = otlp_base_url(endpoint)
        {
            return invalid(format!("telemetry.otlp_endpoint {why}"));
        }
        if self
            .service_name
            .as_ref()
            .is_some_and(|name| name.trim().is_empty())
        {
            return invalid("telemetry.service_name must not be empty".into());
        }
        if self
            .sample_ratio
            .is_some_and(|ratio| !(0.0..=1.0).contains(&ratio))
        {
            return invalid("telemetry.sample_ratio must be between 0 and 1".into());
        }
        Ok(())
    }
}

/// An OTLP/HTTP URL: `http` or `https`, a host, no credentials (they belong in
/// `OTEL_EXPORTER_OTLP_HEADERS`, not in a URL that is logged), no query. The error completes a
/// sentence naming the key or variable; it does not repeat the value, which may hold a secret.
pub(crate) fn otlp_url(value: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(value.trim()).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not hold credentials: give them as headers in OTEL_EXPORTER_OTLP_HEADERS".into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".into());
    }
    Ok(url)
}

/// The traces URL of an OTLP/HTTP base URL: `/v1/traces` appended to its path, as the OTLP
/// exporter specification does with `OTEL_EXPORTER_OTLP_ENDPOINT`. A base that already ends so
/// is refused rather than doubled.
pub(crate) fn otlp_base_url(value: &str) -> Result<String, String> {
    let mut url = otlp_url(value)?;
    let path = url.path().trim_end_matches('/').to_owned();
    if path.ends_with("/v1/traces") {
        return Err(
            "is the collector's base URL (such as http://collector:4318): /v1/traces is added to it; drop it"
                .into(),
        );
    }
    url.set_path(&format!("{path}/v1/traces"));
    Ok(url.into())
}

/// Redis, shared by every replica: a second-level profile cache, invalidation broadcast on
/// writes, and each tenant's upstream rate budget. Redis failing never fails a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:port/db` (or `rediss://` where the build supports TLS).
    pub url: String,
    /// Prefix of every key and channel, so several deployments can share one Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// How long a profile stays in the shared cache.
    #[serde(default = "default_redis_profile_ttl", with = "humantime_serde")]
    pub profile_ttl: Duration,
    /// Longest wait for any Redis operation; past it the replica carries on without Redis.
    #[serde(default = "default_redis_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn default_key_prefix() -> String {
    "tenantgraph:".to_owned()
}
fn default_redis_profile_ttl() -> Duration {
    Duration::from_secs(60)
}
fn default_redis_timeout() -> Duration {
    Duration::from_millis(250)
}

/// Bounds on what callers may send, checked before any tenant is asked anything.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest `userMetadata` / `appMetadata` object accepted, serialized (Auth0 advises 16 kB).
    pub metadata_bytes: usize,
    /// Largest request body; larger ones answer 413.
    pub body_bytes: usize,
    /// Operations in one batched request.
    pub batch_operations: usize,
    /// Deepest selection nesting.
    pub depth: usize,
    /// Highest query cost: each field costs 1 plus its children; lists of users cost their
    /// page size (`first`, the number of refs) times their selection; a search costs 10 more.
    pub complexity: usize,
    /// Most aliased fields in one document.
    pub aliases: usize,
    /// Operations per caller (issuer and subject; each operation of a batch counts), and
    /// failed authentications per client address.
    pub caller_rate: RateLimitConfig,
    /// Automatic persisted queries kept per caller (least recently used go first).
    pub persisted_queries: usize,
    /// Most upstream calls one request may cause per tenant through per-user fields (`logs`,
    /// `bruteForceBlocks` of every user it reads), estimated from the document before any call;
    /// a document over it is refused as QUERY_TOO_COMPLEX.
    pub upstream_per_tenant: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            metadata_bytes: 16 * 1024,
            body_bytes: 1024 * 1024,
            batch_operations: 10,
            depth: 10,
            complexity: 5_000,
            aliases: 30,
            caller_rate: RateLimitConfig {
                per_second: 50.0,
                burst: 100,
            },
            persisted_queries: 1_000,
            upstream_per_tenant: 25,
        }
    }
}

/// The audit trail. Events always go to the log (target `audit`); with `path`, also to a
/// JSON-lines file, written before the mutation answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    pub path: Option<std::path::PathBuf>,
    /// How many of the latest events `auditEvents` can read (kept in memory, and in Redis
    /// when `[redis]` is set, so that every replica reads the same trail).
    pub readable_events: usize,
    /// Events older than this are not read back (the file and the log keep them).
    #[serde(with = "humantime_serde")]
    pub readable_for: Duration,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            path: None,
            readable_events: 10_000,
            readable_for: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// The HTTP server. The defaults are closed, as production wants them: no explorer page,
/// introspection for authenticated callers only, metrics and tenant details off the API port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Serve the query explorer on `GET /graphql` to browsers.
    pub graphiql: bool,
    /// Answer introspection queries (of authenticated callers; no request runs without a token).
    pub introspection: bool,
    /// Browser origins allowed to call the API (CORS); empty: no cross-origin access.
    pub cors_origins: Vec<String>,
    /// After SIGTERM, how long in-flight requests may take before the process exits anyway.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// A second address serving `/metrics` and the detailed `/readyz`, for scrapers and probes
    /// on a private network; absent: none.
    pub ops_listen: Option<SocketAddr>,
    /// Environment variable holding a bearer token that opens `/metrics` and the detailed
    /// `/readyz` on the API address too; absent: they are not served there.
    pub ops_token_env: Option<String>,
    /// Filled from `ops_token_env` at load time, never from the file.
    #[serde(skip)]
    pub ops_token: Option<SecretString>,
    /// Serve `/metrics` and the detailed `/readyz` on the API address to anyone (the demo).
    pub open_ops: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            graphiql: false,
            introspection: true,
            cors_origins: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
            ops_listen: None,
            ops_token_env: None,
            ops_token: None,
            open_ops: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The `aud` every caller's token must carry: this gateway's API identifier.
    pub audience: String,
    /// Issuer (`iss`, with its trailing slash) of operator tokens: the workforce tenant.
    #[serde(default)]
    pub operator_issuer: Option<String>,
    /// Where the operator issuer's keys are; default `{operator_issuer}.well-known/jwks.json`.
    #[serde(default)]
    pub operator_jwks_url: Option<String>,
    /// Claim of operator tokens listing the tenant ids they may reach (`"*"` for all).
    #[serde(default = "default_tenants_claim")]
    pub tenants_claim: String,
    /// Claim of operator tokens naming the organization (its id in the tenants they reach) a
    /// delegated administrator administers. Auth0 puts the workforce tenant's own organization
    /// in `org_id`, which an Action cannot change; the Action maps it to the customers' one
    /// here. Without this claim, `org_id` is taken as it is, so an organization sign-in is
    /// never tenant-wide.
    #[serde(default = "default_organization_claim")]
    pub organization_claim: String,
    /// Tolerated clock skew when checking `exp` and `nbf`.
    #[serde(default = "default_leeway", with = "humantime_serde")]
    pub leeway: Duration,
    /// An unknown `kid` refreshes an issuer's key set at most this often.
    #[serde(default = "default_jwks_min_refresh", with = "humantime_serde")]
    pub jwks_min_refresh: Duration,
    /// A key set older than this is fetched again on its next use: the longest a signing key
    /// the issuer has retired is still trusted (at most 10 minutes by default).
    #[serde(default = "default_jwks_max_age", with = "humantime_serde")]
    pub jwks_max_age: Duration,
}

fn default_tenants_claim() -> String {
    "https://tenantgraph.dev/tenants".to_owned()
}
fn default_organization_claim() -> String {
    "https://tenantgraph.dev/organization".to_owned()
}
fn default_leeway() -> Duration {
    Duration::from_secs(30)
}
fn default_jwks_min_refresh() -> Duration {
    Duration::from_secs(10)
}
fn default_jwks_max_age() -> Duration {
    Duration::from_secs(600)
}

/// Bounds of the shared caches. Changes made outside tenantgraph are seen at the latest after
/// `profile_ttl` (plus Auth0's own search-index lag for searches).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Off: every read asks the tenants (benchmarks, debugging). Writes stay read-after-write.
    pub enabled: bool,
    #[serde(with = "humantime_serde")]
    pub profile_ttl: Duration,
    pub max_profiles: u64,
    /// How long "this user does not exist" is remembered.
    #[serde(with = "humantime_serde")]
    pub negative_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub email_ttl: Duration,
    /// Organization and role memberships shown on users.
    #[serde(with = "humantime_serde")]
    pub membership_ttl: Duration,
    /// How long an organization's member list decides what its delegated administrators may
    /// read: a member removed elsewhere is out of their reach after at most this (plus Auth0's
    /// own lag of the list). Their writes check membership at the tenant every time.
    #[serde(with = "humantime_serde")]
    pub admission_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub search_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub stats_ttl: Duration,
    /// Users written through this gateway within this window are read by id, not through
    /// Auth0's eventually consistent search, so a write is never hidden by the index lag.
    #[serde(with = "humantime_serde")]
    pub recent_write_window: Duration,
    /// Tenants with more organizations or roles than this are asked per user instead of
    /// through a membership index.
    pub max_index_groups: usize,
    /// While a tenant fails, a profile past its TTL is still served (marked stale in the
    /// response's `extensions`) if it is at most this much older than its TTL; 0 disables.
    #[serde(with = "humantime_serde")]
    pub stale_if_error: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            profile_ttl: Duration::from_secs(60),
            max_profiles: 100_000,
            negative_ttl: Duration::from_secs(5),
            email_ttl: Duration::from_secs(30),
            membership_ttl: Duration::from_secs(60),
            admission_ttl: Duration::from_secs(5),
            search_ttl: Duration::from_secs(10),
            stats_ttl: Duration::from_secs(60),
            recent_write_window: Duration::from_secs(60),
            max_index_groups: 100,
            stale_if_error: Duration::from_secs(300),
        }
    }
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info,tenantgraph=debug`; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// One Auth0 tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Slug used in the API, e.g. `acme-eu`.
    pub id: String,
    pub name: String,
    /// The tenant's canonical Auth0 domain, e.g. `acme-eu.eu.auth0.com`: the Management API is
    /// called there and its audience is `https://{domain}/api/v2/`; end users' tokens issued
    /// there carry `https://{domain}/`.
    pub domain: String,
    /// The tenant's custom domain, e.g. `login.acme.com`, if it has one: tokens issued through
    /// it (`https://{custom_domain}/`) are recognised too, and the Authentication API (password
    /// reset emails) is called there, so its links name it.
    #[serde(default)]
    pub custom_domain: Option<String>,
    /// Send Management API requests here instead of `https://{domain}` (emulators, proxies).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Send Authentication API requests here instead of `https://{custom_domain or domain}`
    /// (emulators, proxies); default: `base_url` when that is set.
    #[serde(default)]
    pub auth_base_url: Option<String>,
    /// Machine-to-machine application allowed to call the Management API.
    pub client_id: String,
    /// Environment variable holding the client secret; default `TENANTGRAPH_SECRET_<ID>`.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Filled from the environment at load time, never from the file.
    #[serde(skip)]
    pub client_secret: Option<SecretString>,
    /// Management API audience; default `https://{domain}/api/v2/`.
    #[serde(default)]
    pub audience: Option<String>,
    /// Deadline of one call to this tenant, retries included.
    #[serde(default = "default_tenant_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(default)]
    pub rate_limit: TenantRateLimit,
    /// Retries of a failed read (429, 5xx, connection errors) within the deadline.
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// Once the tenant refuses the gateway's credentials, how long its calls fail at once before
    /// one call tries again; the pause doubles after each new refusal, up to
    /// [`MAX_CREDENTIALS_RETRY`].
    #[serde(default = "default_credentials_retry", with = "humantime_serde")]
    pub credentials_retry: Duration,
    /// The tenant's application its end users sign in to `/account/` through (a Regular Web
    /// Application whose Allowed Callback URL is `{portal.public_url}/account/callback`);
    /// absent: the tenant is not offered on the self-service page.
    #[serde(default)]
    pub login_client_id: Option<String>,
    /// Environment variable holding that application's secret; absent: a public client (PKCE).
    #[serde(default)]
    pub login_client_secret_env: Option<String>,
    /// Filled from `login_client_secret_env` at load time.
    #[serde(skip)]
    pub login_client_secret: Option<SecretString>,
}

/// The longest pause between two tries of credentials a tenant refused.
pub const MAX_CREDENTIALS_RETRY: Duration = Duration::from_secs(600);

fn default_tenant_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_credentials_retry() -> Duration {
    Duration::from_secs(30)
}
fn default_retries() -> u32 {
    2
}

impl TenantConfig {
    /// A tenant served at `base_url` with the secret given directly (demo, tests).
    pub fn new(id: &str, name: &str, domain: &str, client_id: &str, secret: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            domain: domain.to_owned(),
            custom_domain: None,
            base_url: None,
            auth_base_url: None,
            client_id: client_id.to_owned(),
            client_secret_env: None,
            client_secret: Some(SecretString::from(secret.to_owned())),
            audience: None,
            timeout: default_tenant_timeout(),
            rate_limit: TenantRateLimit::default(),
            retries: default_retries(),
            breaker: BreakerConfig::default(),
            credentials_retry: default_credentials_retry(),
            login_client_id: None,
            login_client_secret_env: None,
            login_client_secret: None,
        }
    }

    /// The `iss` of the tokens this tenant gives its end users: through its canonical domain,
    /// and through its custom domain when it has one.
    pub fn issuers(&self) -> Vec<String> {
        let mut issuers = vec![format!("https://{}/", self.domain)];
        if let Some(custom) = &self.custom_domain {
            issuers.push(format!("https://{custom}/"));
        }
        issuers
    }

    /// Where the Management API is called.
    pub fn base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://{}", self.domain),
        }
    }

    /// Where the Authentication API is called.
    pub fn authentication_base_url(&self) -> String {
        match (&self.auth_base_url, &self.base_url, &self.custom_domain) {
            (Some(url), _, _) | (None, Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, None, Some(custom)) => format!("https://{custom}"),
            (None, None, None) => format!("https://{}", self.domain),
        }
    }

    pub fn management_audience(&self) -> String {
        self.audience
            .clone()
            .unwrap_or_else(|| format!("https://{}/api/v2/", self.domain))
    }

    pub fn secret_variable(&self) -> String {
        self.client_secret_env.clone().unwrap_or_else(|| {
            let id: String = self
                .id
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("TENANTGRAPH_SECRET_{id}")
        })
    }
}

/// A rate: a token bucket refilling `per_second` and holding at most `burst`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub per_second: f64,
    pub burst: u32,
}

/// A tenant's Management API budget, a token bucket. Auth0's paid production tenants allow
/// about 16 calls/s; free ones about 2, development ones under 1: the budget adapts down to
/// what the tenant's rate-limit headers announce when it runs out (`tenant::budget`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantRateLimit {
    pub per_second: f64,
    pub burst: u32,
    /// The largest share (0 to 1) of this budget one caller may use, so that one caller's
    /// request cannot starve the others.
    pub caller_share: f64,
}

impl Default for TenantRateLimit {
    fn default() -> Self {
        Self {
            per_second: 16.0,
            burst: 16,
            caller_share: 0.5,
        }
    }
}

/// When to stop calling a failing tenant, and for how long.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failures: u32,
    /// How long an open circuit refuses calls before letting one trial through.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failures: 5,
            cooldown: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration: {0}")]
    Invalid(String),
    /// Every secret missing, named by its variable, so that one start-up says them all.
    #[error("configuration: these environment variables are not set: {}", .0.join("; "))]
    MissingSecrets(Vec<String>),
}

impl Config {
    /// Loads defaults, then `path`, then `TENANTGRAPH__SECTION__KEY` variables, and resolves
    /// every tenant's secret from the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError::Parse(format!(
                    "file {} not found",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("TENANTGRAPH__").split("__"));
        Self::from_figment(figment, |name| std::env::var(name).ok())
    }

    /// Parses a TOML document, resolving secrets with `secret` (tests pass a map).
    pub fn from_toml(
        toml: &str,
        secret: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(toml)), secret)
    }

    fn from_figment(
        figment: Figment,
        secret: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe_figment_error(&e)))?;
        let mut missing = Vec::new();
        // Reads `variable` into `slot`, or names it (and what it is for) among the missing.
        let mut fill = |variable: &str, slot: &mut Option<SecretString>, what: String| match secret(
            variable,
        ) {
            Some(value) if !value.is_empty() => *slot = Some(SecretString::from(value)),
            _ => missing.push(format!("{variable} ({what})")),
        };
        for tenant in &mut config.tenants {
            if tenant.client_secret.is_none() {
                let variable = tenant.secret_variable();
                let what = format!("client secret of tenant `{}`", tenant.id);
                fill(&variable, &mut tenant.client_secret, what);
            }
            if let Some(variable) = &tenant.login_client_secret_env {
                let what = format!("login_client_secret_env of tenant `{}`", tenant.id);
                fill(variable, &mut tenant.login_client_secret, what);
            }
        }
        if let Some(portal) = &mut config.portal {
            if let Some(variable) = &portal.client_secret_env {
                let what = "portal.client_secret_env".to_owned();
                fill(variable, &mut portal.client_secret, what);
            }
            if let Some(variable) = &portal.cookie_key_env {
                fill(
                    variable,
                    &mut portal.cookie_key,
                    "portal.cookie_key_env".to_owned(),
                );
            }
        }
        if let Some(variable) = &config.server.ops_token_env {
            let what = "server.ops_token_env".to_owned();
            fill(variable, &mut config.server.ops_token, what);
        }
        if !missing.is_empty() {
            return Err(ConfigError::MissingSecrets(missing));
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: presence, uniqueness and ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.tenants.is_empty() {
            return invalid("at least one [[tenants]] entry is required".into());
        }
        if self.auth.audience.trim().is_empty() {
            return invalid("auth.audience must not be empty".into());
        }
        let mut seen = std::collections::HashSet::new();
        for tenant in &self.tenants {
            let slug_ok = !tenant.id.is_empty()
                && tenant
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !slug_ok {
                return invalid(format!(
                    "tenants.id `{}` must be lower-case letters, digits and dashes",
                    tenant.id
                ));
            }
            if !seen.insert(tenant.id.as_str()) {
                return invalid(format!("tenants.id `{}` appears twice", tenant.id));
            }
            if tenant.domain.is_empty() || tenant.domain.contains('/') {
                return invalid(format!(
                    "tenant `{}`: domain must be a host name such as acme.eu.auth0.com",
                    tenant.id
                ));
            }
            if tenant.timeout.is_zero() || tenant.timeout > Duration::from_secs(60) {
                return invalid(format!(
                    "tenant `{}`: timeout must be between 1ms and 60s",
                    tenant.id
                ));
            }
            if tenant.rate_limit.per_second.is_nan()
                || tenant.rate_limit.per_second <= 0.0
                || tenant.rate_limit.burst == 0
            {
                return invalid(format!(
                    "tenant `{}`: rate_limit.per_second and rate_limit.burst must be positive",
                    tenant.id
                ));
            }
            if !(tenant.rate_limit.caller_share > 0.0 && tenant.rate_limit.caller_share <= 1.0) {
                return invalid(format!(
                    "tenant `{}`: rate_limit.caller_share must be above 0 and at most 1",
                    tenant.id
                ));
            }
            if let Some(custom) = &tenant.custom_domain
                && (custom.is_empty() || custom.contains('/') || *custom == tenant.domain)
            {
                return invalid(format!(
                    "tenant `{}`: custom_domain must be a host name other than domain",
                    tenant.id
                ));
            }
            if let Some(operators) = &self.auth.operator_issuer
                && tenant.issuers().iter().any(|i| i == operators)
            {
                return invalid(format!(
                    "auth.operator_issuer is tenant `{}`'s own issuer: its end users would become operators; the operator issuer must be a tenant of its own (the workforce tenant)",
                    tenant.id
                ));
            }
            if tenant.credentials_retry.is_zero()
                || tenant.credentials_retry > MAX_CREDENTIALS_RETRY
            {
                return invalid(format!(
                    "tenant `{}`: credentials_retry must be between 1ms and 10m",
                    tenant.id
                ));
            }
            if tenant.breaker.failures == 0 {
                return invalid(format!(
                    "tenant `{}`: breaker.failures must be positive",
                    tenant.id
                ));
            }
        }
        if self.cache.max_profiles == 0 {
            return invalid("cache.max_profiles must be positive".into());
        }
        if self.cache.admission_ttl > Duration::from_secs(60) {
            return invalid("cache.admission_ttl must be at most 60s".into());
        }
        if self.auth.jwks_max_age.is_zero() {
            return invalid("auth.jwks_max_age must be positive".into());
        }
        if self.limits.upstream_per_tenant == 0 {
            return invalid("limits.upstream_per_tenant must be positive".into());
        }
        self.telemetry.validate()?;
        if self.audit.readable_events == 0 {
            return invalid("audit.readable_events must be positive".into());
        }
        let mut keys = std::collections::HashSet::new();
        for field in &self.self_service.editable_metadata {
            if field.key.trim().is_empty() || !keys.insert(field.key.as_str()) {
                return invalid(format!(
                    "self_service.editable_metadata: key `{}` is empty or appears twice",
                    field.key
                ));
            }
        }
        if let Some(portal) = &self.portal {
            self.validate_portal(portal)?;
        }
        Ok(())
    }
}

impl Config {
    fn validate_portal(&self, portal: &PortalConfig) -> Result<(), ConfigError> {
        let invalid = |msg: &str| Err(ConfigError::Invalid(format!("portal: {msg}")));
        let url = portal.base();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains('?') {
            return invalid("public_url must be an http(s) URL such as https://admin.example.com");
        }
        if self.auth.operator_issuer.is_none() {
            return invalid("the admin portal signs operators in at auth.operator_issuer: set it");
        }
        if portal.client_id.trim().is_empty() {
            return invalid("client_id must not be empty");
        }
        if portal.session_idle.is_zero() || portal.session_idle > portal.session_absolute {
            return invalid("session_idle must be positive and at most session_absolute");
        }
        Ok(())
    }
}

/// Figment's message names the offending key ("unknown field: found `foo`, expected …");
/// keep it, and add the key path when it knows one.
fn describe_figment_error(error: &figment::Error) -> String {
    let path = error.path.join(".");
    if path.is_empty() {
        error.to_string()
    } else {
        format!("{error} (key `{path}`)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const MINIMAL: &str = r#"
        [auth]
        audience = "https://tenantgraph.example.com/api"
        [[tenants]]
        id = "acme-eu"
        name = "ACME Europe"
        domain = "acme-eu.eu.auth0.com"
        client_id = "abc"
    "#;

    fn secrets(name: &str) -> Option<String> {
        (name == "TENANTGRAPH_SECRET_ACME_EU").then(|| "s3cret".to_owned())
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let config = Config::from_toml(MINIMAL, secrets).unwrap();
        assert_eq!(config.server.listen.port(), 4000);
        assert_eq!(config.cache.profile_ttl, Duration::from_secs(60));
        let tenant = &config.tenants[0];
        assert_eq!(tenant.issuers(), ["https://acme-eu.eu.auth0.com/"]);
        assert_eq!(
            tenant.management_audience(),
            "https://acme-eu.eu.auth0.com/api/v2/"
        );
        assert_eq!(tenant.timeout, Duration::from_secs(5));
        assert_eq!(
            tenant.client_secret.as_ref().unwrap().expose_secret(),
            "s3cret"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let toml = format!("{MINIMAL}\n[cache]\nprofile_tll = \"1s\"\n");
        let error = Config::from_toml(&toml, secrets).unwrap_err().to_string();
        assert!(error.contains("profile_tll"), "{error}");
    }

    #[test]
    fn a_missing_secret_names_the_variable() {
        let error = Config::from_toml(MINIMAL, |_| None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("TENANTGRAPH_SECRET_ACME_EU"), "{error}");
    }

    #[test]
    fn every_missing_secret_is_named_at_once() {
        let toml = format!(
            "{MINIMAL}\n[[tenants]]\nid = \"globex\"\nname = \"x\"\ndomain = \"x.auth0.com\"\nclient_id = \"x\"\n"
        );
        let error = Config::from_toml(&toml, |_| None).unwrap_err().to_string();
        assert!(error.contains("TENANTGRAPH_SECRET_ACME_EU"), "{error}");
        assert!(error.contains("TENANTGRAPH_SECRET_GLOBEX"), "{error}");
    }

    #[test]
    fn the_operator_issuer_cannot_be_a_tenants_issuer() {
        let toml = format!("{MINIMAL}custom_domain = \"login.acme.test\"\n").replace(
            "[auth]\n",
            "[auth]\noperator_issuer = \"https://login.acme.test/\"\n",
        );
        let error = Config::from_toml(&toml, secrets).unwrap_err().to_string();
        assert!(error.contains("would become operators"), "{error}");
    }

    #[test]
    fn a_custom_domain_is_an_issuer_and_the_authentication_api_but_not_the_management_api() {
        let toml = format!("{MINIMAL}custom_domain = \"login.acme.test\"\n");
        let config = Config::from_toml(&toml, secrets).unwrap();
        let tenant = &config.tenants[0];
        assert_eq!(
            tenant.issuers(),
            ["https://acme-eu.eu.auth0.com/", "https://login.acme.test/"]
        );
        assert_eq!(
            tenant.management_audience(),
            "https://acme-eu.eu.auth0.com/api/v2/"
        );
        assert_eq!(tenant.base_url(), "https://acme-eu.eu.auth0.com");
        assert_eq!(tenant.authentication_base_url(), "https://login.acme.test");
    }

    #[test]
    fn production_defaults_are_closed() {
        let config = Config::from_toml(MINIMAL, secrets).unwrap();
        assert!(!config.server.graphiql);
        assert!(!config.server.open_ops);
        assert!(config.server.ops_listen.is_none());
        assert_eq!(config.auth.jwks_max_age, Duration::from_secs(600));
        assert_eq!(config.cache.admission_ttl, Duration::from_secs(5));
    }

    #[test]
    fn secrets_are_redacted_from_debug_output() {
        let config = Config::from_toml(MINIMAL, secrets).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn the_pause_after_refused_credentials_is_configurable_up_to_ten_minutes() {
        let config = Config::from_toml(MINIMAL, secrets).unwrap();
        assert_eq!(config.tenants[0].credentials_retry, Duration::from_secs(30));
        let toml = format!("{MINIMAL}credentials_retry = \"300ms\"\n");
        let config = Config::from_toml(&toml, secrets).unwrap();
        assert_eq!(
            config.tenants[0].credentials_retry,
            Duration::from_millis(300)
        );
        let toml = format!("{MINIMAL}credentials_retry = \"11m\"\n");
        let error = Config::from_toml(&toml, secrets).unwrap_err().to_string();
        assert!(error.contains("credentials_retry"), "{error}");
    }

    #[test]
    fn durations_are_written_like_5s() {
        let toml = format!("{MINIMAL}timeout = \"250ms\"\n");
        let config = Config::from_toml(&toml, secrets).unwrap();
        assert_eq!(config.tenants[0].timeout, Duration::from_millis(250));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail decides the error type
    fn the_environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("tenantgraph.toml", MINIMAL)?;
            jail.set_env("TENANTGRAPH__SERVER__LISTEN", "127.0.0.1:9999");
            jail.set_env("TENANTGRAPH__CACHE__PROFILE_TTL", "2m");
            jail.set_env("TENANTGRAPH_SECRET_ACME_EU", "from-env");
            let config =
                Config::load(Some(Path::new("tenantgraph.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.server.listen.port(), 9999);
            assert_eq!(config.cache.profile_ttl, Duration::from_secs(120));
            jail.set_env("TENANTGRAPH__SERVER__LISTN", "x");
            let error = Config::load(Some(Path::new("tenantgraph.toml")))
                .unwrap_err()
                .to_string();
            assert!(error.contains("listn"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn the_documented_example_is_valid() {
        let example = include_str!("../examples/tenantgraph.toml");
        let config =
            Config::from_toml(example, |_| Some("from-the-environment".to_owned())).unwrap();
        assert_eq!(config.tenants.len(), 3);
        assert_eq!(
            config.tenants[0].secret_variable(),
            "TENANTGRAPH_SECRET_ACME_EU"
        );
    }

    /// The example with its commented lines switched on: `# e.g. key = value` lines only, or
    /// those and the `# key = value` lines that state defaults.
    fn example_with(defaults_too: bool) -> String {
        let mut out = String::new();
        for line in include_str!("../examples/tenantgraph.toml").lines() {
            let setting = |text: &str| {
                text.starts_with('[')
                    || text.split_once(" = ").is_some_and(|(key, _)| {
                        key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    })
            };
            let line = match line.strip_prefix("# e.g. ") {
                Some(example) if setting(example) => example,
                _ => match line.strip_prefix("# ") {
                    Some(default) if defaults_too && setting(default) => default,
                    _ => line,
                },
            };
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    #[test]
    fn every_key_the_example_shows_is_real_and_its_defaults_are_the_defaults() {
        let from_the_environment = |_: &str| Some("from-the-environment".to_owned());
        let examples = Config::from_toml(&example_with(false), from_the_environment).unwrap();
        let everything = Config::from_toml(&example_with(true), from_the_environment).unwrap();
        assert!(examples.redis.is_some() && examples.server.ops_listen.is_some());
        assert_eq!(
            format!("{everything:#?}"),
            format!("{examples:#?}"),
            "a `# key = value` line of examples/tenantgraph.toml is not the default"
        );
    }

    /// Every field of every configuration struct of this file (but those filled from the
    /// environment) is a key of examples/tenantgraph.toml.
    #[test]
    fn the_example_shows_every_key() {
        let example = include_str!("../examples/tenantgraph.toml");
        let source = include_str!("config.rs");
        let source = &source[..source.find("#[cfg(test)]").unwrap()];
        let mut in_struct = false;
        let mut skipped = false;
        let mut missing = Vec::new();
        let mut fields = 0;
        for line in source.lines() {
            if line.starts_with("pub struct ") && line.ends_with('{') {
                in_struct = true;
                continue;
            }
            if line == "}" {
                in_struct = false;
            }
            if !in_struct {
                continue;
            }
            if line.trim_start().starts_with("#[serde(skip") {
                skipped = true;
            }
            let Some(field) = line
                .strip_prefix("    pub ")
                .and_then(|rest| rest.split_once(':'))
                .map(|(name, _)| name)
            else {
                continue;
            };
            if std::mem::take(&mut skipped) {
                continue;
            }
            fields += 1;
            let shown = example.lines().any(|line| {
                let line = line.trim_start_matches("# e.g. ").trim_start_matches("# ");
                line.starts_with(&format!("{field} = "))
                    || line == format!("[{field}]")
                    || line == format!("[[{field}]]")
                    || line.contains(&format!("{{ {field} = "))
                    || line.contains(&format!(", {field} = "))
            });
            if !shown {
                missing.push(field);
            }
        }
        assert!(fields > 60, "found {fields} fields");
        assert!(
            missing.is_empty(),
            "not in examples/tenantgraph.toml: {missing:?}"
        );
    }

    #[test]
    fn the_compose_deployment_config_is_valid() {
        let deploy = include_str!("../deploy/tenantgraph.toml");
        let config =
            Config::from_toml(deploy, |_| Some("from-the-environment".to_owned())).unwrap();
        let redis = config.redis.unwrap();
        assert_eq!(redis.url, "redis://redis:6379/0");
        assert_eq!(redis.timeout, Duration::from_millis(250));
        assert_eq!(config.server.listen.port(), 4000);
    }

    const PORTAL: &str = r#"
        [portal]
        public_url = "https://admin.example.com/"
        client_id = "portal"
        client_secret_env = "PORTAL_SECRET"
        cookie_key_env = "PORTAL_KEY"
        session_idle = "10m"
        [self_service]
        editable_metadata = [{ key = "language", label = "Language", choices = ["en", "de"] }]
        terms_version = "2024-06"
    "#;

    #[test]
    fn the_portal_reads_its_secrets_from_the_environment() {
        let toml = format!("{MINIMAL}login_client_id = \"self-service\"\n{PORTAL}").replace(
            "[auth]\n",
            "[auth]\noperator_issuer = \"https://ops.example.com/\"\n",
        );
        let all = |name: &str| match name {
            "PORTAL_SECRET" | "PORTAL_KEY" | "TENANTGRAPH_SECRET_ACME_EU" => Some("s".to_owned()),
            _ => None,
        };
        let config = Config::from_toml(&toml, all).unwrap();
        let portal = config.portal.as_ref().unwrap();
        assert_eq!(portal.base(), "https://admin.example.com");
        assert!(portal.client_secret.is_some() && portal.cookie_key.is_some());
        assert_eq!(portal.session_idle, Duration::from_secs(600));
        assert_eq!(portal.session_absolute, Duration::from_secs(12 * 3600));
        assert_eq!(
            config.tenants[0].login_client_id.as_deref(),
            Some("self-service")
        );
        assert_eq!(
            config.self_service.terms_version.as_deref(),
            Some("2024-06")
        );
        let error = Config::from_toml(&toml, secrets).unwrap_err().to_string();
        assert!(
            error.contains("PORTAL_SECRET") && error.contains("PORTAL_KEY"),
            "{error}"
        );
    }

    #[test]
    fn the_portal_needs_the_operator_issuer() {
        let toml = format!("{MINIMAL}{PORTAL}");
        let error = Config::from_toml(&toml, |_| Some("s".to_owned()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("operator_issuer"), "{error}");
    }

    #[test]
    fn telemetry_settings_are_checked_at_load() {
        let section =
            "[telemetry]\notlp_endpoint = \"http://collector:4318\"\nsample_ratio = 0.5\n";
        let config = Config::from_toml(&format!("{MINIMAL}\n{section}"), secrets).unwrap();
        assert_eq!(
            config.telemetry.otlp_endpoint.as_deref(),
            Some("http://collector:4318")
        );
        assert_eq!(config.telemetry.sample_ratio, Some(0.5));
        assert!(
            Config::from_toml(MINIMAL, secrets)
                .unwrap()
                .telemetry
                .otlp_endpoint
                .is_none(),
            "off by default"
        );
        for (keys, named) in [
            (
                "otlp_endpoint = \"collector:4318\"",
                "telemetry.otlp_endpoint",
            ),
            (
                "otlp_endpoint = \"http://collector:4318/v1/traces\"",
                "telemetry.otlp_endpoint",
            ),
            ("sample_ratio = 1.5", "telemetry.sample_ratio"),
            ("sample_ratio = nan", "telemetry.sample_ratio"),
            ("service_name = \" \"", "telemetry.service_name"),
            ("endpoint = \"http://c:4318\"", "endpoint"),
        ] {
            let toml = format!("{MINIMAL}\n[telemetry]\n{keys}\n");
            let error = Config::from_toml(&toml, secrets).unwrap_err().to_string();
            assert!(error.contains(named), "{keys}: {error}");
        }
    }

    #[test]
    fn duplicate_tenant_ids_are_refused() {
        let toml = format!(
            "{MINIMAL}\n[[tenants]]\nid = \"acme-eu\"\nname = \"x\"\ndomain = \"x.auth0.com\"\nclient_id = \"x\"\n"
        );
        let error = Config::from_toml(&toml, secrets).unwrap_err().to_string();
        assert!(error.contains("appears twice"), "{error}");
    }
}
