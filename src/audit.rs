//! The audit trail: one event for every write, successful or refused, as a structured log line
//! with target `audit` and, when `[audit] path` is set, a JSON line appended to that file before
//! the mutation answers. Events name the action, the actor (issuer and subject), the tenant, the
//! target user, the fields touched and the outcome; never passwords, tokens or metadata values.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

use crate::error::{ClientError, ErrorCode};

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
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
    pub fn of(result: &Result<(), &ClientError>) -> Self {
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
pub struct AuditEvent {
    /// RFC 3339, UTC.
    pub time: String,
    /// The mutation's name, e.g. `updateUser`.
    pub action: &'static str,
    pub actor_issuer: Option<String>,
    pub actor_subject: Option<String>,
    pub tenant: Option<String>,
    pub target_user: Option<String>,
    /// Names of the fields the write touched (never their values).
    pub fields: Vec<&'static str>,
    pub outcome: Outcome,
}

/// Where audit events go.
pub struct Auditor {
    file: Option<Mutex<File>>,
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
    pub fn new(path: Option<&Path>) -> std::io::Result<Self> {
        let file = match path {
            Some(path) => Some(Mutex::new(
                OpenOptions::new().create(true).append(true).open(path)?,
            )),
            None => None,
        };
        Ok(Self { file })
    }

    pub fn record(&self, event: &AuditEvent) {
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
            let Ok(mut line) = serde_json::to_vec(event) else {
                return;
            };
            line.push(b'\n');
            // One write per event keeps lines whole; the lock keeps events from interleaving.
            let written = match file.lock() {
                Ok(mut file) => file.write_all(&line).and_then(|()| file.flush()),
                Err(_) => Err(std::io::Error::other("the audit file's lock is poisoned")),
            };
            if let Err(error) = written {
                tracing::error!(%error, "writing the audit file failed");
            }
        }
    }
}
