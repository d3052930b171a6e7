//! Prometheus metrics: one registry, the metric families tenantgraph exports, and the
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
pub(crate) struct UpstreamLabels {
    pub(crate) tenant: Arc<str>,
    pub(crate) endpoint: &'static str,
    /// The HTTP status, or `timeout` / `error` when no answer came.
    pub(crate) status: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct UpstreamDurationLabels {
    pub(crate) tenant: Arc<str>,
    pub(crate) endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CacheLabels {
    pub(crate) cache: &'static str,
    /// `hit` or `miss`.
    pub(crate) result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct GraphqlLabels {
    /// The operation name, or `anonymous`.
    pub(crate) operation: Arc<str>,
    /// `ok`, `error` (every field failed or the request was refused) or `partial`.
    pub(crate) outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RedisLabels {
    pub(crate) operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TenantLabels {
    pub(crate) tenant: Arc<str>,
}

/// What an operation's answer came to, as metrics and traces say it: `ok` (no error), `partial`
/// (errors beside data) or `error` (no data).
pub(crate) fn outcome(has_errors: bool, has_data: bool) -> &'static str {
    match (has_errors, has_data) {
        (false, _) => "ok",
        (true, false) => "error",
        (true, true) => "partial",
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s: cache hits at the low end, slow tenants at the top.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every metric tenantgraph exports: a handle, cheap to clone.
#[derive(Clone)]
pub(crate) struct Metrics(Arc<Families>);

impl std::ops::Deref for Metrics {
    type Target = Families;

    fn deref(&self) -> &Families {
        &self.0
    }
}

pub(crate) struct Families {
    registry: Registry,
    pub(crate) upstream_requests: Family<UpstreamLabels, Counter>,
    pub(crate) upstream_duration: Family<UpstreamDurationLabels, Histogram, fn() -> Histogram>,
    pub(crate) cache_requests: Family<CacheLabels, Counter>,
    pub(crate) graphql_requests: Family<GraphqlLabels, Counter>,
    pub(crate) graphql_duration: Histogram,
    /// Operations answered by a compiled plan (`graphql::plan`), without per-field resolution.
    pub(crate) graphql_planned: Counter,
    pub(crate) loader_batch_size: Histogram,
    /// 0 = UP, 1 = DEGRADED, 2 = DOWN.
    pub(crate) tenant_status: Family<TenantLabels, Gauge>,
    /// 1 while a tenant refuses the gateway's credentials (it is then DOWN).
    pub(crate) tenant_credentials_refused: Family<TenantLabels, Gauge>,
    /// Redis operations that failed or timed out, by operation.
    pub(crate) redis_errors: Family<RedisLabels, Counter>,
    /// 1 while the Redis connection (and its invalidation subscription) is up.
    pub(crate) redis_connected: Gauge,
    /// Audit events that could not be appended to the audit file.
    pub(crate) audit_failures: Counter,
    /// Operation names seen so far: labels are bounded, so callers cannot inflate the metrics
    /// with endless names.
    operations: std::sync::Mutex<std::collections::HashSet<Arc<str>>>,
    anonymous: Arc<str>,
    other: Arc<str>,
}

/// Distinct operation names kept as labels; later ones count as `other`.
const MAX_OPERATION_LABELS: usize = 200;

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
    pub(crate) fn new() -> Self {
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
        let graphql_planned = Counter::default();
        registry.register(
            "graphql_planned",
            "GraphQL operations answered by the compiled plan of their document",
            graphql_planned.clone(),
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
        let tenant_credentials_refused = Family::<TenantLabels, Gauge>::default();
        registry.register(
            "tenant_credentials_refused",
            "1 while a tenant refuses tenantgraph's client credentials (the tenant is then down)",
            tenant_credentials_refused.clone(),
        );
        let redis_errors = Family::<RedisLabels, Counter>::default();
        registry.register(
            "redis_errors",
            "Redis operations that failed or timed out (requests carried on without Redis)",
            redis_errors.clone(),
        );
        let redis_connected = Gauge::default();
        registry.register(
            "redis_connected",
            "1 while the Redis connection and the invalidation subscription are up",
            redis_connected.clone(),
        );
        let audit_failures = Counter::default();
        registry.register(
            "audit_failures",
            "Audit events that could not be appended to the audit file (the write itself went through)",
            audit_failures.clone(),
        );
        Self(Arc::new(Families {
            registry,
            redis_errors,
            redis_connected,
            audit_failures,
            upstream_requests,
            upstream_duration,
            cache_requests,
            graphql_requests,
            graphql_duration,
            graphql_planned,
            loader_batch_size,
            tenant_status,
            tenant_credentials_refused,
            operations: Default::default(),
            anonymous: Arc::from("anonymous"),
            other: Arc::from("other"),
        }))
    }

    /// Counts `hits` and `misses` of one cache at once.
    pub(crate) fn cache_lookups(&self, cache: &'static str, hits: usize, misses: usize) {
        self.cache_requests
            .get_or_create(&CacheLabels {
                cache,
                result: "hit",
            })
            .inc_by(hits as u64);
        self.cache_requests
            .get_or_create(&CacheLabels {
                cache,
                result: "miss",
            })
            .inc_by(misses as u64);
    }

    pub(crate) fn cache_lookup(&self, cache: &'static str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache_requests
            .get_or_create(&CacheLabels { cache, result })
            .inc();
    }

    pub(crate) fn upstream_call(
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

    /// The label for an operation: its name (the requested one, else the first named operation
    /// of the document), `anonymous`, or `other` past the bound of distinct names.
    pub(crate) fn operation_label(&self, requested: Option<&str>, document: &str) -> Arc<str> {
        let Some(name) = requested.or_else(|| first_operation_name(document)) else {
            return self.anonymous.clone();
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return self.other.clone();
        }
        let Ok(mut seen) = self.operations.lock() else {
            return self.other.clone();
        };
        if let Some(known) = seen.get(name) {
            return known.clone();
        }
        if seen.len() >= MAX_OPERATION_LABELS {
            return self.other.clone();
        }
        let label: Arc<str> = Arc::from(name);
        seen.insert(label.clone());
        label
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The name of the first `query`/`mutation`/`subscription Name` in a document, found by a
/// light scan (whitespace and comments skipped) rather than a second parse.
fn first_operation_name(document: &str) -> Option<&str> {
    let identifier_end = |text: &str| {
        text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len())
    };
    let mut rest = document;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, after)| after),
            None => break,
        }
    }
    let keyword = identifier_end(rest);
    if !matches!(&rest[..keyword], "query" | "mutation" | "subscription") {
        return None;
    }
    let after = rest[keyword..].trim_start();
    let name = identifier_end(after);
    (name > 0).then(|| &after[..name])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_names_or_bounded_fallbacks() {
        let metrics = Metrics::new();
        assert_eq!(
            &*metrics.operation_label(None, "query Page($r: [UserRef!]!) { users }"),
            "Page"
        );
        assert_eq!(
            &*metrics.operation_label(None, "# comment\n mutation Block { x }"),
            "Block"
        );
        assert_eq!(
            &*metrics.operation_label(None, "{ tenants { id } }"),
            "anonymous"
        );
        assert_eq!(
            &*metrics.operation_label(None, "query($x: ID) { a }"),
            "anonymous"
        );
        assert_eq!(&*metrics.operation_label(Some("Named"), "{ a }"), "Named");
        assert_eq!(
            &*metrics.operation_label(Some("bad name!"), "{ a }"),
            "other"
        );
        for i in 0..MAX_OPERATION_LABELS {
            metrics.operation_label(Some(&format!("Op{i}")), "");
        }
        assert_eq!(&*metrics.operation_label(Some("OneTooMany"), ""), "other");
        assert_eq!(&*metrics.operation_label(Some("Op3"), ""), "Op3");
    }
}
