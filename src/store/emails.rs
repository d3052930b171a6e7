//! Accounts by email: which user ids hold an email in a tenant, cached for `cache.email_ttl`.
//!
//! One email in one tenant is read with `GET /users-by-email` (consistent). Several emails of one
//! tenant at once (a page of users asking for their linked accounts) are read with one search
//! `email:("…" OR "…")` per chunk; emails written through this gateway lately still go one by
//! one, so a fresh write is never hidden by the search index's lag.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::join_all;

use super::any_of::{FIELD_OVERHEAD, MAX_QUERY_BYTES, any_of, chunk_by_length};
use super::{Store, TenantResult};
use crate::cache::{EmailKey, UserKey};
use crate::tenant::client::MAX_PER_PAGE;
use crate::tenant::model::Profile;
use crate::tenant::{TenantClient, UpstreamError};

/// Emails per batch search: accounts per email are few, so a page of 100 holds them all.
const EMAILS_PER_BATCH: usize = 30;

type Ids = Arc<[Arc<str>]>;

impl Store {
    /// The ids of the accounts holding each email (lower-cased) in one tenant.
    pub async fn accounts_by_email(
        &self,
        client: &Arc<TenantClient>,
        emails: &[Arc<str>],
    ) -> HashMap<Arc<str>, TenantResult<Ids>> {
        let mut results = HashMap::with_capacity(emails.len());
        let mut singles = Vec::new();
        let mut batched = Vec::new();
        for email in emails {
            let key: EmailKey = (client.id.clone(), email.clone());
            if results.contains_key(email) {
                continue;
            }
            if let Some(ids) = self.caches.emails.get(&key).await {
                self.caches.metrics().cache_lookup("emails", true);
                results.insert(email.clone(), Ok(ids));
                continue;
            }
            self.caches.metrics().cache_lookup("emails", false);
            if self.caches.recent_email_writes.contains_key(&key) {
                singles.push(email.clone());
            } else {
                batched.push(email.clone());
            }
        }
        batched.sort();
        batched.dedup();
        if batched.len() == 1 {
            singles.append(&mut batched);
        }
        let single_loads = singles.into_iter().map(|email| async move {
            let key: EmailKey = (client.id.clone(), email.clone());
            let result = self
                .caches
                .emails
                .try_get_with(key, self.load_single(client, &email))
                .await
                .map_err(Arc::unwrap_or_clone);
            (email, result)
        });
        let budget = MAX_QUERY_BYTES - FIELD_OVERHEAD;
        let chunks = chunk_by_length(&batched, |email| email, EMAILS_PER_BATCH, budget);
        let batch_loads = chunks
            .into_iter()
            .map(|chunk| self.load_batch(client, chunk));
        let (singles, batches) = futures::join!(join_all(single_loads), join_all(batch_loads));
        results.extend(singles);
        for batch in batches {
            results.extend(batch);
        }
        results
    }

    async fn load_single(
        &self,
        client: &TenantClient,
        email: &Arc<str>,
    ) -> Result<Ids, UpstreamError> {
        let profiles = client.users_by_email(email).await?;
        Ok(self.remember_accounts(&client.id, email, profiles).await)
    }

    async fn load_batch(
        &self,
        client: &TenantClient,
        emails: &[Arc<str>],
    ) -> Vec<(Arc<str>, TenantResult<Ids>)> {
        let query = any_of("email", emails);
        let mut profiles = Vec::new();
        let mut page = 0;
        loop {
            match client.search(Some(&query), None, page, MAX_PER_PAGE).await {
                Ok(answer) => {
                    let got = answer.users.len();
                    profiles.extend(answer.users);
                    if got < MAX_PER_PAGE as usize || profiles.len() as u64 >= answer.total {
                        break;
                    }
                    page += 1;
                }
                Err(error) => {
                    return emails
                        .iter()
                        .map(|e| (e.clone(), Err(error.clone())))
                        .collect();
                }
            }
        }
        let mut by_email: HashMap<Arc<str>, Vec<Profile>> = HashMap::new();
        for profile in profiles {
            if let Some(email) = profile.email_key() {
                by_email.entry(Arc::from(email)).or_default().push(profile);
            }
        }
        let mut results = Vec::with_capacity(emails.len());
        for email in emails {
            let accounts = by_email.remove(email).unwrap_or_default();
            let ids = self.remember_accounts(&client.id, email, accounts).await;
            results.push((email.clone(), Ok(ids)));
        }
        results
    }

    /// Caches the accounts of one email (and their profiles, unless written here lately: a
    /// search answer may predate the write).
    async fn remember_accounts(
        &self,
        tenant: &Arc<str>,
        email: &Arc<str>,
        profiles: Vec<Profile>,
    ) -> Ids {
        let mut ids: Vec<Arc<str>> = Vec::with_capacity(profiles.len());
        for profile in profiles {
            let key = UserKey::new(tenant, profile.user_id());
            ids.push(key.id.clone());
            if !self.caches.recent_writes.contains_key(&key) {
                self.caches.put_profile(key, Some(Arc::new(profile))).await;
            }
        }
        ids.sort();
        let ids: Ids = ids.into();
        self.caches
            .emails
            .insert((tenant.clone(), email.clone()), ids.clone())
            .await;
        ids
    }
}
