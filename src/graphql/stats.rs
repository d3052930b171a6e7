//! `stats`: figures per tenant for dashboards, and their sums.

use async_graphql::{Context, ID, SimpleObject};
use futures::future::join_all;

use super::context::{ReadScope, caller, report, services};
use super::scalars::Date;
use super::types::Tenant;
use crate::auth::Permission;
use crate::error::{ClientError, ClientResult};
use crate::store::figures::TenantFigures;

#[derive(SimpleObject)]
pub struct Stats {
    /// One entry per tenant that answered, ordered by tenant id.
    pub tenants: Vec<TenantStats>,
    pub users: i32,
    pub blocked_users: i32,
    pub unverified_users: i32,
    pub active_users: i32,
}

#[derive(SimpleObject)]
pub struct TenantStats {
    pub tenant: Tenant,
    pub users: i32,
    pub blocked_users: i32,
    pub unverified_users: i32,
    /// Users who logged in during the last 30 days.
    pub active_users: i32,
    /// The last `days` days, oldest first.
    pub daily: Vec<DailyStat>,
}

#[derive(SimpleObject)]
pub struct DailyStat {
    pub date: Date,
    pub logins: i32,
    pub signups: i32,
}

fn int(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}

fn tenant_stats(tenant: Tenant, figures: &TenantFigures) -> TenantStats {
    TenantStats {
        tenant,
        users: int(figures.users),
        blocked_users: int(figures.blocked_users),
        unverified_users: int(figures.unverified_users),
        active_users: int(figures.active_users),
        daily: figures
            .daily
            .iter()
            .map(|d| DailyStat {
                date: Date(d.date),
                logins: int(d.logins),
                signups: int(d.signups),
            })
            .collect(),
    }
}

pub async fn stats(ctx: &Context<'_>, tenants: Option<Vec<ID>>, days: i32) -> ClientResult<Stats> {
    let operator = caller(ctx).operator_with(Permission::ReadStats)?;
    if operator.organization.is_some() {
        return Err(ClientError::forbidden(
            "tenant-wide figures are not available to organization administrators",
        ));
    }
    let days = u32::try_from(days)
        .ok()
        .filter(|d| (1..=365).contains(d))
        .ok_or_else(|| ClientError::bad_input("stats(days:) must be between 1 and 365"))?;
    let scope = ReadScope {
        operator,
        store: &services(ctx).store,
    };
    let mut selected = scope.select(tenants.as_deref())?;
    selected.sort_by(|a, b| a.id.cmp(&b.id));
    let store = &services(ctx).store;
    let figures = join_all(selected.iter().map(|tenant| store.figures(tenant, days))).await;
    let mut stats = Stats {
        tenants: Vec::new(),
        users: 0,
        blocked_users: 0,
        unverified_users: 0,
        active_users: 0,
    };
    let mut sums = [0u64; 4];
    for (tenant, result) in selected.into_iter().zip(figures) {
        match result {
            Ok(figures) => {
                sums[0] += figures.users;
                sums[1] += figures.blocked_users;
                sums[2] += figures.unverified_users;
                sums[3] += figures.active_users;
                stats
                    .tenants
                    .push(tenant_stats(Tenant(tenant.clone()), &figures));
            }
            Err(error) => report(ctx, &tenant.id, &error),
        }
    }
    stats.users = int(sums[0]);
    stats.blocked_users = int(sums[1]);
    stats.unverified_users = int(sums[2]);
    stats.active_users = int(sums[3]);
    Ok(stats)
}
