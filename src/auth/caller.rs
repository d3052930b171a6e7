//! Who is calling: an end user of one tenant, or an operator with permissions and a reach.
//! Built only by the verifier, from a verified token: the fields are private, so nothing else
//! can make a caller up.

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::Arc;

/// The permissions of an operator (Auth0 RBAC names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    ReadUsers,
    ReadUsersAppMetadata,
    ReadLogs,
    ReadStats,
    CreateUsers,
    UpdateUsers,
    UpdateUsersAppMetadata,
    BlockUsers,
    DeleteUsers,
    ManageGdpr,
    ReadAudit,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Self::ReadUsers,
        Self::ReadUsersAppMetadata,
        Self::ReadLogs,
        Self::ReadStats,
        Self::CreateUsers,
        Self::UpdateUsers,
        Self::UpdateUsersAppMetadata,
        Self::BlockUsers,
        Self::DeleteUsers,
        Self::ManageGdpr,
        Self::ReadAudit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadUsers => "read:users",
            Self::ReadUsersAppMetadata => "read:users_app_metadata",
            Self::ReadLogs => "read:logs",
            Self::ReadStats => "read:stats",
            Self::CreateUsers => "create:users",
            Self::UpdateUsers => "update:users",
            Self::UpdateUsersAppMetadata => "update:users_app_metadata",
            Self::BlockUsers => "block:users",
            Self::DeleteUsers => "delete:users",
            Self::ManageGdpr => "manage:gdpr",
            Self::ReadAudit => "read:audit",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// Which tenants an operator may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    All,
    Only(BTreeSet<String>),
}

impl TenantScope {
    pub fn includes(&self, tenant: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.contains(tenant),
        }
    }
}

/// A person or program of the company, from the operator issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub(super) issuer: String,
    pub(super) subject: String,
    pub(super) permissions: BTreeSet<Permission>,
    pub(super) tenants: TenantScope,
    pub(super) organization: Option<String>,
}

impl Operator {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn permissions(&self) -> &BTreeSet<Permission> {
        &self.permissions
    }

    pub fn tenants(&self) -> &TenantScope {
        &self.tenants
    }

    /// A delegated administrator: only members of this organization are in reach.
    pub fn organization(&self) -> Option<&str> {
        self.organization.as_deref()
    }
}

/// A signed-in user of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndUser {
    pub(super) tenant: Arc<str>,
    pub(super) user_id: String,
    pub(super) issuer: String,
}

impl EndUser {
    pub fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    EndUser(EndUser),
    Operator(Operator),
}

impl Caller {
    /// (issuer, subject): who the caller is, for audit lines and limits.
    pub fn identity(&self) -> (&str, &str) {
        match self {
            Self::EndUser(user) => (&user.issuer, &user.user_id),
            Self::Operator(operator) => (&operator.issuer, &operator.subject),
        }
    }

    /// A hash of the caller's identity: the key of its budgets, never shown.
    pub(crate) fn budget_key(&self, hasher: &impl BuildHasher) -> u64 {
        hasher.hash_one(self.identity())
    }
}

#[cfg(test)]
impl Caller {
    /// An operator over every tenant, as a verified token would make it (unit tests only).
    pub(crate) fn operator_for_tests(
        permissions: &[Permission],
        organization: Option<&str>,
    ) -> Self {
        Self::Operator(Operator {
            issuer: "https://operators.test/".to_owned(),
            subject: "operator|test".to_owned(),
            permissions: permissions.iter().copied().collect(),
            tenants: TenantScope::All,
            organization: organization.map(str::to_owned),
        })
    }

    /// An end user of `tenant` (unit tests only).
    pub(crate) fn end_user_for_tests(tenant: &str, user_id: &str) -> Self {
        Self::EndUser(EndUser {
            tenant: Arc::from(tenant),
            user_id: user_id.to_owned(),
            issuer: format!("https://{tenant}.test/"),
        })
    }
}
