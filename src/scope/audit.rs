//! Reading the audit trail (`read:audit`): which events an operator sees.
//!
//! - An operator over every tenant, without an organization, sees every event, those that
//!   name no tenant included (data-subject requests span every tenant).
//! - An operator over some tenants sees the events of those tenants.
//! - A delegated administrator (`org_id`) sees the events of its tenants whose target is a
//!   member of its organization (by the member list, as reads decide): what happened to the
//!   users it administers, whoever did it. Events without a target (a create refused before
//!   any user existed) are not its to see.
//! - End users see none.
//!
//! Events come from the auditor: the latest `audit.readable_events`, at most
//! `audit.readable_for` old, from every replica when Redis is configured and answers.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Scope;
use crate::audit::RecordedEvent;
use crate::auth::{Operator, Permission, TenantScope};
use crate::error::{ClientError, ClientResult};
use crate::store::Members;

/// What to look for; every criterion given must hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditFilter {
    pub(crate) tenant: Option<String>,
    /// The action, e.g. `updateUser`.
    pub(crate) action: Option<String>,
    /// The actor's subject, exactly.
    pub(crate) actor: Option<String>,
    /// The target user's id (or the email of a data-subject request), exactly.
    pub(crate) target: Option<String>,
    /// `succeeded`, `refused`, `failed` or `unknown`.
    pub(crate) outcome: Option<String>,
    /// RFC 3339: events at or after.
    pub(crate) since: Option<String>,
}

/// One page of events, newest first.
#[derive(Debug, Clone)]
pub(crate) struct AuditPage {
    pub(crate) events: Vec<std::sync::Arc<RecordedEvent>>,
    pub(crate) end_cursor: Option<String>,
    pub(crate) has_next_page: bool,
    /// Whether the events are every replica's (Redis) or this replica's only.
    pub(crate) shared: bool,
}

/// Most events on one page.
const MAX_PAGE: i32 = 200;

fn cursor(event: &RecordedEvent) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}\n{}", event.time, event.id))
}

fn decode_cursor(after: &str) -> ClientResult<(String, String)> {
    let text = URL_SAFE_NO_PAD
        .decode(after)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ClientError::bad_input("after: not a cursor of auditEvents"))?;
    let (time, id) = text
        .split_once('\n')
        .ok_or_else(|| ClientError::bad_input("after: not a cursor of auditEvents"))?;
    Ok((time.to_owned(), id.to_owned()))
}

impl Scope {
    /// A page of the audit events this operator may see (`read:audit`), newest first.
    pub(crate) async fn audit_events(
        &self,
        filter: &AuditFilter,
        first: i32,
        after: Option<&str>,
    ) -> ClientResult<AuditPage> {
        let operator = self.operator_with(Permission::ReadAudit)?;
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ClientError::bad_input(format!(
                "first: must be between 1 and {MAX_PAGE}"
            )));
        }
        let after = after.map(decode_cursor).transpose()?;
        if let Some(tenant) = &filter.tenant
            && !operator.tenants().includes(tenant)
        {
            return Err(super::unknown_tenant(tenant));
        }
        let recent = self.auditor.recent().await;
        let mut members: HashMap<String, Option<Members>> = HashMap::new();
        let mut page = Vec::new();
        let mut has_next_page = false;
        for event in recent.events {
            if let Some((time, id)) = &after
                && (&event.time, &event.id) >= (time, id)
            {
                continue;
            }
            if !matches(filter, &event) || !self.may_see(operator, &event, &mut members).await {
                continue;
            }
            if page.len() == first as usize {
                has_next_page = true;
                break;
            }
            page.push(event);
        }
        Ok(AuditPage {
            end_cursor: page.last().map(|e| cursor(e)),
            events: page,
            has_next_page,
            shared: recent.shared,
        })
    }

    /// The visibility rules of the module's documentation.
    async fn may_see(
        &self,
        operator: &Operator,
        event: &RecordedEvent,
        members: &mut HashMap<String, Option<Members>>,
    ) -> bool {
        let Some(tenant_id) = &event.tenant else {
            return *operator.tenants() == TenantScope::All && operator.organization().is_none();
        };
        if !operator.tenants().includes(tenant_id) {
            return false;
        }
        if operator.organization().is_none() {
            return true;
        }
        let Some(target) = &event.target_user else {
            return false;
        };
        if !members.contains_key(tenant_id) {
            let list = match self.store.tenant(tenant_id) {
                // A tenant that failed hides its events rather than showing them all.
                Some(tenant) => self.members(tenant).await.ok().flatten(),
                None => None,
            };
            members.insert(tenant_id.clone(), list);
        }
        members
            .get(tenant_id)
            .and_then(Option::as_ref)
            .is_some_and(|m| m.contains(target.as_str()))
    }
}

fn matches(filter: &AuditFilter, event: &RecordedEvent) -> bool {
    let equal = |wanted: &Option<String>, value: Option<&str>| {
        wanted.as_deref().is_none_or(|w| Some(w) == value)
    };
    equal(&filter.tenant, event.tenant.as_deref())
        && equal(&filter.action, Some(&event.action))
        && equal(&filter.actor, event.actor_subject.as_deref())
        && equal(&filter.target, event.target_user.as_deref())
        && equal(&filter.outcome, Some(&event.outcome))
        && filter
            .since
            .as_deref()
            .is_none_or(|since| event.time.as_str() >= since)
}
