//! Dashboard figures: per tenant in reach, and their sums. Tenant-wide figures are for
//! operators with `read:stats` over whole tenants: a delegated administrator's reach is its
//! organization, and tenant-wide counts would say more than that.

use std::sync::Arc;

use futures::future::join_all;

use super::{Partial, Scope};
use crate::auth::Permission;
use crate::error::{ClientError, ClientResult};
use crate::store::{TenantFigures, TenantRef};

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

impl Scope {
    pub(crate) async fn figures(
        &self,
        tenants: Option<&[String]>,
        days: i32,
    ) -> ClientResult<Partial<Figures>> {
        let operator = self.operator_with(Permission::ReadStats)?;
        if operator.organization().is_some() {
            return Err(ClientError::forbidden(
                "tenant-wide figures are not shown to an organization's administrators",
            ));
        }
        let days = u32::try_from(days)
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| ClientError::bad_input("stats(days:) must be between 1 and 365"))?;
        let selected = self.select(tenants)?;
        let answers = join_all(selected.iter().map(|t| self.store.figures(t, days))).await;
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
}
