//! Request counts by route template, so tests can prove how many upstream calls a client made.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// `GET /__emulator/stats`: every Authentication and Management API request, keyed
/// `"METHOD /route/{template}"`; control API calls are not counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub total: u64,
    pub routes: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct RequestStats {
    inner: Mutex<Stats>,
}

impl RequestStats {
    pub fn count(&self, method: &str, template: &str) {
        let mut stats = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        stats.total += 1;
        let key = format!("{method} {template}");
        *stats.routes.entry(key).or_default() += 1;
    }

    pub fn snapshot(&self) -> Stats {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn reset(&self) {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner) = Stats::default();
    }
}
