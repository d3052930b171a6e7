//! Accounts by email: which user ids hold an email in a tenant, cached for `cache.email_ttl`.
//!
//! Emails are compared case-insensitively, as Auth0's search compares them (database
//! connections store them lower-cased; social and enterprise ones keep the provider's case).
//! So the emails of one tenant, one or many, are read with one search `email:("…" OR "…")` per
//! chunk. Auth0's `GET /users-by-email` is consistent but compares case-sensitively: for emails
//! written through this gateway lately it is asked too (so a fresh write is never hidden by the
//! search index's lag), once per spelling known (the lower-cased one and each one written),
//! beside the search, which finds the accounts holding the address in another spelling.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::join_all;

use super::any_of::{FIELD_OVERHEAD, MAX_QUERY_BYTES, any_of, chunk_by_length};
use super::{Store, TenantRef, TenantResult};
use crate::keys::{EmailKey, UserKey};
use crate::tenant::{MAX_PER_PAGE, Profile, UpstreamError};

/// Emails per batch search: accounts per email are few, so a page of 100 holds them all.
const EMAILS_PER_BATCH: usize = 30;

pub(crate) type Ids = Arc<[Arc<str>]>;

impl Store {
    /// The ids of the accounts holding each email (lower-cased) in one tenant.
    pub(crate) async fn accounts_by_email(
        &self,
        tenant: &TenantRef,
        emails: &[Arc<str>],
    ) -> HashMap<Arc<str>, TenantResult<Ids>> {
        let mut results = HashMap::with_capacity(emails.len());
        let mut singles = Vec::new();
        let mut batched = Vec::new();
        for email in emails {
            let key: EmailKey = (tenant.id().clone(), email.clone());
            if results.contains_key(email) {
                continue;
            }
            if let Some(ids) = self.caches.emails.get(&key).await {
                self.metrics().cache_lookup("emails", true);
                results.insert(email.clone(), Ok(ids));
                continue;
            }
            self.metrics().cache_lookup("emails", false);
            match self.caches.recent_email_writes.get(&key).await {
                Some(spellings) => singles.push((email.clone(), spellings)),
                None => batched.push(email.clone()),
            }
        }
        batched.sort();
        batched.dedup();
        let single_loads = singles.into_iter().map(|(email, spellings)| async move {
            let key: EmailKey = (tenant.id().clone(), email.clone());
            let result = self
                .caches
                .emails
                .try_get_with(key, self.load_single(tenant, &email, &spellings))
                .await
                .map_err(Arc::unwrap_or_clone);
            (email, result)
        });
        let budget = MAX_QUERY_BYTES - FIELD_OVERHEAD;
        let chunks = chunk_by_length(&batched, |email| email, EMAILS_PER_BATCH, budget);
        let batch_loads = chunks
            .into_iter()
            .map(|chunk| self.load_batch(tenant, chunk));
        let (singles, batches) = futures::join!(join_all(single_loads), join_all(batch_loads));
        results.extend(singles);
        for batch in batches {
            results.extend(batch);
        }
        results
    }

    /// The accounts of one email written lately: read consistently under every spelling known,
    /// and searched for the spellings this gateway did not write (a social account keeping the
    /// provider's case); where both answer for an account, the consistent read wins.
    async fn load_single(
        &self,
        tenant: &TenantRef,
        email: &Arc<str>,
        spellings: &[Arc<str>],
    ) -> Result<Ids, UpstreamError> {
        let mut asked: Vec<&str> = vec![email];
        for spelling in spellings {
            if !asked.contains(&&**spelling) {
                asked.push(spelling);
            }
        }
        let client = tenant.client();
        let query = any_of("email", std::slice::from_ref(email));
        let (answers, searched) = futures::try_join!(
            futures::future::try_join_all(
                asked.iter().map(|spelling| client.users_by_email(spelling))
            ),
            client.search(Some(&query), None, 0, MAX_PER_PAGE),
        )?;
        let mut profiles: Vec<Profile> = Vec::new();
        for profile in answers.into_iter().flatten().chain(searched.users) {
            if !profiles.iter().any(|p| p.user_id() == profile.user_id()) {
                profiles.push(profile);
            }
        }
        Ok(self.remember_accounts(tenant.id(), email, profiles).await)
    }

    async fn load_batch(
        &self,
        tenant: &TenantRef,
        emails: &[Arc<str>],
    ) -> Vec<(Arc<str>, TenantResult<Ids>)> {
        let client = tenant.client();
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
            let ids = self.remember_accounts(tenant.id(), email, accounts).await;
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
                self.caches.put_profile(key, Some(profile)).await;
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
