//! Who calls the Management API (a verified token's scopes and application), and the cache of
//! verified tokens the tenant's state keeps.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::errors::ApiError;

/// Verifying RS256 on every call would cost more than the rest of a get-by-id, so verified
/// tokens are remembered (by their exact text) until they expire or the keys change.
#[derive(Default)]
pub struct TokenCache {
    verified: RwLock<HashMap<String, Arc<Caller>>>,
}

/// Above this many entries the cache starts over rather than tracking ages.
const TOKEN_CACHE_LIMIT: usize = 4096;

impl TokenCache {
    pub(crate) fn get(&self, token: &str) -> Option<Arc<Caller>> {
        self.verified
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    pub(crate) fn put(&self, token: &str, caller: Arc<Caller>) {
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= TOKEN_CACHE_LIMIT {
            verified.clear();
        }
        verified.insert(token.to_owned(), caller);
    }

    /// Forgets every verification (after a key is retired).
    pub fn clear(&self) {
        self.verified
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Who is calling the Management API, from a verified token.
#[derive(Debug)]
pub struct Caller {
    pub scopes: Vec<String>,
    /// `azp` (or `sub` without `@clients`): the application named in `sapi` logs.
    pub client_id: String,
    /// The token's `iss`: a token is only good on the domain that issued it.
    pub(crate) issuer: String,
    pub(crate) exp: i64,
    pub(crate) nbf: Option<i64>,
}

impl Caller {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// 403 `insufficient_scope` unless the token holds one of `any_of`.
    pub fn require(&self, any_of: &[&str]) -> Result<(), ApiError> {
        if any_of.iter().any(|s| self.has(s)) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(any_of))
        }
    }
}
