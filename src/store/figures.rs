//! The numbers behind `stats`, per tenant, cached for `cache.stats_ttl`: user counts from
//! counting searches, active users and daily logins and signups from the stats endpoints (or,
//! for an active-user window other than Auth0's 30 days, a count of `last_login` in it).
//! And the numbers of one organization's members, worked out from their profiles: Auth0's
//! figures are tenant-wide only.

use std::sync::Arc;

use chrono::{Days, NaiveDate, Utc};

use super::{Store, TenantRef, TenantResult};
use crate::keys::UserKey;
use crate::tenant::Timestamp;

/// One day of activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Day {
    pub(crate) date: NaiveDate,
    pub(crate) logins: i64,
    pub(crate) signups: i64,
}

/// What a dashboard shows for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TenantFigures {
    pub(crate) users: u64,
    pub(crate) blocked_users: u64,
    pub(crate) unverified_users: u64,
    pub(crate) active_users: u64,
    /// The last `days` days, oldest first, every day present.
    pub(crate) daily: Vec<Day>,
}

/// The window of Auth0's own active-users figure.
const AUTH0_ACTIVE_DAYS: u32 = 30;

/// The first day of the `days` days ending `today`.
fn days_before(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
        .unwrap_or(today)
}

impl Store {
    /// A tenant's figures over the last `days` days, users active in the last `active_days`.
    pub(crate) async fn figures(
        &self,
        tenant: &TenantRef,
        days: u32,
        active_days: u32,
    ) -> TenantResult<Arc<TenantFigures>> {
        let client = tenant.client();
        let key = (tenant.id().clone(), days, active_days);
        let load = async {
            let today = Utc::now().date_naive();
            let first = days_before(today, days);
            let (from, to) = (
                first.format("%Y%m%d").to_string(),
                today.format("%Y%m%d").to_string(),
            );
            let active = async {
                if active_days == AUTH0_ACTIVE_DAYS {
                    client.active_users().await
                } else {
                    let since = days_before(today, active_days).format("%Y-%m-%d");
                    client
                        .count(Some(&format!("last_login:[{since} TO *]")))
                        .await
                }
            };
            let (users, blocked_users, unverified_users, active_users, daily) = futures::try_join!(
                client.count(None),
                client.count(Some("blocked:true")),
                client.count(Some("email_verified:false")),
                active,
                client.daily_stats(&from, &to),
            )?;
            let mut by_date = std::collections::HashMap::new();
            for stat in daily {
                if let Some(date) = stat
                    .date
                    .get(..10)
                    .and_then(|d| d.parse::<NaiveDate>().ok())
                {
                    by_date.insert(date, (stat.logins, stat.signups));
                }
            }
            let daily = first
                .iter_days()
                .take_while(|d| *d <= today)
                .map(|date| {
                    let (logins, signups) = by_date.get(&date).copied().unwrap_or_default();
                    Day {
                        date,
                        logins,
                        signups,
                    }
                })
                .collect();
            Ok(Arc::new(TenantFigures {
                users,
                blocked_users,
                unverified_users,
                active_users,
                daily,
            }))
        };
        self.caches
            .through(&self.caches.figures, "figures", key, load)
            .await
    }
}

/// What a dashboard shows for one organization's members in one tenant. Auth0 counts logins
/// tenant-wide only, so there are no daily logins here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrganizationFigures {
    pub(crate) users: u64,
    pub(crate) blocked_users: u64,
    pub(crate) unverified_users: u64,
    pub(crate) active_users: u64,
    /// Sign-ups per day over the last `days` days, oldest first, every day present.
    pub(crate) daily_signups: Vec<(NaiveDate, u64)>,
}

impl Store {
    /// The figures of `members` of `tenant`, from their profiles (batched, cached).
    pub(crate) async fn organization_figures(
        &self,
        tenant: &TenantRef,
        members: &[Arc<str>],
        days: u32,
        active_days: u32,
    ) -> TenantResult<OrganizationFigures> {
        let keys: Vec<UserKey> = members
            .iter()
            .map(|id| UserKey::new(tenant.id(), id))
            .collect();
        let loaded = self.profiles(&keys).await;
        let today = Utc::now().date_naive();
        let first = days_before(today, days);
        let active_since = days_before(today, active_days);
        let mut figures = OrganizationFigures {
            users: 0,
            blocked_users: 0,
            unverified_users: 0,
            active_users: 0,
            daily_signups: Vec::new(),
        };
        let mut signups: std::collections::HashMap<NaiveDate, u64> = Default::default();
        for result in loaded.profiles.into_values() {
            let Some(profile) = result? else { continue };
            figures.users += 1;
            figures.blocked_users += u64::from(profile.blocked());
            figures.unverified_users += u64::from(!profile.email_verified());
            let day = |at: Option<Timestamp<'_>>| {
                at.and_then(|t| t.with_text(|t| t.get(..10)?.parse::<NaiveDate>().ok()))
            };
            if day(profile.last_login()).is_some_and(|d| d >= active_since) {
                figures.active_users += 1;
            }
            if let Some(created) = day(profile.created_at()).filter(|d| *d >= first) {
                *signups.entry(created).or_default() += 1;
            }
        }
        figures.daily_signups = first
            .iter_days()
            .take_while(|d| *d <= today)
            .map(|date| (date, signups.get(&date).copied().unwrap_or(0)))
            .collect();
        Ok(figures)
    }
}
