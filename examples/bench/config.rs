//! The gateway's configuration file, written for each gateway child: the emulated tenants, the
//! operator issuer, and the rate limits lifted.

use std::fmt::Write as _;

use anyhow::Context as _;

use tenantgraph::demo::{AUDIENCE, TENANTS_CLAIM};

use crate::roles::TenantsReady;

/// The emulators' default Management API client (see the tenant-emulator README).
const CLIENT_ID: &str = "tenantgraph";
pub const CLIENT_SECRET: &str = "tenantgraph-secret";
/// The variable through which the gateway child receives the client secret.
pub const SECRET_VARIABLE: &str = "TENANTGRAPH_BENCH_SECRET";

/// The per-caller request budget, lifted (a `[limits]` key of newer gateways).
const LIFTED_CALLER_RATE: &str = "caller_rate = { per_second = 1000000.0, burst = 1000000 }";

/// The complexity bound, raised so that the cost step's `users(refs:)` of 500 refs with W2's
/// selection (about 5,500) runs.
const RAISED_COMPLEXITY: &str = "complexity = 20000";

/// The gateway settings a run changes.
#[derive(Clone, Copy, Debug)]
pub struct GatewayTuning {
    pub cache: bool,
    pub max_profiles: Option<usize>,
    pub profile_ttl: Option<&'static str>,
}

impl GatewayTuning {
    /// The gateway's own settings, with its cache on or off.
    pub fn cache(cache: bool) -> Self {
        Self {
            cache,
            max_profiles: None,
            profile_ttl: None,
        }
    }
}

/// A TOML basic string: JSON's escapes for `"`, `\` and control characters are TOML's too.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The gateway's configuration file: the emulated tenants, the operator issuer, a `warn` log,
/// and no rate limit (the emulators have none; Auth0's 16/s would be the only thing measured).
/// The per-caller budget, where the gateway has one, is lifted too: every request of the
/// benchmark comes from one caller. The file is checked with the gateway's own `Config` first.
pub fn gateway_toml(tenants: &TenantsReady, tuning: GatewayTuning) -> anyhow::Result<String> {
    let secret = |_: &str| Some(CLIENT_SECRET.to_owned());
    let lifted = gateway_toml_with(tenants, tuning, LIFTED_CALLER_RATE);
    match tenantgraph::Config::from_toml(&lifted, secret) {
        Ok(_) => Ok(lifted),
        // A gateway without a per-caller budget refuses the key: leave it out.
        Err(error) if error.to_string().contains("caller_rate") => {
            let plain = gateway_toml_with(tenants, tuning, "");
            tenantgraph::Config::from_toml(&plain, secret)
                .context("the benchmark's gateway configuration is refused")?;
            Ok(plain)
        }
        Err(error) => Err(error).context("the benchmark's gateway configuration is refused"),
    }
}

fn gateway_toml_with(tenants: &TenantsReady, tuning: GatewayTuning, limits: &str) -> String {
    let mut toml = String::new();
    let _ = writeln!(
        toml,
        "[server]\nlisten = \"127.0.0.1:0\"\ngraphiql = false\n"
    );
    let _ = writeln!(
        toml,
        "[auth]\naudience = {}\noperator_issuer = {}\noperator_jwks_url = {}\ntenants_claim = {}\n",
        toml_string(AUDIENCE),
        toml_string(&tenants.operator_issuer),
        toml_string(&tenants.operator_jwks_url),
        toml_string(TENANTS_CLAIM),
    );
    let _ = writeln!(toml, "[cache]\nenabled = {}", tuning.cache);
    if let Some(max) = tuning.max_profiles {
        let _ = writeln!(toml, "max_profiles = {max}");
    }
    if let Some(ttl) = tuning.profile_ttl {
        let _ = writeln!(toml, "profile_ttl = {}", toml_string(ttl));
    }
    let _ = writeln!(toml, "\n[log]\nfilter = \"warn\"\n");
    if limits.is_empty() {
        let _ = writeln!(toml, "[limits]\n{RAISED_COMPLEXITY}\n");
    } else {
        let _ = writeln!(toml, "[limits]\n{limits}\n{RAISED_COMPLEXITY}\n");
    }
    for tenant in &tenants.tenants {
        let _ = writeln!(
            toml,
            "[[tenants]]\nid = {}\nname = {}\ndomain = {}\nbase_url = {}\nclient_id = {}\n\
             client_secret_env = {}\nrate_limit = {{ per_second = 1000000.0, burst = 1000000 }}\n",
            toml_string(&tenant.id),
            toml_string(&tenant.name),
            toml_string(&tenant.domain),
            toml_string(&tenant.base_url),
            toml_string(CLIENT_ID),
            toml_string(SECRET_VARIABLE),
        );
    }
    toml
}
