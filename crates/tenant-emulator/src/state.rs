//! The shared state of one emulated tenant, handed to every handler.

use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::http::{HeaderMap, header};

use crate::api_caller::TokenCache;
use crate::clock::Clock;
use crate::config::{ClientConfig, Persona};
use crate::faults::FaultState;
use crate::keys::KeyRing;
use crate::login_state::LoginState;
use crate::ratelimit::{KeyedRateLimiter, RateLimiter};
use crate::stats::RequestStats;
use crate::store::Store;

/// What never changes after start.
#[derive(Debug)]
pub struct Tenant {
    pub name: String,
    pub domain: String,
    /// `https://{domain}/`
    pub issuer: String,
    /// `https://{domain}/api/v2/`
    pub management_audience: String,
    /// The custom domain and its issuer, `https://{custom domain}/`.
    pub custom: Option<CustomDomain>,
    pub clients: Vec<ClientConfig>,
    pub token_ttl: Duration,
    pub seed: u64,
}

/// A domain of the tenant's own besides its canonical one.
#[derive(Debug)]
pub struct CustomDomain {
    pub domain: String,
    pub issuer: String,
}

impl Tenant {
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The issuer of the domain a request came through: Auth0 issues tokens for the domain they
    /// were requested on, and accepts them only on that domain. A `Host` that is not the custom
    /// domain is taken as the canonical domain (the emulator is reached by its address).
    pub fn issuer_for(&self, headers: &HeaderMap) -> &str {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(host_name)
            .unwrap_or_default();
        match &self.custom {
            Some(custom) if custom.domain.eq_ignore_ascii_case(host) => &custom.issuer,
            _ => &self.issuer,
        }
    }
}

/// `login.acme.test:8443` → `login.acme.test`; `[::1]:80` → `[::1]`.
fn host_name(host: &str) -> &str {
    match host.find(']') {
        Some(end) => &host[..=end],
        None => host.split(':').next().unwrap_or(host),
    }
}

pub struct AppState {
    pub tenant: Tenant,
    pub clock: Clock,
    store: RwLock<Store>,
    keys: RwLock<KeyRing>,
    pub limiter: RateLimiter,
    /// Password-reset requests per (lower-cased email, IP), apart from the Management API's.
    pub change_password_limiter: KeyedRateLimiter<(String, IpAddr)>,
    pub faults: FaultState,
    pub stats: RequestStats,
    pub tokens: TokenCache,
    /// Login transactions, authorization codes, login sessions and personas.
    pub login: LoginState,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(
        tenant: Tenant,
        clock: Clock,
        store: Store,
        keys: KeyRing,
        limiter: RateLimiter,
        change_password_limiter: KeyedRateLimiter<(String, IpAddr)>,
        personas: Vec<Persona>,
    ) -> Self {
        Self {
            tenant,
            clock,
            store: RwLock::new(store),
            keys: RwLock::new(keys),
            limiter,
            change_password_limiter,
            faults: FaultState::default(),
            stats: RequestStats::default(),
            tokens: TokenCache::default(),
            login: LoginState::new(personas),
        }
    }

    // A panic while a lock is held cannot leave the store half-written in a way later requests
    // care about more than a 500 would, so poisoning is ignored rather than spread.

    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn keys(&self) -> RwLockReadGuard<'_, KeyRing> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn keys_mut(&self) -> RwLockWriteGuard<'_, KeyRing> {
        self.keys.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn the_host_name_drops_the_port() {
        assert_eq!(host_name("login.acme.test:8443"), "login.acme.test");
        assert_eq!(host_name("login.acme.test"), "login.acme.test");
        assert_eq!(host_name("[::1]:80"), "[::1]");
    }
}
