//! Auth0 tenants: the Management API client of each, and the registry of all of them.
//!
//! - [`http`]: one call done properly (token, budget, deadline, retries, breaker, metrics).
//! - [`client`]: the endpoints as typed methods.
//! - [`writes`]: the endpoints written through.
//! - [`model`]: the Auth0 shapes read; [`profile`]: the profile, packed for the cache.
//! - [`token`], [`limiter`], [`breaker`]: the policies [`http`] applies.

pub mod breaker;
pub mod client;
pub mod error;
pub mod http;
pub mod limiter;
pub mod model;
pub mod profile;
pub mod token;
pub mod writes;

use std::collections::HashMap;
use std::sync::Arc;

pub use breaker::Health;
pub use client::TenantClient;
pub use error::UpstreamError;

use crate::config::TenantConfig;
use crate::metrics::Metrics;

/// Every configured tenant, in configuration order, found by id.
#[derive(Debug)]
pub struct Tenants {
    list: Vec<Arc<TenantClient>>,
    by_id: HashMap<Arc<str>, Arc<TenantClient>>,
}

impl Tenants {
    pub fn new(
        configs: &[TenantConfig],
        http: &reqwest::Client,
        metrics: &Metrics,
        shared: Option<&Arc<crate::shared::Shared>>,
    ) -> Self {
        let mut list = Vec::with_capacity(configs.len());
        let mut by_id = HashMap::new();
        for config in configs {
            let client = Arc::new(TenantClient::new(
                config,
                http.clone(),
                metrics.clone(),
                shared.cloned(),
            ));
            by_id.insert(client.id.clone(), client.clone());
            list.push(client);
        }
        Self { list, by_id }
    }

    pub fn all(&self) -> &[Arc<TenantClient>] {
        &self.list
    }

    pub fn get(&self, id: &str) -> Option<&Arc<TenantClient>> {
        self.by_id.get(id)
    }
}
