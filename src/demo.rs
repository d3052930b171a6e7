//! The embedded demo: three emulated tenants (acme-eu, acme-us, globex), an emulated operator
//! issuer (the company's workforce tenant), the gateway in front of them, and bearer tokens for
//! five personas. Tests build the same [`Environment`] on free ports.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};
use tenant_emulator::{Emulator, EmulatorConfig, EmulatorHandle, ExtraUser};

use crate::config::{
    AuditConfig, AuthConfig, CacheConfig, Config, LimitsConfig, LogConfig, ServerConfig,
    TelemetryConfig, TenantConfig,
};

/// The emulated tenants: (id, display name).
pub const TENANTS: [(&str, &str); 3] = [
    ("acme-eu", "ACME Europe"),
    ("acme-us", "ACME United States"),
    ("globex", "Globex"),
];
/// The gateway's API identifier, the `aud` of every caller's token.
pub const AUDIENCE: &str = "https://api.tenantgraph.dev/";
/// The claim listing an operator's tenants.
pub const TENANTS_CLAIM: &str = "https://tenantgraph.dev/tenants";
/// The emulated workforce tenant that issues operator tokens.
pub const OPERATORS: &str = "operators";
/// The Management API client the emulators register by default.
const CLIENT_ID: &str = "tenantgraph";
const CLIENT_SECRET: &str = "tenantgraph-secret";
const OPERATOR_PASSWORD: &str = "Operator-Demo-1";

/// Every permission an operator can hold.
pub const ALL_PERMISSIONS: [&str; 10] = [
    "read:users",
    "read:users_app_metadata",
    "read:logs",
    "read:stats",
    "create:users",
    "update:users",
    "update:users_app_metadata",
    "block:users",
    "delete:users",
    "manage:gdpr",
];

/// Emulated tenants and the operator issuer, running in this process.
pub struct Environment {
    pub tenants: Vec<EmulatorHandle>,
    pub operators: EmulatorHandle,
    http: reqwest::Client,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment").finish_non_exhaustive()
    }
}

/// The demo personas' bearer tokens.
#[derive(Debug, Clone, Serialize)]
pub struct Tokens {
    pub global_admin: String,
    pub tenant_admin: String,
    pub org_admin: String,
    pub auditor: String,
    pub user: String,
}

impl Environment {
    /// Starts the three tenants (each tuned by `tune`) and the operator issuer on free ports.
    pub async fn start(
        users: usize,
        seed: u64,
        tune: impl Fn(&mut EmulatorConfig),
    ) -> anyhow::Result<Self> {
        let mut tenants = Vec::with_capacity(TENANTS.len());
        for (id, _) in TENANTS {
            let mut config = EmulatorConfig::new(id);
            config.users = users;
            config.seed = seed;
            tune(&mut config);
            tenants.push(
                Emulator::start(config)
                    .await
                    .with_context(|| format!("starting tenant {id}"))?,
            );
        }
        let mut config = EmulatorConfig::new(OPERATORS);
        config.users = 0;
        config.seed = seed;
        let operators = Emulator::start(config)
            .await
            .context("starting the operator issuer")?;
        Ok(Self {
            tenants,
            operators,
            http: crate::http_client()?,
        })
    }

    pub fn tenant(&self, id: &str) -> Option<&EmulatorHandle> {
        self.tenants.iter().find(|t| t.tenant() == id)
    }

    /// Gateway configuration for these tenants, listening on `listen`.
    pub fn gateway_config(&self, listen: SocketAddr) -> Config {
        let tenants = self
            .tenants
            .iter()
            .map(|handle| {
                let name = TENANTS
                    .iter()
                    .find(|(id, _)| *id == handle.tenant())
                    .map_or(handle.tenant(), |(_, n)| n);
                let mut tenant = TenantConfig::new(
                    handle.tenant(),
                    name,
                    handle.domain(),
                    CLIENT_ID,
                    CLIENT_SECRET,
                );
                tenant.base_url = Some(handle.base_url());
                tenant
            })
            .collect();
        Config {
            server: ServerConfig {
                listen,
                // The demo is the product on a laptop: the explorer, introspection and the
                // operational endpoints are open (on loopback).
                graphiql: true,
                introspection: true,
                open_ops: true,
                ..ServerConfig::default()
            },
            auth: AuthConfig {
                audience: AUDIENCE.to_owned(),
                operator_issuer: Some(self.operators.issuer()),
                operator_jwks_url: Some(format!(
                    "{}/.well-known/jwks.json",
                    self.operators.base_url()
                )),
                tenants_claim: TENANTS_CLAIM.to_owned(),
                leeway: Duration::from_secs(30),
                jwks_min_refresh: Duration::from_secs(1),
                jwks_max_age: Duration::from_secs(3600),
            },
            cache: CacheConfig::default(),
            log: LogConfig::default(),
            limits: LimitsConfig::default(),
            audit: AuditConfig::default(),
            redis: None,
            // The demo's traces are switched on by the OTEL_* variables alone.
            telemetry: TelemetryConfig::default(),
            tenants,
        }
    }

    /// A token of an operator holding `permissions` over `tenants` (`json!("*")` or a list),
    /// optionally delegated to one organization. The operator is created in the operator issuer
    /// and signs in with the password-realm grant, as a real one would.
    pub async fn operator_token(
        &self,
        name: &str,
        permissions: &[&str],
        tenants: Value,
        organization: Option<&str>,
    ) -> anyhow::Result<String> {
        let email = format!(
            "{}.{}@operators.test",
            name.replace(' ', "."),
            rand_suffix()
        );
        let mut operator = ExtraUser::new(&email, OPERATOR_PASSWORD);
        operator.name = Some(name.to_owned());
        operator.email_verified = true;
        operator.permissions = permissions.iter().map(|p| (*p).to_owned()).collect();
        operator.org_id = organization.map(str::to_owned);
        operator.claims.insert(TENANTS_CLAIM.to_owned(), tenants);
        self.operators
            .control()
            .add_user(operator)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.sign_in(&self.operators, &email, OPERATOR_PASSWORD)
            .await
    }

    /// An end user's token from its tenant's password-realm grant.
    pub async fn sign_in(
        &self,
        tenant: &EmulatorHandle,
        email: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        let response = self
            .http
            .post(format!("{}/oauth/token", tenant.base_url()))
            .json(&json!({
                "grant_type": "http://auth0.com/oauth/grant-type/password-realm",
                "username": email,
                "password": password,
                "realm": "Username-Password-Authentication",
                "audience": AUDIENCE,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": "openid profile email",
            }))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "{email} could not sign in to {}: {}",
                tenant.tenant(),
                response.status()
            );
        }
        let body: Value = response.json().await?;
        body.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .context("the token answer has no access_token")
    }

    /// A verified database user of `tenant` that can sign in, and its token.
    pub async fn end_user(&self, tenant: &str) -> anyhow::Result<(String, String)> {
        let handle = self.tenant(tenant).context("no such tenant")?;
        let page = handle.control().users(500, 0);
        for user in page
            .users
            .iter()
            .filter(|u| u.email_verified && u.user_id.starts_with("auth0|"))
        {
            let Some(email) = &user.email else { continue };
            // Blocked users cannot sign in; try the next one.
            if let Ok(token) = self
                .sign_in(handle, email, tenant_emulator::DEFAULT_PASSWORD)
                .await
            {
                return Ok((user.user_id.clone(), token));
            }
        }
        bail!("no seeded user of {tenant} could sign in")
    }

    /// The acme-us organization with the most members.
    pub fn demo_organization(&self) -> anyhow::Result<String> {
        let handle = self.tenant("acme-us").context("acme-us is not running")?;
        handle
            .control()
            .organizations()
            .into_iter()
            .max_by_key(|o| o.members.len())
            .map(|o| o.id)
            .context("acme-us has no organization")
    }

    /// The five demo personas.
    pub async fn personas(&self) -> anyhow::Result<Tokens> {
        let all = ALL_PERMISSIONS;
        let no_gdpr: Vec<&str> = all
            .iter()
            .copied()
            .filter(|p| *p != "manage:gdpr")
            .collect();
        let organization = self.demo_organization()?;
        Ok(Tokens {
            global_admin: self
                .operator_token("Global Admin", &all, json!("*"), None)
                .await?,
            tenant_admin: self
                .operator_token("Tenant Admin", &no_gdpr, json!(["acme-eu"]), None)
                .await?,
            org_admin: self
                .operator_token(
                    "Org Admin",
                    &["read:users", "update:users", "block:users", "read:logs"],
                    json!(["acme-us"]),
                    Some(&organization),
                )
                .await?,
            auditor: self
                .operator_token(
                    "Auditor",
                    &["read:users", "read:logs", "read:stats"],
                    json!("*"),
                    None,
                )
                .await?,
            user: self.end_user("acme-eu").await?.1,
        })
    }
}

/// A short random suffix keeping operator emails unique within one issuer.
fn rand_suffix() -> String {
    use rand::Rng;
    format!("{:06x}", rand::thread_rng().gen_range(0..0xff_ffff))
}

/// `tenantgraph demo` options.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub listen: SocketAddr,
    /// Browser origins allowed to call the API.
    pub cors_origins: Vec<String>,
    pub users: usize,
    pub seed: u64,
    pub tokens_file: Option<PathBuf>,
}

/// Runs the demo until Ctrl-C.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let environment = Environment::start(options.users, options.seed, |_| {}).await?;
    let tokens = environment.personas().await?;
    let mut config = environment.gateway_config(options.listen);
    config.server.cors_origins = options.cors_origins.clone();
    let app = crate::Application::build_with(config, Some(&tokens.global_admin)).await?;
    let graphql = format!("http://{}/graphql", app.local_addr());

    let tenant_urls: serde_json::Map<String, Value> = environment
        .tenants
        .iter()
        .map(|t| (t.tenant().to_owned(), Value::from(t.base_url())))
        .collect();
    if let Some(path) = &options.tokens_file {
        let file = json!({
            "tokens": tokens,
            "tenants": tenant_urls,
            "operator_issuer": {
                "url": environment.operators.base_url(),
                "issuer": environment.operators.issuer(),
            },
            "graphql": graphql,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&file)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    print_banner(&environment, &tokens, &graphql);
    app.run_until_stopped(crate::shutdown_signal()).await?;
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_banner(environment: &Environment, tokens: &Tokens, graphql: &str) {
    println!("tenantgraph demo");
    println!();
    for tenant in &environment.tenants {
        println!(
            "  tenant {:<8} {}  (issuer {})",
            tenant.tenant(),
            tenant.base_url(),
            tenant.issuer()
        );
    }
    println!(
        "  operator issuer  {}  (issuer {})",
        environment.operators.base_url(),
        environment.operators.issuer()
    );
    println!();
    println!("GraphQL:  {graphql}");
    println!(
        "Explorer: open {graphql} in a browser (signed in as global_admin; paste another token in Headers)"
    );
    println!();
    let personas = [
        (
            "global_admin",
            "every permission, every tenant",
            &tokens.global_admin,
        ),
        (
            "tenant_admin",
            "every permission but manage:gdpr, acme-eu",
            &tokens.tenant_admin,
        ),
        (
            "org_admin",
            "read/update/block users, read logs; one acme-us organization",
            &tokens.org_admin,
        ),
        (
            "auditor",
            "read users, logs and stats; every tenant",
            &tokens.auditor,
        ),
        (
            "user",
            "an acme-eu end user (me, updateMe, …)",
            &tokens.user,
        ),
    ];
    for (name, what, token) in personas {
        println!("{name} ({what}):");
        println!("  Authorization: Bearer {token}");
        println!();
    }
    println!("Press Ctrl-C to stop.");
}
