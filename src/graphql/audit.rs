//! `auditEvents`' types (the audit trail read back) and `viewer` (the caller described to
//! itself).

use async_graphql::{Enum, ID, InputObject, SimpleObject};

use super::scalars::DateTime;
use super::search::PageInfo;
use crate::audit::RecordedEvent;
use crate::scope::{AuditFilter as ScopeFilter, AuditPage, ViewerView};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum AuditOutcome {
    Succeeded,
    /// Refused before reaching a tenant, or by the tenant as invalid: `code` says why.
    Refused,
    /// The tenant failed; nothing is known to have changed.
    Failed,
    /// Sent, but no answer came back: it may or may not have been applied.
    Unknown,
}

impl AuditOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "succeeded" => Self::Succeeded,
            "refused" => Self::Refused,
            "failed" => Self::Failed,
            _ => Self::Unknown,
        }
    }
}

/// Which events to list; every criterion given must hold.
#[derive(InputObject, Default)]
pub(crate) struct AuditFilter {
    pub(crate) tenant: Option<ID>,
    /// The mutation, e.g. `updateUser`.
    pub(crate) action: Option<String>,
    /// The actor's subject (`sub`), exactly.
    pub(crate) actor: Option<String>,
    /// The target user's id, or the email of a data-subject request, exactly.
    pub(crate) target: Option<String>,
    pub(crate) outcome: Option<AuditOutcome>,
    /// Only events at or after this instant.
    pub(crate) since: Option<DateTime>,
}

impl AuditFilter {
    pub(crate) fn into_scope(self) -> ScopeFilter {
        let nonempty =
            |text: Option<String>| text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        ScopeFilter {
            tenant: self.tenant.map(|t| t.0),
            action: nonempty(self.action),
            actor: nonempty(self.actor),
            target: nonempty(self.target),
            outcome: self.outcome.map(|o| o.as_str().to_owned()),
            // Events are stamped in UTC with milliseconds: compare in that form.
            since: self.since.and_then(|s| {
                chrono::DateTime::parse_from_rfc3339(&s.0).ok().map(|t| {
                    t.with_timezone(&chrono::Utc)
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                })
            }),
        }
    }
}

/// One write through this gateway, successful or not: who, what, on whom, when, how it ended.
/// Never values: only the names of the fields written.
#[derive(SimpleObject)]
pub(crate) struct AuditEvent {
    pub(crate) id: ID,
    pub(crate) time: DateTime,
    /// The mutation, e.g. `blockUser`.
    pub(crate) action: String,
    /// The issuer of the actor's token.
    pub(crate) actor_issuer: Option<String>,
    /// The actor's subject (`sub`): an operator of the operator issuer, or an end user.
    pub(crate) actor_subject: Option<String>,
    /// The tenant written to (null for data-subject requests over every tenant).
    pub(crate) tenant: Option<ID>,
    /// The user written to (the email, for data-subject requests).
    pub(crate) target_user: Option<String>,
    /// The input fields the write carried.
    pub(crate) fields: Vec<String>,
    pub(crate) outcome: AuditOutcome,
    /// The error code of a refused or failed write.
    pub(crate) code: Option<String>,
}

impl From<&RecordedEvent> for AuditEvent {
    fn from(event: &RecordedEvent) -> Self {
        Self {
            id: ID(event.id.clone()),
            time: DateTime(event.time.clone()),
            action: event.action.clone(),
            actor_issuer: event.actor_issuer.clone(),
            actor_subject: event.actor_subject.clone(),
            tenant: event.tenant.clone().map(ID),
            target_user: event.target_user.clone(),
            fields: event.fields.clone(),
            outcome: AuditOutcome::parse(&event.outcome),
            code: event.code.clone(),
        }
    }
}

/// A page of audit events, newest first.
#[derive(SimpleObject)]
pub(crate) struct AuditEventConnection {
    pub(crate) nodes: Vec<AuditEvent>,
    pub(crate) page_info: PageInfo,
    /// True when the events are every replica's (read from Redis); false when they are only
    /// those this replica recorded (no Redis, or Redis did not answer).
    pub(crate) shared: bool,
}

impl From<AuditPage> for AuditEventConnection {
    fn from(page: AuditPage) -> Self {
        Self {
            nodes: page.events.iter().map(|e| AuditEvent::from(&**e)).collect(),
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                end_cursor: page.end_cursor,
            },
            shared: page.shared,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub(crate) enum ViewerKind {
    /// A person or program of the company, from the operator issuer.
    Operator,
    /// A signed-in user of one tenant.
    EndUser,
}

/// The caller, as its token describes it.
#[derive(SimpleObject)]
pub(crate) struct Viewer {
    pub(crate) kind: ViewerKind,
    /// The token's subject.
    pub(crate) subject: String,
    /// An operator's permissions (Auth0 RBAC names); empty for end users.
    pub(crate) permissions: Vec<String>,
    /// A delegated administrator's organization.
    pub(crate) organization: Option<ID>,
    /// Whether the caller reaches every tenant (operators with `"*"`).
    pub(crate) all_tenants: bool,
}

impl From<ViewerView> for Viewer {
    fn from(view: ViewerView) -> Self {
        Self {
            kind: if view.operator {
                ViewerKind::Operator
            } else {
                ViewerKind::EndUser
            },
            subject: view.subject,
            permissions: view.permissions.into_iter().map(str::to_owned).collect(),
            organization: view.organization.map(ID),
            all_tenants: view.all_tenants,
        }
    }
}
