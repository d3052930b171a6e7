//! What the scope hands out: users as one caller may see them. A [`UserView`] is made only by
//! the scope, for a user in the caller's reach, and shows each field only through
//! [`UserView::read`], which consults the visibility table; nothing else of the profile is
//! reachable from it.

use super::fields::{Sight, UserField};
use crate::error::ClientResult;
use crate::keys::UserKey;
use crate::store::TenantRef;
use crate::tenant::Profile;
use crate::tenant::model::BruteForceBlock;

/// A user in the caller's reach, shown as the caller may see it.
#[derive(Debug, Clone)]
pub(crate) struct UserView {
    tenant: TenantRef,
    profile: Profile,
    sight: Sight,
}

impl UserView {
    pub(super) fn new(tenant: TenantRef, profile: Profile, sight: Sight) -> Self {
        Self {
            tenant,
            profile,
            sight,
        }
    }

    /// The Auth0 user id: shown to whoever holds the view.
    pub(crate) fn id(&self) -> &str {
        self.profile.user_id()
    }

    pub(crate) fn tenant(&self) -> &TenantRef {
        &self.tenant
    }

    pub(crate) fn key(&self) -> UserKey {
        UserKey::new(self.tenant.id(), self.profile.user_id())
    }

    /// One field of the profile, when the caller may see it; FORBIDDEN (saying what it takes)
    /// when not.
    pub(crate) fn read<'a, T>(
        &'a self,
        field: UserField,
        get: impl FnOnce(&'a Profile) -> T,
    ) -> ClientResult<T> {
        self.sight.check(field)?;
        Ok(get(&self.profile))
    }

    /// A nullable field that is simply absent (null, no error) for callers who may not see it,
    /// as the schema documents for `appMetadata`, `lastIp` and `termsAccepted`
    /// ([`UserField::hidden_as_null`]).
    pub(crate) fn read_or_none<'a, T>(
        &'a self,
        field: UserField,
        get: impl FnOnce(&'a Profile) -> Option<T>,
    ) -> Option<T> {
        debug_assert!(field.hidden_as_null(), "{field:?} is FORBIDDEN when hidden");
        if self.sight.sees(field) {
            get(&self.profile)
        } else {
            None
        }
    }

    pub(super) fn profile(&self) -> &Profile {
        &self.profile
    }
}

/// A brute-force block as the caller may see it: the address only with `read:logs`.
#[derive(Debug, Clone)]
pub(crate) struct BlockView {
    pub(crate) identifier: String,
    pub(crate) ip: Option<String>,
    pub(crate) connection: Option<String>,
}

impl BlockView {
    pub(super) fn new(block: BruteForceBlock, sight: Sight) -> Self {
        Self {
            identifier: block.identifier,
            ip: block
                .ip
                .filter(|_| sight.sees(UserField::BruteForceBlockIp)),
            connection: block.connection,
        }
    }
}

/// The person behind a verified email: the accounts that verified it.
#[derive(Debug, Clone)]
pub(crate) struct PersonView {
    pub(crate) email: String,
    /// Ordered by tenant id.
    pub(crate) accounts: Vec<UserView>,
}

impl PersonView {
    /// The display name of the most recently updated account.
    pub(crate) fn name(&self) -> Option<&str> {
        self.accounts
            .iter()
            .max_by(|a, b| a.profile.updated_at().cmp(&b.profile.updated_at()))
            .and_then(|u| u.profile.name())
    }
}
