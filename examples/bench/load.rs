//! The load generator: one hyper HTTP/1.1 connection per virtual client, a closed loop at
//! saturation and an open loop at a fixed rate, what each client tallies, and percentiles.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use tokio::net::TcpStream;

use crate::plan::Timing;
use crate::workloads::Requests;

/// A request taking longer is counted as an error and its connection replaced.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The fixed-rate phase runs at this fraction of the measured saturation throughput.
pub const FIXED_RATE_SHARE: f64 = 0.3;

type Sender = http1::SendRequest<Full<Bytes>>;

/// Where requests go, with the headers every request carries.
#[derive(Debug)]
pub struct Target {
    addr: SocketAddr,
    host: HeaderValue,
    authorization: HeaderValue,
}

impl Target {
    pub fn new(addr: SocketAddr, token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))?,
        })
    }

    /// Sends one request on `connection` (opening one if needed) and judges the answer. A
    /// broken or timed-out connection is dropped, to be replaced by the next request.
    pub async fn exchange(&self, connection: &mut Option<Sender>, body: Bytes) -> Outcome {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.try_exchange(connection, body)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => {
                *connection = None;
                Outcome::Broken(format!("transport: {error:#}"))
            }
            Err(_) => {
                *connection = None;
                Outcome::Broken(format!("no answer within {REQUEST_TIMEOUT:?}"))
            }
        }
    }

    async fn try_exchange(
        &self,
        connection: &mut Option<Sender>,
        body: Bytes,
    ) -> anyhow::Result<Outcome> {
        if connection.is_none() {
            *connection = Some(connect(self.addr).await?);
        }
        let sender = connection.as_mut().context("no connection")?;
        sender.ready().await?;
        let request = Request::builder()
            .method(Method::POST)
            .uri("/graphql")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, self.authorization.clone())
            .body(Full::new(body))?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(judge(status, &body))
    }
}

async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    // Drives the connection until either side closes it.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

#[derive(Debug)]
pub enum Outcome {
    Ok {
        bytes: usize,
    },
    /// An answer that is not a success.
    Failed(String),
    /// No answer: the connection is gone.
    Broken(String),
}

fn judge(status: StatusCode, body: &[u8]) -> Outcome {
    let snippet = || {
        let text = String::from_utf8_lossy(body);
        text.chars().take(300).collect::<String>()
    };
    if status != StatusCode::OK {
        return Outcome::Failed(format!("HTTP {status}: {}", snippet()));
    }
    // A byte search, not a parse: the load generator shares the CPU with the gateway.
    if contains(body, b"\"errors\":") {
        return Outcome::Failed(format!("GraphQL errors: {}", snippet()));
    }
    Outcome::Ok { bytes: body.len() }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What one virtual client saw while its results counted.
#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    errors: u64,
    /// Latency of each successful request, in nanoseconds.
    latencies: Vec<u64>,
    error_samples: Vec<String>,
}

impl Tally {
    fn record(&mut self, outcome: &Outcome, latency: Duration) {
        match outcome {
            Outcome::Ok { .. } => {
                self.ok += 1;
                self.latencies
                    .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
            }
            Outcome::Failed(message) | Outcome::Broken(message) => {
                self.errors += 1;
                if self.error_samples.len() < 3 {
                    self.error_samples.push(message.clone());
                }
            }
        }
    }

    fn merge(&mut self, other: Self) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies.extend(other.latencies);
        for sample in other.error_samples {
            if self.error_samples.len() < 5 && !self.error_samples.contains(&sample) {
                self.error_samples.push(sample);
            }
        }
    }
}

/// After a broken connection, wait before reconnecting so a dead server is not spun on.
pub async fn back_off(outcome: &Outcome) {
    if matches!(outcome, Outcome::Broken(_)) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The summary of one load phase.
#[derive(Debug, Clone, Default)]
pub struct LoadStats {
    pub ok: u64,
    pub errors: u64,
    window: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub error_samples: Vec<String>,
}

impl LoadStats {
    fn from_tally(mut tally: Tally, window: Duration) -> Self {
        tally.latencies.sort_unstable();
        let at = |q: f64| Duration::from_nanos(percentile(&tally.latencies, q));
        Self {
            ok: tally.ok,
            errors: tally.errors,
            window,
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            error_samples: tally.error_samples,
        }
    }

    pub fn rps(&self) -> f64 {
        let seconds = self.window.as_secs_f64();
        if seconds > 0.0 {
            self.ok as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Nearest-rank percentile of sorted values; 0 when there are none.
fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPING: u8 = 2;

/// Waits for the clients, abandoning those still stuck on a request after `limit`.
async fn collect(handles: Vec<tokio::task::JoinHandle<Tally>>, limit: Duration) -> Tally {
    let mut total = Tally::default();
    let deadline = tokio::time::Instant::now() + limit;
    for mut handle in handles {
        match tokio::time::timeout_at(deadline, &mut handle).await {
            Ok(Ok(tally)) => total.merge(tally),
            Ok(Err(error)) => {
                total.errors += 1;
                total
                    .error_samples
                    .push(format!("client task failed: {error}"));
            }
            Err(_) => handle.abort(),
        }
    }
    total
}

/// A closed loop: `connections` clients each send a request as soon as the previous answer
/// arrives. Answers arriving during the window count. `at_edge(opening)` reads counters when
/// the window opens (`true`) and closes (`false`); both readings are returned.
pub async fn saturate<F, Fut, M>(
    target: &Arc<Target>,
    requests: &Arc<Requests>,
    connections: usize,
    timing: Timing,
    mut at_edge: F,
) -> (LoadStats, M, M)
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = M>,
{
    let phase = Arc::new(AtomicU8::new(WARMING));
    let handles: Vec<_> = (0..connections)
        .map(|client| {
            let (target, requests, phase) = (target.clone(), requests.clone(), phase.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client as u64 + 1);
                let mut connection = None;
                let mut tally = Tally::default();
                while phase.load(Ordering::Relaxed) != STOPPING {
                    let body = requests.body(&mut rng);
                    let sent = Instant::now();
                    let outcome = target.exchange(&mut connection, body).await;
                    if phase.load(Ordering::Relaxed) == MEASURING {
                        tally.record(&outcome, sent.elapsed());
                    }
                    back_off(&outcome).await;
                }
                tally
            })
        })
        .collect();
    tokio::time::sleep(timing.warmup).await;
    let opening = at_edge(true).await;
    let opened = Instant::now();
    phase.store(MEASURING, Ordering::Relaxed);
    tokio::time::sleep(timing.window).await;
    phase.store(STOPPING, Ordering::Relaxed);
    let window = opened.elapsed();
    let closing = at_edge(false).await;
    let tally = collect(handles, REQUEST_TIMEOUT + Duration::from_secs(2)).await;
    (LoadStats::from_tally(tally, window), opening, closing)
}

/// An open loop at `rate` requests/s spread over up to `connections` clients, each sending on
/// its own fixed schedule. Requests scheduled during the window count.
pub async fn fixed_rate(
    target: &Arc<Target>,
    requests: &Arc<Requests>,
    connections: usize,
    rate: f64,
    timing: Timing,
) -> LoadStats {
    let clients = connections.min(rate.ceil().max(1.0) as usize);
    let interval = Duration::from_secs_f64(clients as f64 / rate);
    let start = Instant::now() + Duration::from_millis(20);
    let opens = start + timing.fixed_warmup;
    let closes = opens + timing.fixed_window;
    let handles: Vec<_> = (0..clients)
        .map(|client| {
            let (target, requests) = (target.clone(), requests.clone());
            // Clients are staggered so that together they send evenly.
            let first = start + Duration::from_secs_f64(client as f64 / rate);
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client as u64 + 1001);
                let mut connection = None;
                let mut tally = Tally::default();
                let mut scheduled = first;
                let mut previous_answer = Instant::now();
                while scheduled < closes {
                    tokio::time::sleep_until(scheduled.into()).await;
                    let body = requests.body(&mut rng);
                    let sent = Instant::now();
                    let outcome = target.exchange(&mut connection, body).await;
                    let answered = Instant::now();
                    // Late because the previous answer came after this request's turn: the
                    // wait is the server's doing and counts. Otherwise only the timer was late.
                    let origin = if previous_answer > scheduled {
                        scheduled
                    } else {
                        sent
                    };
                    if scheduled >= opens {
                        tally.record(&outcome, answered.duration_since(origin));
                    }
                    previous_answer = answered;
                    back_off(&outcome).await;
                    scheduled += interval;
                }
                tally
            })
        })
        .collect();
    let limit =
        timing.fixed_warmup + timing.fixed_window + REQUEST_TIMEOUT + Duration::from_secs(2);
    let tally = collect(handles, limit).await;
    LoadStats::from_tally(tally, timing.fixed_window)
}
