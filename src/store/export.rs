//! What data-subject requests read: every account of an email in a tenant, straight from the
//! tenant (never from the cache, so a request run again after a partial failure sees exactly
//! what is left), and everything held about each one.
//!
//! Auth0's `GET /users-by-email` is consistent but case-sensitive, and its search is
//! case-insensitive but eventually consistent. An account is found by either: users-by-email
//! with the address lower-cased (database connections store it so) and as typed, and a search
//! `email:"…"` for the spellings social and enterprise connections keep.

use std::sync::Arc;

use serde_json::{Value, json};

use super::any_of::any_of;
use super::{Store, TenantRef, TenantResult};
use crate::tenant::MAX_PER_PAGE;

/// Log events included per account in an export.
const EXPORTED_LOGS: u32 = 100;

impl Store {
    /// Every account holding `email` (compared case-insensitively), as Auth0 sends profiles.
    pub(crate) async fn accounts_to_request(
        &self,
        tenant: &TenantRef,
        email: &str,
    ) -> TenantResult<Vec<Value>> {
        let client = tenant.client();
        let lower = email.to_lowercase();
        let mut spellings = vec![lower.as_str()];
        if email != lower {
            spellings.push(email);
        }
        let query = any_of("email", &[email]);
        let (exact, searched) = futures::try_join!(
            futures::future::try_join_all(spellings.iter().map(|s| client.raw_users_by_email(s))),
            client.search(Some(&query), None, 0, MAX_PER_PAGE),
        )?;
        let mut accounts: Vec<Value> = Vec::new();
        let id_of = |profile: &Value| {
            profile
                .get("user_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        for profile in exact.into_iter().flatten() {
            let id = id_of(&profile);
            if id.is_some() && !accounts.iter().any(|a| id_of(a) == id) {
                accounts.push(profile);
            }
        }
        for found in searched.users {
            if accounts
                .iter()
                .any(|a| id_of(a).as_deref() == Some(found.user_id()))
            {
                continue;
            }
            // Search lags: an account it still lists may be gone.
            if let Some(profile) = client.raw_user(found.user_id()).await? {
                accounts.push(profile);
            }
        }
        accounts.sort_by_key(id_of);
        Ok(accounts)
    }

    /// One account: its whole profile (both metadata stated, `{}` when never set), its
    /// organizations, roles and newest logs.
    pub(crate) async fn export_account(
        &self,
        tenant: &TenantRef,
        mut profile: Value,
    ) -> TenantResult<Value> {
        if let Some(fields) = profile.as_object_mut() {
            for key in ["user_metadata", "app_metadata"] {
                fields.entry(key).or_insert_with(|| json!({}));
            }
        }
        let id: Arc<str> = Arc::from(
            profile
                .get("user_id")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let client = tenant.client();
        let ((organizations, roles), logs) = futures::try_join!(
            client.raw_memberships(&id),
            client.raw_user_logs(&id, EXPORTED_LOGS),
        )?;
        Ok(json!({
            "tenant": tenant.id().as_ref(),
            "user_id": &*id,
            "profile": profile,
            "organizations": organizations,
            "roles": roles,
            "logs": logs,
        }))
    }
}
