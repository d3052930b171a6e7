//! The keys every layer shares: a user is its tenant and its Auth0 id; an entry of the email
//! index is a tenant and a lower-cased email.

use std::sync::Arc;

/// A user's key everywhere: its tenant and its Auth0 id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct UserKey {
    pub(crate) tenant: Arc<str>,
    pub(crate) id: Arc<str>,
}

impl UserKey {
    pub(crate) fn new(tenant: &Arc<str>, id: &str) -> Self {
        Self {
            tenant: tenant.clone(),
            id: Arc::from(id),
        }
    }
}

/// (tenant, lower-cased email).
pub(crate) type EmailKey = (Arc<str>, Arc<str>);

/// (tenant, organization id).
pub(crate) type OrganizationKey = (Arc<str>, Arc<str>);
