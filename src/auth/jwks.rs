//! The signing keys of one issuer: fetched from its JWKS, cached, refreshed when a token names
//! an unknown `kid` (at most once per `jwks_min_refresh`, so junk tokens cannot make us hammer
//! the issuer) and when the set is older than `jwks_max_age`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Why no key could be found for a token.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("the token's signing key is unknown")]
    UnknownKey,
    #[error("the issuer's keys could not be fetched")]
    Unreachable,
}

struct KeySet {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched: Instant,
}

pub(crate) struct Jwks {
    url: String,
    http: reqwest::Client,
    min_refresh: Duration,
    max_age: Duration,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Bumped whenever a fetched set replaces the current one, so tokens verified with an
    /// older set are checked again.
    generation: AtomicU64,
    /// Held while fetching; also remembers when the last fetch started.
    fetching: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Jwks {
    pub(crate) fn new(
        url: String,
        http: reqwest::Client,
        min_refresh: Duration,
        max_age: Duration,
    ) -> Self {
        Self {
            url,
            http,
            min_refresh,
            max_age,
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
            fetching: Mutex::new(None),
        }
    }

    /// Which key set is current: changes whenever a new set is fetched.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether the key set in hand is younger than `max_age` (tokens verified with it may be
    /// trusted without fetching it again).
    pub(crate) fn is_fresh(&self) -> bool {
        self.cached()
            .is_some_and(|set| set.fetched.elapsed() < self.max_age)
    }

    fn cached(&self) -> Option<Arc<KeySet>> {
        self.current.read().ok()?.clone()
    }

    /// The key with this `kid`.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, KeyError> {
        if let Some(set) = self.cached()
            && set.fetched.elapsed() < self.max_age
            && let Some(key) = set.keys.get(kid)
        {
            return Ok(key.clone());
        }
        let mut last_fetch = self.fetching.lock().await;
        // Someone else may have fetched while we waited.
        let cached = self.cached();
        if let Some(set) = &cached
            && set.fetched.elapsed() < self.max_age
            && let Some(key) = set.keys.get(kid)
        {
            return Ok(key.clone());
        }
        let stale = cached
            .as_ref()
            .is_none_or(|set| set.fetched.elapsed() >= self.max_age);
        let may_refresh = last_fetch.is_none_or(|at| at.elapsed() >= self.min_refresh);
        if !stale && !may_refresh {
            return Err(KeyError::UnknownKey);
        }
        *last_fetch = Some(Instant::now());
        match self.fetch().await {
            Ok(set) => {
                let set = Arc::new(set);
                if let Ok(mut current) = self.current.write() {
                    *current = Some(set.clone());
                }
                self.generation.fetch_add(1, Ordering::AcqRel);
                set.keys.get(kid).cloned().ok_or(KeyError::UnknownKey)
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "fetching signing keys failed");
                // Keep using a stale set rather than refusing every caller.
                cached
                    .and_then(|set| set.keys.get(kid).cloned())
                    .ok_or(KeyError::Unreachable)
            }
        }
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let response = self
            .http
            .get(&self.url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let set: JwkSet = response.json().await.map_err(|e| e.to_string())?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            // Only RSA signing keys for RS256 are of use; anything else is skipped, not trusted.
            let rsa = matches!(jwk.algorithm, AlgorithmParameters::RSA(_));
            let alg_ok = jwk
                .common
                .key_algorithm
                .is_none_or(|a| a == KeyAlgorithm::RS256);
            let (Some(kid), true, true) = (&jwk.common.key_id, rsa, alg_ok) else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid.clone(), Arc::new(key));
            }
        }
        Ok(KeySet {
            keys,
            fetched: Instant::now(),
        })
    }
}
