//! The admin portal (`/admin/`) and the self-service page (`/account/`): server-rendered pages
//! over the same GraphQL schema, run as the signed-in person through [`Gateway::execute`] with
//! the session's access token, so nothing here reaches data but the resolvers and the caller's
//! scope. What a page offers follows the caller's permissions (`viewer`); the server refuses the
//! rest anyway.
//!
//! - `signin`: OpenID Connect sign-in and sign-out for both halves (`oidc`: the relying party;
//!   `session`: encrypted cookies, timeouts, CSRF tokens).
//! - `gql`: running a document as the session's caller; errors in words.
//! - `page`: the layout, security headers, shared pieces; `assets`: the one style sheet and
//!   script, served from the binary; `chart`: SVG charts drawn on the server.
//! - `admin`: the operators' pages. `account`: the end users' page.
//!
//! Every page is served with a strict Content-Security-Policy (scripts and styles from this
//! origin only, nothing inline, `frame-ancestors 'none'`); the browser fetches nothing from
//! anywhere else, profile pictures included (initials are shown instead).

// Handlers answer `Result<Response, Response>` (the error is the page to show instead), as
// axum's extractors do: a response is large, and that is fine here.
#![allow(clippy::result_large_err)]

mod account;
mod admin;
mod assets;
mod chart;
mod gql;
mod oidc;
mod page;
mod session;
mod signin;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::{get, post};
use secrecy::ExposeSecret;

use crate::config::{Config, PortalConfig, SelfServiceConfig};
use crate::server::Gateway;
use oidc::{Provider, ProviderConfig};
use session::Cookies;

/// A tenant whose end users sign in to `/account/`.
#[derive(Debug)]
pub(crate) struct AccountTenant {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) provider: Provider,
}

/// What the portal's handlers share.
pub(crate) struct Portal {
    gateway: Gateway,
    cookies: Cookies,
    /// `portal.public_url` without its trailing slash.
    base: String,
    /// `scheme://host[:port]` of `base`: what a same-site POST's `Origin` says.
    origin: String,
    operators: Provider,
    tenants: Vec<AccountTenant>,
    self_service: SelfServiceConfig,
    /// Sessions signed out (by id) until they would have ended anyway.
    signed_out: moka::future::Cache<String, ()>,
    /// The Content-Security-Policy of every page.
    csp: HeaderValue,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    url.split('/').take(3).collect::<Vec<_>>().join("/")
}

impl Portal {
    /// The portal of `config.portal` (which must be set), over `gateway`.
    pub(crate) fn new(
        config: &Config,
        portal: &PortalConfig,
        gateway: Gateway,
        http: &reqwest::Client,
    ) -> anyhow::Result<Self> {
        let base = portal.base().to_owned();
        let key = session::key(portal.cookie_key.as_ref().map(ExposeSecret::expose_secret))?;
        let cookies = Cookies::new(
            key,
            base.starts_with("https://"),
            portal.session_idle,
            portal.session_absolute,
        );
        let operator_issuer = config
            .auth
            .operator_issuer
            .clone()
            .ok_or_else(|| anyhow::anyhow!("portal: auth.operator_issuer is not set"))?;
        let jwks_refresh = (config.auth.jwks_min_refresh, config.auth.jwks_max_age);
        let discovery_url = portal.discovery_url.clone().unwrap_or_else(|| {
            format!(
                "{}/.well-known/openid-configuration",
                operator_issuer.trim_end_matches('/')
            )
        });
        let mut form_origins = vec![origin_of(&discovery_url)];
        let operators = Provider::new(
            ProviderConfig {
                issuers: vec![operator_issuer],
                discovery_url,
                client_id: portal.client_id.clone(),
                client_secret: portal.client_secret.clone(),
                redirect_uri: format!("{base}/admin/callback"),
                audience: config.auth.audience.clone(),
                leeway: config.auth.leeway,
                jwks_refresh,
            },
            http.clone(),
        );
        let mut tenants = Vec::new();
        for tenant in &config.tenants {
            let Some(client_id) = &tenant.login_client_id else {
                continue;
            };
            let login_base = tenant.authentication_base_url();
            form_origins.push(origin_of(&login_base));
            tenants.push(AccountTenant {
                id: tenant.id.clone(),
                name: tenant.name.clone(),
                provider: Provider::new(
                    ProviderConfig {
                        issuers: tenant.issuers(),
                        discovery_url: format!("{login_base}/.well-known/openid-configuration"),
                        client_id: client_id.clone(),
                        client_secret: tenant.login_client_secret.clone(),
                        redirect_uri: format!("{base}/account/callback"),
                        audience: config.auth.audience.clone(),
                        leeway: config.auth.leeway,
                        jwks_refresh,
                    },
                    http.clone(),
                ),
            });
        }
        form_origins.sort();
        form_origins.dedup();
        // Signing out is a form whose answer redirects to the issuer: `form-action` must
        // allow the issuers' origins, and only them.
        let csp = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'",
            form_origins.join(" ")
        );
        Ok(Self {
            gateway,
            cookies,
            origin: origin_of(&base),
            base,
            operators,
            tenants,
            self_service: config.self_service.clone(),
            signed_out: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(portal.session_absolute.max(Duration::from_secs(1)))
                .build(),
            csp: HeaderValue::from_str(&csp)?,
        })
    }

    fn account_tenant(&self, id: &str) -> Option<&AccountTenant> {
        self.tenants.iter().find(|t| t.id == id)
    }
}

/// The portal's routes, on the gateway's address.
pub(crate) fn router(portal: Arc<Portal>) -> Router {
    Router::new()
        .route("/assets/{file}", get(assets::serve))
        .route("/admin", get(admin::root))
        .route("/admin/", get(admin::home))
        .route("/admin/login", get(signin::admin_login))
        .route("/admin/callback", get(signin::admin_callback))
        .route("/admin/logout", post(signin::admin_logout))
        .route("/admin/signed-out", get(signin::admin_signed_out))
        .route("/admin/tenants", get(admin::tenants::page))
        .route("/admin/users", get(admin::users::page))
        .route(
            "/admin/users/new",
            get(admin::create::page).post(admin::create::submit),
        )
        .route("/admin/person", get(admin::person::page))
        .route("/admin/user/{tenant}/{id}", get(admin::user::page))
        .route("/admin/user/{tenant}/{id}/{action}", post(admin::user::act))
        .route("/admin/dashboard", get(admin::dashboard::page))
        .route("/admin/gdpr", get(admin::gdpr::page))
        .route("/admin/gdpr/export", post(admin::gdpr::export))
        .route("/admin/gdpr/erase", post(admin::gdpr::erase))
        .route("/admin/audit", get(admin::audit::page))
        .route("/account", get(account::root))
        .route("/account/", get(account::home))
        .route("/account/login", get(signin::account_login))
        .route("/account/callback", get(signin::account_callback))
        .route("/account/logout", post(signin::account_logout))
        .route("/account/signed-out", get(signin::account_signed_out))
        .route("/account/{action}", post(account::act))
        .with_state(portal.clone())
        .layer(axum::middleware::from_fn_with_state(
            portal,
            page::security_headers,
        ))
}
