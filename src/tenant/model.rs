//! The Auth0 shapes tenantgraph reads: profiles, identities, memberships, logs, blocks, figures.
//!
//! Deserialisation is lenient where Auth0 is (absent or `null` fields take their default) and
//! strict nowhere else: an answer that does not fit is a tenant fault, not a panic.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// `null` and absent both mean the type's default (Auth0 omits empty fields and sometimes
/// sends `null` for them).
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

pub use super::profile::Profile;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Identity {
    pub connection: String,
    pub provider: String,
    /// Some providers use numeric ids; they are carried as text.
    #[serde(deserialize_with = "string_or_number")]
    pub user_id: String,
    #[serde(rename = "isSocial", default, deserialize_with = "null_default")]
    pub is_social: bool,
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "identity user_id is {other}"
        ))),
    }
}

/// `GET /users?include_totals=true`.
#[derive(Debug, Clone, Deserialize)]
pub struct UsersPage {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub users: Vec<Profile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A member of an organization or a user of a role: only the id matters here.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberRef {
    pub user_id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogEvent {
    #[serde(alias = "_id")]
    pub log_id: String,
    pub date: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BruteForceBlock {
    pub identifier: String,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub connection: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DailyStat {
    pub date: String,
    #[serde(default, deserialize_with = "null_default")]
    pub logins: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub signups: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Job {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    #[serde(default)]
    pub created_at: Option<String>,
}
