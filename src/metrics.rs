//! Prometheus metrics: one registry, the metric families of DESIGN.md "Observability", and the
//! text exposition served at `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub tenant: Arc<str>,
    pub endpoint: &'static str,
    /// The HTTP status, or `timeout` / `error` when no answer came.
    pub status: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamDurationLabels {
    pub tenant: Arc<str>,
    pub endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub cache: &'static str,
    /// `hit` or `miss`.
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GraphqlLabels {
    /// The operation name, or `anonymous`.
    pub operation: String,
    /// `ok`, `error` (every field failed or the request was refused) or `partial`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabels {
    pub tenant: Arc<str>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s: cache hits at the low end, slow tenants at the top.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every metric tenantgraph exports. Cheap to clone: families share their storage.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub upstream_requests: Family<UpstreamLabels, Counter>,
    pub upstream_duration: Family<UpstreamDurationLabels, Histogram, fn() -> Histogram>,
    pub cache_requests: Family<CacheLabels, Counter>,
    pub graphql_requests: Family<GraphqlLabels, Counter>,
    pub graphql_duration: Histogram,
    pub loader_batch_size: Histogram,
    /// 0 = UP, 1 = DEGRADED, 2 = DOWN.
    pub tenant_status: Family<TenantLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tenantgraph");
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "upstream_requests",
            "Calls to tenants' Auth0 APIs, by tenant, endpoint and status",
            upstream_requests.clone(),
        );
        let upstream_duration =
            Family::<UpstreamDurationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "upstream_request_duration_seconds",
            "Duration of calls to tenants' Auth0 APIs",
            upstream_duration.clone(),
        );
        let cache_requests = Family::<CacheLabels, Counter>::default();
        registry.register(
            "cache_requests",
            "Lookups in the shared caches, by cache and hit or miss",
            cache_requests.clone(),
        );
        let graphql_requests = Family::<GraphqlLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations, by operation name and outcome",
            graphql_requests.clone(),
        );
        let graphql_duration = latency_histogram();
        registry.register(
            "graphql_request_duration_seconds",
            "Duration of GraphQL operations",
            graphql_duration.clone(),
        );
        let loader_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 8));
        registry.register(
            "loader_batch_size",
            "Keys per upstream batch made by the loaders",
            loader_batch_size.clone(),
        );
        let tenant_status = Family::<TenantLabels, Gauge>::default();
        registry.register(
            "tenant_status",
            "Last known health of each tenant: 0 up, 1 degraded, 2 down",
            tenant_status.clone(),
        );
        Self {
            registry: Arc::new(registry),
            upstream_requests,
            upstream_duration,
            cache_requests,
            graphql_requests,
            graphql_duration,
            loader_batch_size,
            tenant_status,
        }
    }

    pub fn cache_lookup(&self, cache: &'static str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache_requests
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    pub fn upstream_call(
        &self,
        tenant: &Arc<str>,
        endpoint: &'static str,
        status: Arc<str>,
        elapsed: Duration,
    ) {
        self.upstream_requests
            .get_or_create(&UpstreamLabels {
                tenant: tenant.clone(),
                endpoint,
                status,
            })
            .inc();
        self.upstream_duration
            .get_or_create(&UpstreamDurationLabels {
                tenant: tenant.clone(),
                endpoint,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
