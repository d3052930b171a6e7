//! The audit trail: one event for every write, successful or refused, as a structured log line
//! with target `audit` and, when `[audit] path` is set, a JSON line appended to that file before
//! the mutation answers. Events name the action, the actor (issuer and subject), the tenant, the
//! target user, the fields touched and the outcome; never passwords, tokens or metadata values.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

use crate::auth::Caller;
use crate::error::{ClientError, ClientResult, ErrorCode};
use crate::metrics::Metrics;

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
    pub(crate) fn finish<T>(
        mut self,
        auditor: &Auditor,
        result: ClientResult<T>,
    ) -> ClientResult<T> {
        self.event.outcome = Outcome::of(&result.as_ref().map(|_| ()));
        auditor.record(&self.event);
        result
    }
}

/// Where audit events go.
pub(crate) struct Auditor {
    file: Option<Mutex<File>>,
    metrics: Metrics,
    failures: AtomicU64,
    /// Whether the last append failed.
    failing: AtomicBool,
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

impl Auditor {
    /// Logs only, or logs and appends to `path`.
    pub(crate) fn new(path: Option<&Path>, metrics: Metrics) -> std::io::Result<Self> {
        let file = match path {
            Some(path) => Some(Mutex::new(
                OpenOptions::new().create(true).append(true).open(path)?,
            )),
            None => None,
        };
        Ok(Self {
            file,
            metrics,
            failures: AtomicU64::new(0),
            failing: AtomicBool::new(false),
        })
    }

    pub(crate) fn health(&self) -> AuditHealth {
        AuditHealth {
            failing: self.failing.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn record(&self, event: &AuditEvent) {
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
