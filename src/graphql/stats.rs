//! `stats`' types: figures per tenant for dashboards, their sums, and which tenants are missing
//! from them.

use std::collections::BTreeMap;

use async_graphql::{ID, SimpleObject};

use super::scalars::Date;
use super::types::Tenant;
use crate::scope::{Figures, Partial, TenantFiguresView};
use crate::store::Day;

#[derive(SimpleObject)]
pub(crate) struct Stats {
    /// One entry per tenant that answered, ordered by tenant id.
    pub(crate) tenants: Vec<TenantStats>,
    pub(crate) users: i32,
    pub(crate) blocked_users: i32,
    pub(crate) unverified_users: i32,
    pub(crate) active_users: i32,
    /// The tenants' daily figures summed, oldest first.
    pub(crate) daily: Vec<DailyStat>,
    /// True when a tenant asked for could not be read: the sums then lack it.
    pub(crate) partial: bool,
    /// The tenants missing from the figures (each also has an error naming it).
    pub(crate) failed_tenants: Vec<ID>,
}

#[derive(SimpleObject)]
pub(crate) struct TenantStats {
    pub(crate) tenant: Tenant,
    pub(crate) users: i32,
    pub(crate) blocked_users: i32,
    pub(crate) unverified_users: i32,
    /// Users who logged in during the last 30 days (Auth0's active-users figure).
    pub(crate) active_users: i32,
    /// The last `days` days, oldest first.
    pub(crate) daily: Vec<DailyStat>,
}

#[derive(SimpleObject)]
pub(crate) struct DailyStat {
    pub(crate) date: Date,
    pub(crate) logins: i32,
    pub(crate) signups: i32,
}

fn int(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}

fn daily(days: &[Day]) -> Vec<DailyStat> {
    days.iter()
        .map(|d| DailyStat {
            date: Date(d.date),
            logins: int(d.logins),
            signups: int(d.signups),
        })
        .collect()
}

fn tenant_stats(view: &TenantFiguresView) -> TenantStats {
    let figures = &view.figures;
    TenantStats {
        tenant: Tenant(view.tenant.clone()),
        users: int(figures.users),
        blocked_users: int(figures.blocked_users),
        unverified_users: int(figures.unverified_users),
        active_users: int(figures.active_users),
        daily: daily(&figures.daily),
    }
}

impl Stats {
    pub(crate) fn new(found: Partial<Figures>) -> Self {
        let mut sums = [0u64; 4];
        let mut by_date: BTreeMap<chrono::NaiveDate, (i64, i64)> = BTreeMap::new();
        for view in &found.value.tenants {
            let f = &view.figures;
            for (sum, value) in
                sums.iter_mut()
                    .zip([f.users, f.blocked_users, f.unverified_users, f.active_users])
            {
                *sum = sum.saturating_add(value);
            }
            for day in &f.daily {
                let entry = by_date.entry(day.date).or_default();
                entry.0 = entry.0.saturating_add(day.logins);
                entry.1 = entry.1.saturating_add(day.signups);
            }
        }
        let summed: Vec<Day> = by_date
            .into_iter()
            .map(|(date, (logins, signups))| Day {
                date,
                logins,
                signups,
            })
            .collect();
        let mut failed: Vec<ID> = found
            .failures
            .iter()
            .filter_map(|e| e.tenant.clone().map(ID))
            .collect();
        failed.sort_by(|a, b| a.0.cmp(&b.0));
        failed.dedup();
        Self {
            tenants: found.value.tenants.iter().map(tenant_stats).collect(),
            users: int(sums[0]),
            blocked_users: int(sums[1]),
            unverified_users: int(sums[2]),
            active_users: int(sums[3]),
            daily: daily(&summed),
            partial: !failed.is_empty(),
            failed_tenants: failed,
        }
    }
}
