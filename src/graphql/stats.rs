//! `stats`' types: figures per tenant for dashboards, their sums, and which tenants are missing
//! from them.

use std::collections::BTreeMap;

use async_graphql::{ID, SimpleObject};

use super::scalars::Date;
use super::types::Tenant;
use crate::scope::{Figures, OrganizationFiguresView, Partial, TenantFiguresView};
use crate::store::{Day, OrganizationFigures};

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
    /// Users who logged in during the last `activeDays` days.
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
        let failed = failed(&found.failures);
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

/// One organization's figures, per tenant and summed.
#[derive(SimpleObject)]
pub(crate) struct OrganizationStats {
    pub(crate) organization: ID,
    /// One entry per tenant where the organization has members, ordered by tenant id.
    pub(crate) tenants: Vec<OrganizationTenantStats>,
    pub(crate) users: i32,
    pub(crate) blocked_users: i32,
    pub(crate) unverified_users: i32,
    pub(crate) active_users: i32,
    /// Sign-ups per day, summed, oldest first.
    pub(crate) daily: Vec<DailySignups>,
    /// True when a tenant could not be read: the sums then lack it.
    pub(crate) partial: bool,
    pub(crate) failed_tenants: Vec<ID>,
}

#[derive(SimpleObject)]
pub(crate) struct OrganizationTenantStats {
    pub(crate) tenant: Tenant,
    pub(crate) users: i32,
    pub(crate) blocked_users: i32,
    pub(crate) unverified_users: i32,
    /// Members who logged in during the last `activeDays` days.
    pub(crate) active_users: i32,
    /// The last `days` days, oldest first.
    pub(crate) daily: Vec<DailySignups>,
}

#[derive(SimpleObject)]
pub(crate) struct DailySignups {
    pub(crate) date: Date,
    pub(crate) signups: i32,
}

fn signups(days: &[(chrono::NaiveDate, u64)]) -> Vec<DailySignups> {
    days.iter()
        .map(|(date, signups)| DailySignups {
            date: Date(*date),
            signups: int(*signups),
        })
        .collect()
}

/// The tenants named by failures, once each, ordered.
fn failed(failures: &[crate::error::ClientError]) -> Vec<ID> {
    let mut failed: Vec<ID> = failures
        .iter()
        .filter_map(|e| e.tenant.clone().map(ID))
        .collect();
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    failed.dedup();
    failed
}

impl OrganizationStats {
    pub(crate) fn new(found: Partial<OrganizationFiguresView>) -> Self {
        let mut sums = [0u64; 4];
        let mut by_date: BTreeMap<chrono::NaiveDate, u64> = BTreeMap::new();
        let mut tenants = Vec::new();
        for (tenant, figures) in &found.value.tenants {
            let OrganizationFigures {
                users,
                blocked_users,
                unverified_users,
                active_users,
                daily_signups,
            } = figures;
            for (sum, value) in
                sums.iter_mut()
                    .zip([*users, *blocked_users, *unverified_users, *active_users])
            {
                *sum = sum.saturating_add(value);
            }
            for (date, count) in daily_signups {
                *by_date.entry(*date).or_default() += count;
            }
            tenants.push(OrganizationTenantStats {
                tenant: Tenant(tenant.clone()),
                users: int(*users),
                blocked_users: int(*blocked_users),
                unverified_users: int(*unverified_users),
                active_users: int(*active_users),
                daily: signups(daily_signups),
            });
        }
        let summed: Vec<(chrono::NaiveDate, u64)> = by_date.into_iter().collect();
        let failed_tenants = failed(&found.failures);
        Self {
            organization: ID(found.value.organization),
            tenants,
            users: int(sums[0]),
            blocked_users: int(sums[1]),
            unverified_users: int(sums[2]),
            active_users: int(sums[3]),
            daily: signups(&summed),
            partial: !failed_tenants.is_empty(),
            failed_tenants,
        }
    }
}
