//! Data-subject requests (`manage:gdpr` over every tenant): export everything held about the
//! person behind an email, or erase every account of that person. Both read the tenants
//! directly (never the cache), so a request run again after a partial failure sees exactly
//! what is left.
//!
//! The person is the accounts that verified the email: an account merely claiming an address
//! (unverified) may belong to someone else, whose data must neither be handed over nor
//! destroyed. A delegated operator's organization binds these requests like every other: only
//! its members are exported or erased.

use futures::future::join_all;
use serde_json::{Value, json};

use super::reads::normalize_email;
use super::{Partial, Scope};
use crate::audit::AuditEntry;
use crate::auth::Permission;
use crate::error::{ClientError, ClientResult};
use crate::store::{TenantRef, TenantResult};

/// What one erasure did in one tenant.
#[derive(Debug, Clone)]
pub(crate) struct Erasure {
    pub(crate) tenant: TenantRef,
    pub(crate) user_id: String,
    /// Why the account is not deleted (run the erasure again once the tenant is back).
    pub(crate) error: Option<String>,
}

fn verified(profile: &Value) -> bool {
    profile.get("email_verified").and_then(Value::as_bool) == Some(true)
}

fn user_id(profile: &Value) -> Option<&str> {
    profile.get("user_id").and_then(Value::as_str)
}

impl Scope {
    fn data_subject_operator(&self) -> ClientResult<()> {
        self.operator_with(Permission::ManageGdpr)?;
        if !self.reaches_every_tenant() {
            return Err(ClientError::forbidden(
                "data-subject requests need manage:gdpr over every tenant (\"*\")",
            ));
        }
        Ok(())
    }

    /// The accounts of the person in one tenant that this caller may act on: verified holders
    /// of the email, members of the caller's organization if it has one.
    async fn subject_accounts(&self, tenant: &TenantRef, email: &str) -> TenantResult<Vec<Value>> {
        let accounts = self.store.accounts_to_request(tenant, email).await?;
        let members = self.members(tenant).await?;
        Ok(accounts
            .into_iter()
            .filter(verified)
            .filter(|profile| {
                members
                    .as_ref()
                    .is_none_or(|m| user_id(profile).is_some_and(|id| m.contains(id)))
            })
            .collect())
    }

    /// Every account of the person, as one JSON document: profile with both metadata,
    /// organizations, roles and recent logs.
    pub(crate) async fn export_person(&self, email: &str) -> ClientResult<Partial<Value>> {
        let mut audit = self.audit("exportPerson");
        audit.target(email);
        let result = async {
            self.data_subject_operator()?;
            let email = normalize_email(email)?;
            let mut tenants = self.tenants();
            tenants.sort_by(|a, b| a.id().cmp(b.id()));
            let exports = join_all(tenants.iter().map(|t| self.export_tenant(t, &email))).await;
            let mut accounts = Vec::new();
            let mut unavailable = Vec::new();
            let mut failures = Vec::new();
            for (tenant, export) in tenants.iter().zip(exports) {
                match export {
                    Ok(found) => accounts.extend(found),
                    Err(error) => {
                        failures.push(error.to_client(tenant.id()));
                        unavailable.push(tenant.id().to_string());
                    }
                }
            }
            Ok(Partial {
                value: json!({
                    "email": email.as_ref(),
                    "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    // False when a tenant could not be read: the export then lacks its accounts.
                    "complete": unavailable.is_empty(),
                    "unavailable_tenants": unavailable,
                    "accounts": accounts,
                }),
                failures,
            })
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    async fn export_tenant(&self, tenant: &TenantRef, email: &str) -> TenantResult<Vec<Value>> {
        let accounts = self.subject_accounts(tenant, email).await?;
        let exports = join_all(
            accounts
                .into_iter()
                .map(|p| self.store.export_account(tenant, p)),
        )
        .await;
        exports.into_iter().collect()
    }

    /// Deletes every account of the person in every tenant; `confirm` must repeat the email.
    /// Safe to run again after a partial failure.
    pub(crate) async fn erase_person(
        &self,
        email: &str,
        confirm: &str,
    ) -> ClientResult<Partial<Vec<Erasure>>> {
        let mut audit = self.audit("erasePerson");
        audit.target(email);
        let result = async {
            self.data_subject_operator()?;
            if confirm.trim() != email.trim() {
                return Err(ClientError::bad_input(
                    "confirm: must repeat the email exactly",
                ));
            }
            let email = normalize_email(email)?;
            let mut tenants = self.tenants();
            tenants.sort_by(|a, b| a.id().cmp(b.id()));
            let erasures = join_all(tenants.iter().map(|t| self.erase_in_tenant(t, &email))).await;
            let mut partial = Partial::new(Vec::new());
            for result in erasures {
                partial.value.extend(result.value);
                partial.failures.extend(result.failures);
            }
            Ok(partial)
        }
        .await;
        audit.finish(&self.auditor, result).await
    }

    async fn erase_in_tenant(&self, tenant: &TenantRef, email: &str) -> Partial<Vec<Erasure>> {
        let mut partial = Partial::new(Vec::new());
        let accounts = match self.subject_accounts(tenant, email).await {
            Ok(accounts) => accounts,
            Err(error) => {
                partial.failed(tenant, &error);
                return partial;
            }
        };
        for profile in accounts {
            let Some(id) = user_id(&profile) else {
                continue;
            };
            let mut audit = AuditEntry::begin("erasePerson", &self.caller);
            audit.tenant(tenant.id()).target(id);
            let outcome = self
                .store
                .erase(tenant, id, profile.get("email").and_then(Value::as_str))
                .await
                .map_err(|e| e.to_client(tenant.id()));
            let error = outcome.as_ref().err().map(|e| e.message.clone());
            let _ = audit.finish(&self.auditor, outcome).await;
            partial.value.push(Erasure {
                tenant: tenant.clone(),
                user_id: id.to_owned(),
                error,
            });
        }
        partial
    }
}
