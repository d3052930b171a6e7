//! What search sees: each user as of its newest write older than the search lag (Auth0's
//! eventually consistent index), reached by scan or, for exact ids and emails, by hash index.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Store, UserRecord};

impl UserRecord {
    /// The version the search index holds at `now`: `None` if not yet created or already deleted.
    fn visible(&self, now: Instant, lag: Duration) -> Option<&Arc<Value>> {
        match self.pending.iter().rev().find(|(at, _)| *at + lag <= now) {
            Some((_, version)) => version.as_ref(),
            None => self.indexed.as_ref(),
        }
    }
}

impl Store {
    /// Every user search sees, in `user_id` order.
    pub fn search_all(&self, now: Instant) -> impl Iterator<Item = &Arc<Value>> {
        let lag = self.search_lag;
        self.order
            .iter()
            .filter_map(move |id| self.users.get(id).and_then(|r| r.visible(now, lag)))
    }

    /// The users search sees among these exact ids (each at most once).
    pub fn search_ids(&self, ids: &[String], now: Instant) -> Vec<&Arc<Value>> {
        let mut seen = HashSet::with_capacity(ids.len());
        ids.iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| self.users.get(id.as_str()))
            .filter_map(|r| r.visible(now, self.search_lag))
            .collect()
    }

    /// Candidates for a search on these (lower-cased) emails: the current holders plus every
    /// user whose index entry lags, because search may still see an old email of theirs.
    /// The caller applies the full filter to each.
    pub fn search_emails(&self, emails: &[String], now: Instant) -> Vec<&Arc<Value>> {
        let mut seen: HashSet<&str> = HashSet::new();
        let lagging = self.lagging.iter();
        emails
            .iter()
            .filter_map(|email| self.by_email.get(email.as_str()))
            .flatten()
            .chain(lagging)
            .filter(|id| seen.insert(id))
            .filter_map(|id| self.users.get(id))
            .filter_map(|r| r.visible(now, self.search_lag))
            .collect()
    }
}
