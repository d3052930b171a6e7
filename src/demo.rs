//! The embedded demo: three emulated tenants (acme-eu, acme-us, globex), an emulated operator
//! issuer (the company's workforce tenant), the gateway in front of them, and bearer tokens for
//! five personas. Tests build the same [`Environment`] on free ports.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};
use tenant_emulator::{ClientConfig, Emulator, EmulatorConfig, EmulatorHandle, ExtraUser, Persona};

use crate::config::{
    AuditConfig, AuthConfig, CacheConfig, Config, EditableField, LimitsConfig, LogConfig,
    PortalConfig, SelfServiceConfig, ServerConfig, TelemetryConfig, TenantConfig,
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
/// The claim naming a delegated administrator's organization (in the tenants it reaches).
pub const ORGANIZATION_CLAIM: &str = "https://tenantgraph.dev/organization";
/// The emulated workforce tenant that issues operator tokens.
pub const OPERATORS: &str = "operators";
/// The Management API client the emulators register by default.
const CLIENT_ID: &str = "tenantgraph";
const CLIENT_SECRET: &str = "tenantgraph-secret";
const OPERATOR_PASSWORD: &str = "Operator-Demo-1";
/// The admin portal's application at the operator issuer (a confidential web application).
pub const PORTAL_CLIENT: &str = "tenantgraph-portal";
const PORTAL_SECRET: &str = "tenantgraph-portal-secret";
/// The self-service page's application at each tenant (a public client: PKCE alone).
pub const ACCOUNT_CLIENT: &str = "tenantgraph-account";

/// The version of the demo's terms of use.
pub const TERMS_VERSION: &str = "2024-06";

/// What the demo's end users may change themselves: their language and salutation, and the
/// terms they accept.
pub fn self_service() -> SelfServiceConfig {
    let field = |key: &str, label: &str, choices: &[&str]| EditableField {
        key: key.to_owned(),
        label: label.to_owned(),
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
    };
    SelfServiceConfig {
        editable_metadata: vec![
            field(
                "language",
                "Language",
                &["en", "de", "fr", "es", "it", "pt", "nl", "ja"],
            ),
            field("salutation", "Salutation", &["", "Ms", "Mr", "Mx", "Dr"]),
        ],
        terms_version: Some(TERMS_VERSION.to_owned()),
    }
}

/// Every permission an operator can hold.
pub const ALL_PERMISSIONS: [&str; 11] = [
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
    "read:audit",
];

/// Emulated tenants and the operator issuer, running in this process.
pub struct Environment {
    pub tenants: Vec<EmulatorHandle>,
    pub operators: EmulatorHandle,
    http: reqwest::Client,
    /// The portal's address, when the issuers know its applications.
    portal: Option<String>,
}

/// How one demo persona signs in on a login page.
#[derive(Debug, Clone, Serialize)]
pub struct SignIn {
    /// The persona, as its button names it ("Sign in as {persona}").
    pub persona: String,
    /// Where it signs in: `operators` or a tenant id.
    pub issuer: String,
    pub email: String,
    pub password: String,
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
        Self::start_for(users, seed, tune, None).await
    }

    /// As [`Environment::start`], with the portal served at `portal` (e.g.
    /// `http://127.0.0.1:4000`) registered as an application of the operator issuer (for
    /// `/admin/`) and of each tenant (for `/account/`), as a real deployment registers it.
    pub async fn start_for(
        users: usize,
        seed: u64,
        tune: impl Fn(&mut EmulatorConfig),
        portal: Option<&str>,
    ) -> anyhow::Result<Self> {
        let ids: Vec<&str> = TENANTS.iter().map(|(id, _)| *id).collect();
        Self::start_tenants(&ids, users, seed, tune, portal).await
    }

    /// As [`Environment::start`], with tenants of these ids (benchmarks over many tenants).
    pub async fn start_named(
        ids: &[&str],
        users: usize,
        seed: u64,
        tune: impl Fn(&mut EmulatorConfig),
    ) -> anyhow::Result<Self> {
        Self::start_tenants(ids, users, seed, tune, None).await
    }

    async fn start_tenants(
        ids: &[&str],
        users: usize,
        seed: u64,
        tune: impl Fn(&mut EmulatorConfig),
        portal: Option<&str>,
    ) -> anyhow::Result<Self> {
        let portal = portal.map(|p| p.trim_end_matches('/').to_owned());
        let mut tenants = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut config = EmulatorConfig::new(id);
            config.users = users;
            config.seed = seed;
            if let Some(base) = &portal {
                config.clients.push(
                    ClientConfig {
                        client_id: ACCOUNT_CLIENT.to_owned(),
                        client_secret: String::new(),
                        scopes: Vec::new(),
                        ..ClientConfig::default()
                    }
                    .public()
                    .with_callback(format!("{base}/account/callback"))
                    .with_logout_url(format!("{base}/account/signed-out")),
                );
            }
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
        if let Some(base) = &portal {
            config.clients.push(
                ClientConfig {
                    client_id: PORTAL_CLIENT.to_owned(),
                    client_secret: PORTAL_SECRET.to_owned(),
                    scopes: Vec::new(),
                    ..ClientConfig::default()
                }
                .with_callback(format!("{base}/admin/callback"))
                .with_logout_url(format!("{base}/admin/signed-out")),
            );
        }
        let operators = Emulator::start(config)
            .await
            .context("starting the operator issuer")?;
        Ok(Self {
            tenants,
            operators,
            http: crate::http_client()?,
            portal,
        })
    }

    /// `config` with the portal on, at the address given to [`Environment::start_for`]:
    /// operators sign in at the operator issuer, end users at their tenant.
    pub fn with_portal(&self, config: &mut Config) {
        let Some(base) = &self.portal else { return };
        config.portal = Some(PortalConfig {
            public_url: base.clone(),
            client_id: PORTAL_CLIENT.to_owned(),
            client_secret_env: None,
            client_secret: Some(secrecy::SecretString::from(PORTAL_SECRET.to_owned())),
            discovery_url: Some(format!(
                "{}/.well-known/openid-configuration",
                self.operators.base_url()
            )),
            cookie_key_env: None,
            cookie_key: None,
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
        });
        for tenant in &mut config.tenants {
            tenant.login_client_id = Some(ACCOUNT_CLIENT.to_owned());
        }
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
                organization_claim: ORGANIZATION_CLAIM.to_owned(),
                leeway: Duration::from_secs(30),
                jwks_min_refresh: Duration::from_secs(1),
                jwks_max_age: Duration::from_secs(3600),
            },
            cache: CacheConfig::default(),
            log: LogConfig::default(),
            limits: LimitsConfig::default(),
            audit: AuditConfig::default(),
            redis: None,
            self_service: self_service(),
            portal: None,
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

    /// An operator persona: a user of the operator issuer with a password of its own (made at
    /// random) and a button on its login page, "Sign in as {label}"; its token.
    async fn operator_persona(
        &self,
        label: &str,
        name: &str,
        permissions: &[&str],
        tenants: Value,
        organization: Option<&str>,
    ) -> anyhow::Result<(SignIn, String)> {
        let email = format!("{}@operators.test", label.replace('_', "."));
        let password = format!("Demo-{}-1", random_word());
        let mut operator = ExtraUser::new(&email, &password);
        operator.name = Some(name.to_owned());
        operator.email_verified = true;
        operator.permissions = permissions.iter().map(|p| (*p).to_owned()).collect();
        operator.org_id = organization.map(str::to_owned);
        operator.claims.insert(TENANTS_CLAIM.to_owned(), tenants);
        let control = self.operators.control();
        control
            .add_user(operator)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        control
            .add_persona(Persona::new(label, &email))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let token = self.sign_in(&self.operators, &email, &password).await?;
        let sign_in = SignIn {
            persona: label.to_owned(),
            issuer: OPERATORS.to_owned(),
            email,
            password,
        };
        Ok((sign_in, token))
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
        let (id, _, token) = self.end_user_with_email(tenant).await?;
        Ok((id, token))
    }

    /// As [`Environment::end_user`], with the user's email.
    async fn end_user_with_email(&self, tenant: &str) -> anyhow::Result<(String, String, String)> {
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
                return Ok((user.user_id.clone(), email.clone(), token));
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
        Ok(self.personas_and_sign_ins().await?.0)
    }

    /// The five demo personas' tokens, and how each signs in on a login page: the four
    /// operators at the operator issuer (with their passwords), the end user (`user`) at
    /// every tenant (a verified user of each; the token is acme-eu's).
    pub async fn personas_and_sign_ins(&self) -> anyhow::Result<(Tokens, Vec<SignIn>)> {
        let all = ALL_PERMISSIONS;
        let no_gdpr: Vec<&str> = all
            .iter()
            .copied()
            .filter(|p| *p != "manage:gdpr")
            .collect();
        let organization = self.demo_organization()?;
        let (global, global_admin) = self
            .operator_persona("global_admin", "Global Admin", &all, json!("*"), None)
            .await?;
        let (tenant, tenant_admin) = self
            .operator_persona(
                "tenant_admin",
                "Tenant Admin",
                &no_gdpr,
                json!(["acme-eu"]),
                None,
            )
            .await?;
        let (org, org_admin) = self
            .operator_persona(
                "org_admin",
                "Org Admin",
                &["read:users", "update:users", "block:users", "read:logs"],
                json!(["acme-us"]),
                Some(&organization),
            )
            .await?;
        let (audit, auditor) = self
            .operator_persona(
                "auditor",
                "Auditor",
                &["read:users", "read:logs", "read:stats", "read:audit"],
                json!("*"),
                None,
            )
            .await?;
        let mut sign_ins = vec![global, tenant, org, audit];
        let mut user = String::new();
        for handle in &self.tenants {
            let (_, email, token) = self.end_user_with_email(handle.tenant()).await?;
            handle
                .control()
                .add_persona(Persona::new("user", &email))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if handle.tenant() == "acme-eu" {
                user = token;
            }
            sign_ins.push(SignIn {
                persona: "user".to_owned(),
                issuer: handle.tenant().to_owned(),
                email,
                password: tenant_emulator::DEFAULT_PASSWORD.to_owned(),
            });
        }
        let tokens = Tokens {
            global_admin,
            tenant_admin,
            org_admin,
            auditor,
            user,
        };
        Ok((tokens, sign_ins))
    }
}

/// Ten random letters and digits.
fn random_word() -> String {
    use rand::Rng;
    use rand::distributions::Alphanumeric;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(10)
        .map(char::from)
        .collect()
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
    // Bound first: the issuers must know the portal's address before they start.
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let address = listener.local_addr()?;
    let base = format!("http://{address}");
    let environment =
        Environment::start_for(options.users, options.seed, |_| {}, Some(&base)).await?;
    let (tokens, sign_ins) = environment.personas_and_sign_ins().await?;
    let mut config = environment.gateway_config(address);
    config.server.cors_origins = options.cors_origins.clone();
    environment.with_portal(&mut config);
    let app = crate::Application::build_on(config, listener, Some(&tokens.global_admin)).await?;
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
            "admin": format!("{base}/admin/"),
            "account": format!("{base}/account/"),
            "sign_ins": sign_ins,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&file)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    print_banner(&environment, &tokens, &graphql);
    print_portal(&base, &sign_ins);
    app.run_until_stopped(crate::shutdown_signal()).await?;
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_portal(base: &str, sign_ins: &[SignIn]) {
    println!("Admin portal:      {base}/admin/");
    println!("Self-service page: {base}/account/");
    println!("(open them as {base}, not another name for this machine: sign-in returns there)");
    println!();
    println!("Sign in on the login pages with a persona's button, or with these passwords:");
    for sign_in in sign_ins {
        println!(
            "  {:<13} at {:<9} {}  password {}",
            sign_in.persona, sign_in.issuer, sign_in.email, sign_in.password
        );
    }
    println!();
    println!("Press Ctrl-C to stop.");
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
            "every permission but manage:gdpr (read:audit included), acme-eu",
            &tokens.tenant_admin,
        ),
        (
            "org_admin",
            "read/update/block users, read logs; one acme-us organization",
            &tokens.org_admin,
        ),
        (
            "auditor",
            "read users, logs, stats and the audit trail; every tenant",
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
}
