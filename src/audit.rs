//! The audit trail: one event for every write, successful or refused, as a structured log line
//! with target `audit` and, when `[audit] path` is set, a JSON line appended to that file before
//! the mutation answers. Events name the action, the actor (issuer and subject), the tenant, the
//! target user, the fields touched and the outcome; never passwords, tokens or metadata values.
//!
//! The latest events can be read back (`auditEvents`, through the scope, which decides who sees
//! which): the last `audit.readable_events`, at most `audit.readable_for` old, are kept in
//! memory and, with `[redis]`, in one capped Redis list that every replica writes and reads,
//! so that each sees the whole trail. When Redis cannot be read, a replica answers from its own
//! memory and says so. The file and the log are the permanent record; they are not read back.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::config::AuditConfig;
use crate::error::{ClientError, ClientResult, ErrorCode};
use crate::metrics::Metrics;
use crate::shared::Shared;

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Succeeded,
    /// Refused before reaching a tenant, or by the tenant as invalid; `code` says why.
    Refused {
        code: &'static str,
    },
    /// The tenant failed; nothing is known to have changed.
    Failed {
        code: &'static str,
    },
    /// Sent, but no answer came back: it may or may not have been applied.
    Unknown,
}

impl Outcome {
    /// (`succeeded` | `refused` | `failed` | `unknown`, the error code).
    fn parts(&self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Succeeded => ("succeeded", None),
            Self::Refused { code } => ("refused", Some(code)),
            Self::Failed { code } => ("failed", Some(code)),
            Self::Unknown => ("unknown", None),
        }
    }

    pub(crate) fn of(result: &Result<(), &ClientError>) -> Self {
        match result {
            Ok(()) => Self::Succeeded,
            Err(error) => match error.code {
                ErrorCode::UpstreamOutcomeUnknown => Self::Unknown,
                code @ (ErrorCode::Unauthenticated
                | ErrorCode::Forbidden
                | ErrorCode::NotFound
                | ErrorCode::BadUserInput
                | ErrorCode::Conflict
                | ErrorCode::QueryTooComplex
                | ErrorCode::RateLimited) => Self::Refused {
                    code: code.as_str(),
                },
                code => Self::Failed {
                    code: code.as_str(),
                },
            },
        }
    }
}

/// One audit event.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AuditEvent {
    /// RFC 3339, UTC.
    pub(crate) time: String,
    /// The mutation's name, e.g. `updateUser`.
    pub(crate) action: &'static str,
    pub(crate) actor_issuer: Option<String>,
    pub(crate) actor_subject: Option<String>,
    pub(crate) tenant: Option<String>,
    pub(crate) target_user: Option<String>,
    /// Names of the fields the write touched (never their values).
    pub(crate) fields: Vec<&'static str>,
    pub(crate) outcome: Outcome,
}

/// One write's audit event, filled in as the write learns what it touches, recorded with its
/// outcome before the write answers.
#[derive(Debug)]
#[must_use]
pub(crate) struct AuditEntry {
    event: AuditEvent,
}

impl AuditEntry {
    pub(crate) fn begin(action: &'static str, caller: &Caller) -> Self {
        let (issuer, subject) = caller.identity();
        Self {
            event: AuditEvent {
                time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                action,
                actor_issuer: Some(issuer.to_owned()),
                actor_subject: Some(subject.to_owned()),
                tenant: None,
                target_user: None,
                fields: Vec::new(),
                outcome: Outcome::Succeeded,
            },
        }
    }

    pub(crate) fn tenant(&mut self, tenant: &str) -> &mut Self {
        self.event.tenant = Some(tenant.to_owned());
        self
    }

    pub(crate) fn target(&mut self, user: &str) -> &mut Self {
        self.event.target_user = Some(user.to_owned());
        self
    }

    pub(crate) fn fields(&mut self, fields: &[&'static str]) -> &mut Self {
        self.event.fields = fields.to_vec();
        self
    }

    /// Records the outcome and hands the result on.
    pub(crate) async fn finish<T>(
        mut self,
        auditor: &Auditor,
        result: ClientResult<T>,
    ) -> ClientResult<T> {
        self.event.outcome = Outcome::of(&result.as_ref().map(|_| ()));
        auditor.record(&self.event).await;
        result
    }
}

/// An event as it is read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordedEvent {
    /// Unique across replicas: the replica's id and its count of events.
    pub(crate) id: String,
    /// RFC 3339, UTC, in milliseconds.
    pub(crate) time: String,
    pub(crate) action: String,
    pub(crate) actor_issuer: Option<String>,
    pub(crate) actor_subject: Option<String>,
    pub(crate) tenant: Option<String>,
    pub(crate) target_user: Option<String>,
    pub(crate) fields: Vec<String>,
    /// `succeeded`, `refused`, `failed` or `unknown`.
    pub(crate) outcome: String,
    /// The error code of a refused or failed write.
    pub(crate) code: Option<String>,
}

/// The latest events, newest first, and whether they are every replica's.
#[derive(Debug, Clone)]
pub(crate) struct RecentEvents {
    pub(crate) events: Vec<Arc<RecordedEvent>>,
    pub(crate) shared: bool,
}

/// Where audit events go.
pub(crate) struct Auditor {
    file: Option<Mutex<File>>,
    metrics: Metrics,
    failures: AtomicU64,
    /// Whether the last append failed.
    failing: AtomicBool,
    /// The latest events, newest at the front.
    recent: Mutex<VecDeque<Arc<RecordedEvent>>>,
    capacity: usize,
    keep_for: Duration,
    shared: Option<Arc<Shared>>,
    /// Names this replica's events apart from the others'.
    replica: String,
    sequence: AtomicU64,
}

/// Whether the audit trail is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuditHealth {
    pub(crate) failing: bool,
    pub(crate) failures: u64,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("file", &self.file.is_some())
            .finish()
    }
}

/// The Redis list every replica appends its events to.
const SHARED_LIST: &str = "audit";

impl Auditor {
    /// Logs only, or logs and appends to `config.path`; keeps the latest events readable, in
    /// Redis too when `shared` is given.
    pub(crate) fn new(
        config: &AuditConfig,
        shared: Option<Arc<Shared>>,
        metrics: Metrics,
    ) -> std::io::Result<Self> {
        let file = match config.path.as_deref() {
            Some(path) => Some(Mutex::new(open(path)?)),
            None => None,
        };
        let replica = shared.as_ref().map_or_else(
            || format!("{:08x}", rand::random::<u32>()),
            |s| s.replica().to_owned(),
        );
        Ok(Self {
            file,
            metrics,
            failures: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            recent: Mutex::new(VecDeque::new()),
            capacity: config.readable_events.max(1),
            keep_for: config.readable_for,
            shared,
            replica,
            sequence: AtomicU64::new(0),
        })
    }

    /// The latest events, newest first, within `audit.readable_for`: every replica's from
    /// Redis when it is configured and answers, else this replica's own.
    pub(crate) async fn recent(&self) -> RecentEvents {
        let oldest = chrono::Utc::now()
            - chrono::Duration::from_std(self.keep_for).unwrap_or(chrono::Duration::MAX);
        let oldest = oldest.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let fresh = |event: &Arc<RecordedEvent>| event.time >= oldest;
        if let Some(shared) = &self.shared {
            let key = shared.key(&[SHARED_LIST]);
            let last = isize::try_from(self.capacity).unwrap_or(isize::MAX) - 1;
            let read = shared
                .run("audit_read", |mut connection| async move {
                    redis::cmd("LRANGE")
                        .arg(key)
                        .arg(0)
                        .arg(last)
                        .query_async::<Vec<String>>(&mut connection)
                        .await
                })
                .await;
            if let Some(lines) = read {
                let mut events: Vec<Arc<RecordedEvent>> = lines
                    .iter()
                    .filter_map(|line| serde_json::from_str(line).ok())
                    .map(Arc::new)
                    .filter(fresh)
                    .collect();
                // Replicas append concurrently: order by time, then id.
                events.sort_by(|a, b| (&b.time, &b.id).cmp(&(&a.time, &a.id)));
                return RecentEvents {
                    events,
                    shared: true,
                };
            }
        }
        let events = self
            .recent
            .lock()
            .map(|recent| recent.iter().filter(|e| fresh(e)).cloned().collect())
            .unwrap_or_default();
        RecentEvents {
            events,
            shared: false,
        }
    }

    /// Keeps `event` readable, here and in Redis.
    async fn keep(&self, event: &AuditEvent) {
        let (outcome, code) = event.outcome.parts();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let recorded = Arc::new(RecordedEvent {
            id: format!("{}-{sequence}", self.replica),
            time: event.time.clone(),
            action: event.action.to_owned(),
            actor_issuer: event.actor_issuer.clone(),
            actor_subject: event.actor_subject.clone(),
            tenant: event.tenant.clone(),
            target_user: event.target_user.clone(),
            fields: event.fields.iter().map(|f| (*f).to_owned()).collect(),
            outcome: outcome.to_owned(),
            code: code.map(str::to_owned),
        });
        if let Ok(mut recent) = self.recent.lock() {
            recent.push_front(recorded.clone());
            recent.truncate(self.capacity);
        }
        let Some(shared) = &self.shared else { return };
        let Ok(line) = serde_json::to_string(&*recorded) else {
            return;
        };
        let key = shared.key(&[SHARED_LIST]);
        let last = isize::try_from(self.capacity).unwrap_or(isize::MAX) - 1;
        shared
            .run("audit_append", |mut connection| async move {
                redis::pipe()
                    .atomic()
                    .cmd("LPUSH")
                    .arg(&key)
                    .arg(line)
                    .ignore()
                    .cmd("LTRIM")
                    .arg(&key)
                    .arg(0)
                    .arg(last)
                    .ignore()
                    .query_async::<()>(&mut connection)
                    .await
            })
            .await;
    }

    pub(crate) fn health(&self) -> AuditHealth {
        AuditHealth {
            failing: self.failing.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }

    pub(crate) async fn record(&self, event: &AuditEvent) {
        self.write(event);
        self.keep(event).await;
    }

    /// The log line and the file.
    fn write(&self, event: &AuditEvent) {
        let fields = event.fields.join(",");
        let outcome = serde_json::to_string(&event.outcome).unwrap_or_default();
        tracing::info!(
            target: "audit",
            action = event.action,
            actor_issuer = event.actor_issuer.as_deref().unwrap_or(""),
            actor_subject = event.actor_subject.as_deref().unwrap_or(""),
            tenant = event.tenant.as_deref().unwrap_or(""),
            target_user = event.target_user.as_deref().unwrap_or(""),
            fields = %fields,
            outcome = %outcome,
            "audit"
        );
        if let Some(file) = &self.file {
            let written = serde_json::to_vec(event)
                .map_err(std::io::Error::other)
                .and_then(|mut line| {
                    line.push(b'\n');
                    // One write per event keeps lines whole; the lock keeps events apart.
                    match file.lock() {
                        Ok(mut file) => file.write_all(&line).and_then(|()| file.flush()),
                        Err(_) => Err(std::io::Error::other("the audit file's lock is poisoned")),
                    }
                });
            match written {
                Ok(()) => self.failing.store(false, Ordering::Relaxed),
                Err(error) => {
                    self.failures.fetch_add(1, Ordering::Relaxed);
                    self.failing.store(true, Ordering::Relaxed);
                    self.metrics.audit_failures.inc();
                    tracing::error!(%error, action = event.action, "appending to the audit file failed: this write is not in the audit file");
                }
            }
        }
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}
