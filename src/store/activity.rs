//! What a user did and what Auth0 did about it: log events and brute-force blocks. Read
//! through, never cached: both change with every login attempt, and Auth0 has no batch
//! endpoint for either (one call per user, which the scope bounds per request).

use super::{Store, TenantRef, TenantResult};
use crate::tenant::model::{BruteForceBlock, LogEvent};

impl Store {
    /// The newest `count` (1 to 100) log events of a user, newest first.
    pub(crate) async fn user_logs(
        &self,
        tenant: &TenantRef,
        id: &str,
        count: u32,
    ) -> TenantResult<Vec<LogEvent>> {
        tenant.client().user_logs(id, count).await
    }

    /// The brute-force blocks Auth0 holds against a user.
    pub(crate) async fn user_blocks(
        &self,
        tenant: &TenantRef,
        id: &str,
    ) -> TenantResult<Vec<BruteForceBlock>> {
        tenant.client().user_blocks(id).await
    }
}
