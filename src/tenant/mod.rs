//! Auth0 tenants: the Management API client of each, and the registry of all of them.
//!
//! - `http`: one call done properly (token, budget, deadline, retries, breaker, credentials,
//!   metrics), and the Authentication API's own path.
//! - `client`: the endpoints read, as typed methods; `writes`: the endpoints written through.
//! - `model`: the Auth0 shapes read; `profile`: the profile, packed for the cache, its
//!   timestamps by `timestamp` and its metadata by `skeleton`.
//! - `token`, `budget` (with `shared_budget` through Redis), `breaker`: the policies `http`
//!   applies.
//! - `probe`: every tenant's credentials tried once at start-up; `placeholder`: credentials
//!   that are certainly template values.
//!
//! Only the store (`crate::store`) holds tenant clients: it is the one road to Auth0.

mod breaker;
mod budget;
pub(crate) mod client;
mod error;
mod http;
pub(crate) mod model;
mod placeholder;
pub(crate) mod probe;
mod profile;
mod shared_budget;
mod skeleton;
mod timestamp;
mod token;
mod writes;

use std::sync::Arc;

pub(crate) use breaker::Health;
pub(crate) use client::{MAX_PER_PAGE, TenantClient};
pub(crate) use error::UpstreamError;
pub(crate) use http::Status;
pub(crate) use profile::Profile;
pub(crate) use timestamp::Timestamp;

use crate::config::TenantConfig;
use crate::metrics::Metrics;

/// A client for every configured tenant, in configuration order.
pub(crate) fn clients(
    configs: &[TenantConfig],
    http: &reqwest::Client,
    metrics: &Metrics,
    shared: Option<&Arc<crate::shared::Shared>>,
) -> Vec<Arc<TenantClient>> {
    configs
        .iter()
        .map(|config| {
            Arc::new(TenantClient::new(
                config,
                http.clone(),
                metrics.clone(),
                shared.cloned(),
            ))
        })
        .collect()
}
