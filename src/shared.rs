//! The connection to Redis (optional `[redis]`), through which several replicas behave as one.
//! What goes through it belongs to its owners: the shared profile cache and the invalidation
//! broadcast to the store (`store::l2`, `store::invalidation`), each tenant's shared rate budget
//! to the tenant client (`tenant::shared_budget`).
//!
//! Redis failing never fails a request: every operation gives up after `redis.timeout`, is
//! counted in `tenantgraph_redis_errors_total`, logged (at most every few seconds), and the
//! caller carries on with its own cache and budget. The connection is re-established in the
//! background.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rand::Rng;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use tokio::time::Instant;

use crate::config::RedisConfig;
use crate::metrics::{Metrics, RedisLabels};

/// Log a Redis failure at most this often (a dead Redis must not flood the logs).
const WARN_EVERY: Duration = Duration::from_secs(10);

pub(crate) struct Shared {
    config: RedisConfig,
    client: redis::Client,
    connection: RwLock<Option<ConnectionManager>>,
    /// This replica's id, so it can tell its own broadcasts from the others'.
    replica: Arc<str>,
    metrics: Metrics,
    last_warning: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Connects in the background: a Redis down at start-up does not stop the gateway.
    pub(crate) fn start(config: RedisConfig, metrics: Metrics) -> anyhow::Result<Arc<Self>> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| anyhow::anyhow!("redis.url is not usable: {e}"))?;
        let shared = Arc::new(Self {
            config,
            client,
            connection: RwLock::new(None),
            replica: Arc::from(format!("{:016x}", rand::thread_rng().r#gen::<u64>())),
            metrics,
            last_warning: Mutex::new(None),
        });
        tokio::spawn(connect(Arc::downgrade(&shared)));
        Ok(shared)
    }

    pub(crate) fn config(&self) -> &RedisConfig {
        &self.config
    }

    pub(crate) fn replica(&self) -> &str {
        &self.replica
    }

    fn connection(&self) -> Option<ConnectionManager> {
        self.connection.read().ok()?.clone()
    }

    /// `{prefix}part:part…`: every key and channel carries the deployment's prefix.
    pub(crate) fn key(&self, parts: &[&str]) -> String {
        let mut key = self.config.key_prefix.clone();
        key.push_str(&parts.join(":"));
        key
    }

    /// Runs one Redis operation within `redis.timeout`; `None` when Redis is not connected,
    /// failed or was too slow (counted and logged, never an error for the caller).
    pub(crate) async fn run<T, F>(
        &self,
        operation: &'static str,
        call: impl FnOnce(ConnectionManager) -> F,
    ) -> Option<T>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        let Some(connection) = self.connection() else {
            self.failed(operation, "not connected");
            return None;
        };
        match tokio::time::timeout(self.config.timeout, call(connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.failed(operation, &error.to_string());
                None
            }
            Err(_) => {
                self.failed(operation, "timed out");
                None
            }
        }
    }

    /// A subscription to `channel`, within a few timeouts.
    pub(crate) async fn subscribe(&self, channel: &str) -> Result<PubSub, String> {
        let subscribed = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(self.config.timeout * 4, subscribed).await {
            Ok(Ok(pubsub)) => {
                self.metrics.redis_connected.set(1);
                Ok(pubsub)
            }
            Ok(Err(error)) => Err(self.lost("subscribe", &error.to_string())),
            Err(_) => Err(self.lost("subscribe", "timed out")),
        }
    }

    /// The subscription (or the attempt to make one) ended.
    pub(crate) fn lost(&self, operation: &'static str, reason: &str) -> String {
        self.metrics.redis_connected.set(0);
        self.failed(operation, reason);
        reason.to_owned()
    }

    fn failed(&self, operation: &'static str, reason: &str) {
        self.metrics
            .redis_errors
            .get_or_create(&RedisLabels { operation })
            .inc();
        let now = Instant::now();
        let Ok(mut last) = self.last_warning.lock() else {
            return;
        };
        if last.is_none_or(|at| now.duration_since(at) >= WARN_EVERY) {
            *last = Some(now);
            tracing::warn!(
                operation,
                reason,
                "redis unavailable; carrying on with this replica's own cache and budget"
            );
        }
    }
}

/// Establishes the connection manager, retrying with back-off until it exists; from then on it
/// reconnects by itself.
async fn connect(shared: std::sync::Weak<Shared>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(strong.config.timeout * 4))
            .set_response_timeout(Some(strong.config.timeout))
            .set_number_of_retries(2);
        match strong
            .client
            .get_connection_manager_with_config(config)
            .await
        {
            Ok(manager) => {
                if let Ok(mut connection) = strong.connection.write() {
                    *connection = Some(manager);
                }
                tracing::info!("connected to redis");
                return;
            }
            Err(error) => strong.failed("connect", &error.to_string()),
        }
        drop(strong);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
