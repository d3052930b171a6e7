//! The numbers behind `stats`, per tenant, cached for `cache.stats_ttl`: user counts from
//! counting searches, active users and daily logins and signups from the stats endpoints.

use std::sync::Arc;

use chrono::{Days, NaiveDate, Utc};

use super::{Store, TenantRef, TenantResult};

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

impl Store {
    pub(crate) async fn figures(
        &self,
        tenant: &TenantRef,
        days: u32,
    ) -> TenantResult<Arc<TenantFigures>> {
        let client = tenant.client();
        let key = (tenant.id().clone(), days);
        let load = async {
            let today = Utc::now().date_naive();
            let first = today
                .checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
                .unwrap_or(today);
            let (from, to) = (
                first.format("%Y%m%d").to_string(),
                today.format("%Y%m%d").to_string(),
            );
            let (users, blocked_users, unverified_users, active_users, daily) = futures::try_join!(
                client.count(None),
                client.count(Some("blocked:true")),
                client.count(Some("email_verified:false")),
                client.active_users(),
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
