//! Dashboard figures. Tenant-wide figures (`stats`) are for operators with `read:stats` over
//! whole tenants: a delegated administrator's reach is its organization, and tenant-wide counts
//! would say more than that. An organization's figures (`organizationStats`) are worked out
//! from its members' profiles: its administrators see their own organization; tenant-wide
//! operators with `read:users` and `read:stats` any organization.

use std::sync::Arc;

use futures::future::join_all;

use super::{Partial, Scope};
use crate::auth::{Operator, Permission};
use crate::error::{ClientError, ClientResult};
use crate::store::{OrganizationFigures, TenantFigures, TenantRef};

/// Most members of an organization in one tenant whose profiles make its figures (about a
/// hundred batched calls, cold).
const MAX_MEMBERS: usize = 10_000;

/// One tenant's figures.
#[derive(Debug, Clone)]
pub(crate) struct TenantFiguresView {
    pub(crate) tenant: TenantRef,
    pub(crate) figures: Arc<TenantFigures>,
}

/// The figures of the tenants that answered.
#[derive(Debug, Clone)]
pub(crate) struct Figures {
    /// Ordered by tenant id.
    pub(crate) tenants: Vec<TenantFiguresView>,
}

/// One organization's figures in the tenants that answered.
#[derive(Debug, Clone)]
pub(crate) struct OrganizationFiguresView {
    pub(crate) organization: String,
    /// Ordered by tenant id; tenants where the organization has no member are left out.
    pub(crate) tenants: Vec<(TenantRef, OrganizationFigures)>,
}

/// A number of days between 1 and 365.
fn days(value: i32, argument: &str) -> ClientResult<u32> {
    u32::try_from(value)
        .ok()
        .filter(|d| (1..=365).contains(d))
        .ok_or_else(|| ClientError::bad_input(format!("{argument} must be between 1 and 365")))
}

impl Scope {
    pub(crate) async fn figures(
        &self,
        tenants: Option<&[String]>,
        days_back: i32,
        active_days: i32,
    ) -> ClientResult<Partial<Figures>> {
        // Said first: asking a delegated administrator for read:stats would mislead, since no
        // permission opens tenant-wide figures to it.
        if self.operator().and_then(Operator::organization).is_some() {
            return Err(ClientError::forbidden(
                "stats are tenant-wide figures; an organization's administrators have organizationStats",
            ));
        }
        self.operator_with(Permission::ReadStats)?;
        let days_back = days(days_back, "stats(days:)")?;
        let active_days = days(active_days, "stats(activeDays:)")?;
        let selected = self.select(tenants)?;
        let answers = join_all(
            selected
                .iter()
                .map(|t| self.store.figures(t, days_back, active_days)),
        )
        .await;
        let mut partial = Partial::new(Figures {
            tenants: Vec::new(),
        });
        for (tenant, answer) in selected.into_iter().zip(answers) {
            match answer {
                Ok(figures) => partial
                    .value
                    .tenants
                    .push(TenantFiguresView { tenant, figures }),
                Err(error) => partial.failed(&tenant, &error),
            }
        }
        partial
            .value
            .tenants
            .sort_by(|a, b| a.tenant.id().cmp(b.tenant.id()));
        Ok(partial)
    }

    /// The figures of an organization's members: the caller's own organization for its
    /// administrators, any for tenant-wide operators with `read:users` and `read:stats`.
    pub(crate) async fn organization_figures(
        &self,
        organization: Option<&str>,
        tenants: Option<&[String]>,
        days_back: i32,
        active_days: i32,
    ) -> ClientResult<Partial<OrganizationFiguresView>> {
        let operator = self.operator_with(Permission::ReadUsers)?;
        let organization = match (operator.organization(), organization) {
            (Some(own), None) => own.to_owned(),
            (Some(own), Some(asked)) if asked == own => own.to_owned(),
            (Some(_), Some(_)) => {
                return Err(ClientError::forbidden(
                    "an organization's administrators see their own organization's figures only",
                ));
            }
            (None, Some(asked)) => {
                self.operator_with(Permission::ReadStats)?;
                asked.to_owned()
            }
            (None, None) => {
                return Err(ClientError::bad_input(
                    "organizationStats(organization:) names the organization",
                ));
            }
        };
        let days_back = days(days_back, "organizationStats(days:)")?;
        let active_days = days(active_days, "organizationStats(activeDays:)")?;
        let selected = self.select(tenants)?;
        let answers = join_all(selected.iter().map(|tenant| {
            self.tenant_organization_figures(
                operator,
                tenant,
                &organization,
                days_back,
                active_days,
            )
        }))
        .await;
        let mut partial = Partial::new(OrganizationFiguresView {
            organization,
            tenants: Vec::new(),
        });
        for (tenant, answer) in selected.into_iter().zip(answers) {
            match answer {
                Ok(Some(figures)) => partial.value.tenants.push((tenant, figures)),
                Ok(None) => {}
                Err(error) => partial.failures.push(error),
            }
        }
        partial.value.tenants.sort_by(|a, b| a.0.id().cmp(b.0.id()));
        Ok(partial)
    }

    /// `None` when the organization has no member in the tenant (or is not there).
    async fn tenant_organization_figures(
        &self,
        operator: &Operator,
        tenant: &TenantRef,
        organization: &str,
        days_back: u32,
        active_days: u32,
    ) -> ClientResult<Option<OrganizationFigures>> {
        // An administrator's own members come from its admission list; any other organization
        // is read the same way, through the store.
        let members = match operator.organization() {
            Some(_) => self.members(tenant).await,
            None => self
                .store
                .organization_members(tenant, organization)
                .await
                .map(|m| Some(m.unwrap_or_default())),
        }
        .map_err(|e| e.to_client(tenant.id()))?
        .unwrap_or_default();
        if members.is_empty() {
            return Ok(None);
        }
        if members.len() > MAX_MEMBERS {
            return Err(ClientError::bad_input(format!(
                "the organization has {} members in tenant {}; its figures are worked out for at most {MAX_MEMBERS}",
                members.len(),
                tenant.id()
            ))
            .for_tenant(tenant.id().to_string()));
        }
        let ids: Vec<Arc<str>> = members.iter().cloned().collect();
        self.store
            .organization_figures(tenant, &ids, days_back, active_days)
            .await
            .map(Some)
            .map_err(|e| e.to_client(tenant.id()))
    }
}
