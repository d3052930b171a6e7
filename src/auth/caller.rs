//! Who is calling: an end user of one tenant, an operator with permissions and a scope, or
//! nobody. Built only from a verified token.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::error::{ClientError, ClientResult};

/// The permissions of DESIGN.md "Callers and permissions" (Auth0 RBAC names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
}

impl Permission {
    pub const ALL: [Permission; 10] = [
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
    pub issuer: String,
    pub subject: String,
    pub permissions: BTreeSet<Permission>,
    pub tenants: TenantScope,
    /// A delegated administrator: only members of this organization are in reach.
    pub organization: Option<String>,
}

impl Operator {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

/// A signed-in user of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndUser {
    pub tenant: Arc<str>,
    pub user_id: String,
    pub issuer: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    EndUser(EndUser),
    Operator(Operator),
}

impl Caller {
    /// The operator, if it holds `permission`; the error says what is missing otherwise.
    pub fn operator_with(&self, permission: Permission) -> ClientResult<&Operator> {
        match self {
            Self::Anonymous => Err(ClientError::unauthenticated("a bearer token is required")),
            Self::EndUser(_) => Err(ClientError::forbidden(format!(
                "this needs an operator token with {}",
                permission.as_str()
            ))),
            Self::Operator(operator) if operator.has(permission) => Ok(operator),
            Self::Operator(_) => Err(ClientError::forbidden(format!(
                "this needs the permission {}",
                permission.as_str()
            ))),
        }
    }

    /// The signed-in end user; operators and anonymous callers are refused.
    pub fn end_user(&self) -> ClientResult<&EndUser> {
        match self {
            Self::Anonymous => Err(ClientError::unauthenticated("a bearer token is required")),
            Self::EndUser(user) => Ok(user),
            Self::Operator(_) => Err(ClientError::forbidden(
                "this is for signed-in end users only",
            )),
        }
    }

    /// Any authenticated caller.
    pub fn authenticated(&self) -> ClientResult<&Self> {
        match self {
            Self::Anonymous => Err(ClientError::unauthenticated("a bearer token is required")),
            _ => Ok(self),
        }
    }

    /// (issuer, subject) for audit lines and per-caller limits.
    pub fn identity(&self) -> Option<(&str, &str)> {
        match self {
            Self::Anonymous => None,
            Self::EndUser(user) => Some((&user.issuer, &user.user_id)),
            Self::Operator(operator) => Some((&operator.issuer, &operator.subject)),
        }
    }
}
