//! The person behind an email, across tenants.

use async_graphql::Object;

use super::types::{User, users};
use crate::scope::PersonView;

/// The accounts that verified an email, side by side.
pub(crate) struct Person(pub(crate) PersonView);

#[Object]
impl Person {
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The accounts that verified this email, ordered by tenant id. Accounts that hold it
    /// without having verified it are not joined (`usersByEmail` lists them).
    async fn accounts(&self) -> Vec<User> {
        users(self.0.accounts.iter().cloned())
    }
    /// The display name of the most recently updated account.
    async fn name(&self) -> Option<&str> {
        self.0.name()
    }
    /// True when at least one account has verified this email: always, since only such
    /// accounts make a person.
    async fn verified(&self) -> bool {
        true
    }
}
