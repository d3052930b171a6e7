//! Who may see which field of a user: one table, consulted by every read (through the
//! [`super::UserView`] accessors), by every search (a field one may not see cannot be filtered,
//! tested for existence, ranged over or sorted by), and by every mutation before it writes (its
//! result shows only what the caller may read).
//!
//! | field | the user themself | an operator |
//! |---|---|---|
//! | `id`, `tenant` | yes | yes |
//! | profile fields, `identities`, `userMetadata`, `organizations`, `roles`, `bruteForceBlocks` | yes | `read:users` |
//! | `lastIp` | yes | `read:users` and `read:logs` |
//! | `bruteForceBlocks.ip` | no | `read:users` and `read:logs` |
//! | `appMetadata` | no | `read:users` and `read:users_app_metadata` |
//! | `termsAccepted` | yes | `read:users` and `read:users_app_metadata` |
//! | `logs` | no | `read:users` and `read:logs` |
//! | `linkedAccounts` | no | `read:users` |
//!
//! IP addresses are personal data: they go with `read:logs`, whose log events carry them too.
//! The address in a brute-force block is the one that failed to sign in (often not the user's),
//! so the user is not shown it. `termsAccepted` is read from `app_metadata.terms_accepted`, the
//! one piece of app_metadata its owner is shown (as a yes or no).

use crate::auth::{Caller, Permission};
use crate::error::{ClientError, ClientResult};

/// A field of `User`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum UserField {
    Id,
    Tenant,
    Email,
    EmailVerified,
    Username,
    PhoneNumber,
    Name,
    Nickname,
    GivenName,
    FamilyName,
    Picture,
    Identities,
    CreatedAt,
    UpdatedAt,
    LastLogin,
    LastIp,
    LoginsCount,
    Blocked,
    UserMetadata,
    AppMetadata,
    Organizations,
    Roles,
    Logs,
    BruteForceBlocks,
    BruteForceBlockIp,
    LinkedAccounts,
    TermsAccepted,
}

/// What seeing a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Whoever holds the user: `id` and `tenant`, which every write answers with.
    Anyone,
    /// The user themself, or an operator with `read:users`.
    Reader,
    /// The user themself, or an operator with `read:users` and this permission.
    ReaderWith(Permission),
    /// An operator with `read:users` and this permission (`read:users` itself for `read:users`).
    OperatorWith(Permission),
}

impl UserField {
    /// Every field, for tables and tests.
    pub(crate) const ALL: [UserField; 27] = [
        Self::Id,
        Self::Tenant,
        Self::Email,
        Self::EmailVerified,
        Self::Username,
        Self::PhoneNumber,
        Self::Name,
        Self::Nickname,
        Self::GivenName,
        Self::FamilyName,
        Self::Picture,
        Self::Identities,
        Self::CreatedAt,
        Self::UpdatedAt,
        Self::LastLogin,
        Self::LastIp,
        Self::LoginsCount,
        Self::Blocked,
        Self::UserMetadata,
        Self::AppMetadata,
        Self::Organizations,
        Self::Roles,
        Self::Logs,
        Self::BruteForceBlocks,
        Self::BruteForceBlockIp,
        Self::LinkedAccounts,
        Self::TermsAccepted,
    ];

    /// The table.
    const fn need(self) -> Need {
        match self {
            Self::Id | Self::Tenant => Need::Anyone,
            Self::Email
            | Self::EmailVerified
            | Self::Username
            | Self::PhoneNumber
            | Self::Name
            | Self::Nickname
            | Self::GivenName
            | Self::FamilyName
            | Self::Picture
            | Self::Identities
            | Self::CreatedAt
            | Self::UpdatedAt
            | Self::LastLogin
            | Self::LoginsCount
            | Self::Blocked
            | Self::UserMetadata
            | Self::Organizations
            | Self::Roles
            | Self::BruteForceBlocks => Need::Reader,
            Self::LastIp => Need::ReaderWith(Permission::ReadLogs),
            Self::TermsAccepted => Need::ReaderWith(Permission::ReadUsersAppMetadata),
            Self::BruteForceBlockIp | Self::Logs => Need::OperatorWith(Permission::ReadLogs),
            Self::AppMetadata => Need::OperatorWith(Permission::ReadUsersAppMetadata),
            Self::LinkedAccounts => Need::OperatorWith(Permission::ReadUsers),
        }
    }

    /// Whether a caller who may not see the field is answered null rather than FORBIDDEN: the
    /// nullable fields the schema documents as simply absent without their permission, read
    /// through [`super::UserView::read_or_none`].
    pub(crate) fn hidden_as_null(self) -> bool {
        matches!(self, Self::LastIp | Self::AppMetadata | Self::TermsAccepted)
    }

    /// The field's name in the GraphQL schema.
    pub(crate) fn graphql_name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Tenant => "tenant",
            Self::Email => "email",
            Self::EmailVerified => "emailVerified",
            Self::Username => "username",
            Self::PhoneNumber => "phoneNumber",
            Self::Name => "name",
            Self::Nickname => "nickname",
            Self::GivenName => "givenName",
            Self::FamilyName => "familyName",
            Self::Picture => "picture",
            Self::Identities => "identities",
            Self::CreatedAt => "createdAt",
            Self::UpdatedAt => "updatedAt",
            Self::LastLogin => "lastLogin",
            Self::LastIp => "lastIp",
            Self::LoginsCount => "loginsCount",
            Self::Blocked => "blocked",
            Self::UserMetadata => "userMetadata",
            Self::AppMetadata => "appMetadata",
            Self::Organizations => "organizations",
            Self::Roles => "roles",
            Self::Logs => "logs",
            Self::BruteForceBlocks => "bruteForceBlocks",
            Self::BruteForceBlockIp => "bruteForceBlocks.ip",
            Self::LinkedAccounts => "linkedAccounts",
            Self::TermsAccepted => "termsAccepted",
        }
    }

    pub(crate) fn from_graphql_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.graphql_name() == name)
    }

    /// The field a path of Auth0's search syntax reads (`app_metadata.plan` is `AppMetadata`);
    /// `None` for paths tenantgraph does not offer to search.
    pub(crate) fn of_search_path(path: &str) -> Option<Self> {
        let root = path.split('.').next().unwrap_or(path);
        Some(match root {
            "user_id" => Self::Id,
            "email" => Self::Email,
            "email_verified" => Self::EmailVerified,
            "username" => Self::Username,
            "phone_number" => Self::PhoneNumber,
            "name" => Self::Name,
            "nickname" => Self::Nickname,
            "given_name" => Self::GivenName,
            "family_name" => Self::FamilyName,
            "picture" => Self::Picture,
            "identities" => Self::Identities,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "last_login" => Self::LastLogin,
            "last_ip" => Self::LastIp,
            "logins_count" => Self::LoginsCount,
            "blocked" => Self::Blocked,
            "user_metadata" => Self::UserMetadata,
            "app_metadata" => Self::AppMetadata,
            _ => return None,
        })
    }
}

/// What one caller may see of the users it reaches: a set of fields, decided once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sight {
    visible: u32,
    /// Whether the caller is the user (end users reach only themselves).
    owner: bool,
}

impl Sight {
    pub(crate) fn of(caller: &Caller) -> Self {
        let operator = match caller {
            Caller::Operator(operator) => Some(operator),
            Caller::EndUser(_) => None,
        };
        let owner = operator.is_none();
        let has = |permission| operator.is_some_and(|o| o.has(permission));
        let reader = owner || has(Permission::ReadUsers);
        let mut visible = 0;
        for (index, field) in UserField::ALL.into_iter().enumerate() {
            let sees = match field.need() {
                Need::Anyone => true,
                Need::Reader => reader,
                Need::ReaderWith(permission) => {
                    owner || (has(Permission::ReadUsers) && has(permission))
                }
                Need::OperatorWith(permission) => {
                    !owner && has(Permission::ReadUsers) && has(permission)
                }
            };
            if sees {
                visible |= 1 << index;
            }
        }
        Self { visible, owner }
    }

    pub(crate) fn sees(self, field: UserField) -> bool {
        // `ALL` lists the variants in declaration order, so the discriminant is the index.
        self.visible & (1 << field as u32) != 0
    }

    /// `Ok` when the field is visible, else FORBIDDEN saying what it takes.
    pub(crate) fn check(self, field: UserField) -> ClientResult<()> {
        if self.sees(field) {
            return Ok(());
        }
        Err(ClientError::forbidden(self.refusal(field)))
    }

    /// Why `field` is not shown to this caller.
    pub(crate) fn refusal(self, field: UserField) -> String {
        let name = field.graphql_name();
        match field.need() {
            Need::Anyone => format!("`{name}` is shown to everyone"),
            Need::OperatorWith(_) if self.owner => {
                format!("`{name}` is not shown to end users")
            }
            Need::Reader | Need::OperatorWith(Permission::ReadUsers) => {
                format!("`{name}` needs read:users")
            }
            Need::ReaderWith(p) | Need::OperatorWith(p) => {
                format!("`{name}` needs read:users and {}", p.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_distinct_graphql_name_and_its_place_in_the_mask() {
        assert!(UserField::ALL.len() <= 32);
        for (index, field) in UserField::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, index);
            assert_eq!(
                UserField::from_graphql_name(field.graphql_name()),
                Some(field)
            );
        }
    }

    fn fields_seen(caller: &Caller) -> Vec<&'static str> {
        let sight = Sight::of(caller);
        UserField::ALL
            .into_iter()
            .filter(|f| sight.sees(*f))
            .map(UserField::graphql_name)
            .collect()
    }

    #[test]
    fn the_table_per_persona() {
        let user = Caller::end_user_for_tests("acme-eu", "auth0|1");
        let seen = fields_seen(&user);
        assert!(seen.contains(&"lastIp") && seen.contains(&"bruteForceBlocks"));
        assert!(seen.contains(&"termsAccepted"));
        for hidden in [
            "appMetadata",
            "logs",
            "linkedAccounts",
            "bruteForceBlocks.ip",
        ] {
            assert!(!seen.contains(&hidden), "{hidden} shown to the user");
        }
        let writer = Caller::operator_for_tests(&[Permission::UpdateUsers], None);
        assert_eq!(fields_seen(&writer), ["id", "tenant"]);
        let auditor =
            Caller::operator_for_tests(&[Permission::ReadUsers, Permission::ReadLogs], None);
        let seen = fields_seen(&auditor);
        assert!(seen.contains(&"logs") && seen.contains(&"bruteForceBlocks.ip"));
        assert!(seen.contains(&"lastIp") && !seen.contains(&"appMetadata"));
        assert!(!seen.contains(&"termsAccepted"));
        let reader = Caller::operator_for_tests(&[Permission::ReadUsers], None);
        let seen = fields_seen(&reader);
        assert!(!seen.contains(&"lastIp") && !seen.contains(&"bruteForceBlocks.ip"));
        assert!(seen.contains(&"linkedAccounts") && seen.contains(&"email"));
    }

    #[test]
    fn search_paths_map_to_the_fields_they_read() {
        assert_eq!(
            UserField::of_search_path("app_metadata.plan"),
            Some(UserField::AppMetadata)
        );
        assert_eq!(
            UserField::of_search_path("identities.connection"),
            Some(UserField::Identities)
        );
        assert_eq!(
            UserField::of_search_path("email.domain"),
            Some(UserField::Email)
        );
        assert_eq!(UserField::of_search_path("last_password_reset"), None);
        assert_eq!(UserField::of_search_path("multifactor"), None);
    }
}
