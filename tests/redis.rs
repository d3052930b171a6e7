//! Two gateway replicas sharing a real `redis-server` (started here on a free loopback port), in
//! front of emulated tenants: the shared profile cache, read-after-write across replicas, the
//! shared upstream budget, and carrying on (then reconnecting) when Redis dies or hangs.
//!
//! These tests need `redis-server` on the PATH: `.ci/run` installs it (`apt-get install
//! redis-server`). Without it they are counted as ignored, saying so loudly, unless
//! `TENANTGRAPH_CI=1` makes its absence a failure (`harness = false`: see
//! `test_kit::system_tests`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenantgraph::config::{Config, RedisConfig};
use tenantgraph::demo::Environment;
use test_kit::{RedisServer, RunningGateway, start_gateway};

struct Replica {
    gateway: RunningGateway,
}

async fn replica(env: &Environment, redis: &RedisServer, tune: impl Fn(&mut Config)) -> Replica {
    let mut config = env.gateway_config(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.redis = Some(RedisConfig {
        url: redis.url(),
        key_prefix: "tg-test:".into(),
        profile_ttl: Duration::from_secs(60),
        timeout: Duration::from_millis(200),
    });
    for tenant in &mut config.tenants {
        tenant.timeout = Duration::from_secs(3);
        tenant.rate_limit.per_second = 1000.0;
        tenant.rate_limit.burst = 1000;
    }
    tune(&mut config);
    Replica {
        gateway: start_gateway(config).await,
    }
}

impl Replica {
    async fn query(&self, token: &str, query: &str, variables: Value) -> Value {
        let client = reqwest::Client::new();
        test_kit::post(&client, &self.gateway.url(), Some(token), query, variables).await
    }

    async fn metrics(&self) -> String {
        self.gateway.metrics().await
    }

    /// Waits until this replica listens for the others' invalidations.
    async fn wait_connected(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if self
                .metrics()
                .await
                .contains("tenantgraph_redis_connected 1")
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the replica did not connect to redis");
    }
}

const READ: &str = "query($id: ID!) { user(tenant: \"acme-eu\", id: $id) { id name } }";

/// Two replicas sharing a fresh Redis in front of emulated tenants.
async fn setup(
    tune: impl Fn(&mut Config) + Copy,
) -> (Environment, RedisServer, String, Replica, Replica) {
    let redis = RedisServer::start();
    let env = Environment::start(60, 11, |c| c.search_lag = Duration::from_secs(30))
        .await
        .unwrap();
    let token = env
        .operator_token(
            "Replica Tester",
            &tenantgraph::demo::ALL_PERMISSIONS,
            json!("*"),
            None,
        )
        .await
        .unwrap();
    let a = replica(&env, &redis, tune).await;
    let b = replica(&env, &redis, tune).await;
    a.wait_connected().await;
    b.wait_connected().await;
    for tenant in &env.tenants {
        tenant.control().reset_stats();
    }
    (env, redis, token, a, b)
}

fn calls(env: &Environment, route: &str) -> u64 {
    env.tenants
        .iter()
        .map(|t| t.control().stats().routes.get(route).copied().unwrap_or(0))
        .sum()
}

fn user(env: &Environment, n: usize) -> String {
    env.tenants[0].control().users(100, 0).users[n]
        .user_id
        .clone()
}

pub async fn redis_shared_cache_serves_a_profile_read_by_another_replica() {
    let (env, redis, token, a, b) = setup(|_| {}).await;
    let id = user(&env, 1);
    let first = a.query(&token, READ, json!({"id": id})).await;
    assert_eq!(calls(&env, "GET /api/v2/users/{id}"), 1);
    let key = format!("tg-test:p:acme-eu:{id}");
    let started = Instant::now();
    while !redis.exists(&key) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the profile never reached redis"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = b.query(&token, READ, json!({"id": id})).await;
    assert_eq!(second["data"], first["data"]);
    assert_eq!(
        calls(&env, "GET /api/v2/users/{id}"),
        1,
        "the other replica read it from redis"
    );
    assert!(
        b.metrics().await.contains(
            "tenantgraph_cache_requests_total{cache=\"shared_profiles\",result=\"hit\"} 1"
        )
    );
}

pub async fn redis_a_write_through_one_replica_is_seen_by_the_other() {
    let (env, _redis, token, a, b) = setup(|_| {}).await;
    let id = user(&env, 2);
    let before = b.query(&token, READ, json!({"id": id})).await;
    let search = "query($q: String) { searchUsers(tenants: [\"acme-eu\"], query: $q) { edges { node { name } } } }";
    let query = format!("user_id:{}", search_query::quote(&id));
    b.query(&token, search, json!({"q": query})).await; // cached on B, and the index lags 30 s
    let mut worst = Duration::ZERO;
    let mut stale_reads = 0;
    for round in 0..20 {
        let name = format!("Renamed {round}");
        let answer = a
            .query(&token, "mutation($id: ID!, $n: String) { updateUser(tenant: \"acme-eu\", id: $id, input: {name: $n}) { name } }", json!({"id": id, "n": name}))
            .await;
        assert_eq!(
            answer["data"]["updateUser"]["name"],
            name.as_str(),
            "{answer}"
        );
        // The write has answered: how long until the other replica shows it?
        let answered = Instant::now();
        loop {
            let read = b.query(&token, READ, json!({"id": id})).await;
            if read["data"]["user"]["name"] == name.as_str() {
                break;
            }
            stale_reads += 1;
            assert!(
                answered.elapsed() < Duration::from_secs(1),
                "replica B still serves the old profile after 1 s"
            );
        }
        worst = worst.max(answered.elapsed());
    }
    assert_ne!(before["data"]["user"]["name"], "Renamed 19");
    let found = b.query(&token, search, json!({"q": query})).await;
    assert_eq!(
        found["data"]["searchUsers"]["edges"][0]["node"]["name"], "Renamed 19",
        "even through lagging search"
    );
    eprintln!(
        "cross-replica: {stale_reads} stale reads in 20 writes; worst time to a fresh read after the write answered {worst:?}"
    );
}

pub async fn redis_a_deleted_user_is_gone_from_every_replica() {
    let (env, _redis, token, a, b) = setup(|_| {}).await;
    let id = user(&env, 3);
    assert!(b.query(&token, READ, json!({"id": id})).await["data"]["user"].is_object());
    let deleted = a
        .query(
            &token,
            "mutation($id: ID!) { deleteUser(tenant: \"acme-eu\", id: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(deleted["data"]["deleteUser"], true);
    let started = Instant::now();
    while !b.query(&token, READ, json!({"id": id})).await["data"]["user"].is_null() {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "replica B still serves a deleted user"
        );
    }
    // A third replica starting now finds the tombstone, not an old copy.
    let c = replica(&env, &_redis, |_| {}).await;
    c.wait_connected().await;
    assert!(c.query(&token, READ, json!({"id": id})).await["data"]["user"].is_null());
}

pub async fn redis_shared_rate_budget_keeps_two_replicas_within_the_tenant_limit() {
    let (env, _redis, token, a, b) = setup(|config| {
        for tenant in &mut config.tenants {
            tenant.rate_limit.per_second = 10.0;
            tenant.rate_limit.burst = 5;
        }
    })
    .await;
    let ids: Vec<String> = env.tenants[0]
        .control()
        .users(60, 0)
        .users
        .into_iter()
        .map(|u| u.user_id)
        .collect();
    let started = Instant::now();
    let lookups = ids.iter().take(40).enumerate().map(|(i, id)| {
        let replica = if i % 2 == 0 { &a } else { &b };
        replica.query(&token, READ, json!({"id": id}))
    });
    let answers = futures::future::join_all(lookups).await;
    let elapsed = started.elapsed().as_secs_f64();
    let made = calls(&env, "GET /api/v2/users/{id}");
    let allowed = 5.0 + 10.0 * elapsed;
    eprintln!(
        "two replicas: {made} upstream calls in {elapsed:.2} s; one shared budget allows {allowed:.1}, two separate ones {:.1}",
        2.0 * allowed
    );
    assert!(
        made as f64 <= allowed + 1.0,
        "{made} calls in {elapsed:.2} s exceed the shared budget {allowed:.1}"
    );
    let served = answers
        .iter()
        .filter(|a| a["data"]["user"].is_object())
        .count();
    assert!(served >= 5, "{served}");
}

pub async fn redis_restarting_fails_no_request_and_replicas_reconnect() {
    let (env, mut redis, token, a, b) = setup(|_| {}).await;
    redis.stop();
    for n in 10..15 {
        let answer = a.query(&token, READ, json!({"id": user(&env, n)})).await;
        assert!(
            answer["data"]["user"].is_object(),
            "served without redis: {answer}"
        );
        assert!(answer.get("errors").is_none());
    }
    let updated = a
        .query(&token, "mutation($id: ID!) { updateUser(tenant: \"acme-eu\", id: $id, input: {nickname: \"offline\"}) { nickname } }", json!({"id": user(&env, 10)}))
        .await;
    assert_eq!(
        updated["data"]["updateUser"]["nickname"], "offline",
        "writes work without redis too"
    );
    assert!(a.metrics().await.contains("tenantgraph_redis_errors_total"));
    assert!(a.metrics().await.contains("tenantgraph_redis_connected 0"));

    redis.restart();
    a.wait_connected().await;
    b.wait_connected().await;
    // The first command on a broken connection fails and makes the manager reconnect.
    for (replica, n) in [(&a, 16), (&b, 17)] {
        assert!(
            replica
                .query(&token, READ, json!({"id": user(&env, n)}))
                .await["data"]["user"]
                .is_object()
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = user(&env, 20);
    a.query(&token, READ, json!({"id": id})).await;
    let key = format!("tg-test:p:acme-eu:{id}");
    let started = Instant::now();
    while !redis.exists(&key) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the shared cache works again"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = calls(&env, "GET /api/v2/users/{id}");
    assert!(b.query(&token, READ, json!({"id": id})).await["data"]["user"].is_object());
    assert_eq!(calls(&env, "GET /api/v2/users/{id}"), before);
}

pub async fn redis_that_hangs_slows_no_request_past_its_timeout() {
    let (env, redis, token, a, _b) = setup(|_| {}).await;
    redis.signal("-STOP");
    let started = Instant::now();
    let answer = a.query(&token, READ, json!({"id": user(&env, 30)})).await;
    let elapsed = started.elapsed();
    redis.signal("-CONT");
    assert!(answer["data"]["user"].is_object(), "{answer}");
    // Each Redis step gives up after 200 ms here; the request goes on without it.
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

pub async fn redis_audit_trail_written_through_one_replica_is_read_through_the_other() {
    let (env, _redis, token, a, b) = setup(|_| {}).await;
    let id = user(&env, 4);
    let blocked = a
        .query(
            &token,
            "mutation($id: ID!) { blockUser(tenant: \"acme-eu\", id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert!(blocked.get("errors").is_none(), "{blocked}");
    let events = b
        .query(
            &token,
            "query($id: String) { auditEvents(filter: {target: $id}) { nodes { action targetUser outcome } shared } }",
            json!({"id": id}),
        )
        .await;
    let page = &events["data"]["auditEvents"];
    assert_eq!(page["shared"], json!(true), "{events}");
    assert_eq!(
        page["nodes"],
        json!([{"action": "blockUser", "targetUser": id, "outcome": "SUCCEEDED"}])
    );
}

test_kit::system_tests!(
    needs: [REDIS_SERVER],
    tests: [
        redis_shared_cache_serves_a_profile_read_by_another_replica,
        redis_a_write_through_one_replica_is_seen_by_the_other,
        redis_a_deleted_user_is_gone_from_every_replica,
        redis_shared_rate_budget_keeps_two_replicas_within_the_tenant_limit,
        redis_restarting_fails_no_request_and_replicas_reconnect,
        redis_that_hangs_slows_no_request_past_its_timeout,
        redis_audit_trail_written_through_one_replica_is_read_through_the_other,
    ],
);
