//! The shared state of one emulated tenant, handed to every handler.

use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use crate::clock::Clock;
use crate::config::ClientConfig;
use crate::faults::FaultState;
use crate::keys::KeyRing;
use crate::mgmt::auth::TokenCache;
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
    pub clients: Vec<ClientConfig>,
    pub token_ttl: Duration,
    pub seed: u64,
}

impl Tenant {
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.client_id == client_id)
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
