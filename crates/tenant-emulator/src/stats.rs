//! Request counts by route template, so tests can prove how many upstream calls a client made,
//! and the most recent requests with their `x-request-id`, so they can prove what it sent.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// `GET /__emulator/stats`: every Authentication and Management API request, keyed
/// `"METHOD /route/{template}"`; control API calls are not counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub total: u64,
    pub routes: BTreeMap<String, u64>,
}

/// One request as `GET /__emulator/requests` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `"METHOD /route/{template}"`, as in [`Stats::routes`].
    pub route: String,
    /// The `x-request-id` header the client sent, if any.
    pub request_id: Option<String>,
}

/// How many recent requests are kept.
const RECENT: usize = 1000;

#[derive(Default)]
pub struct RequestStats {
    inner: Mutex<Stats>,
    recent: Mutex<VecDeque<RecordedRequest>>,
}

impl RequestStats {
    pub fn count(&self, method: &str, template: &str, request_id: Option<&str>) {
        let key = format!("{method} {template}");
        {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(RecordedRequest {
                route: key.clone(),
                request_id: request_id.map(str::to_owned),
            });
        }
        let mut stats = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        stats.total += 1;
        *stats.routes.entry(key).or_default() += 1;
    }

    /// The last requests (at most 1000), oldest first.
    pub fn recent(&self) -> Vec<RecordedRequest> {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    pub fn snapshot(&self) -> Stats {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn reset(&self) {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner) = Stats::default();
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
