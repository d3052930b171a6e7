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

fn empty_object() -> Value {
    Value::Object(Default::default())
}

fn null_empty_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => empty_object(),
        Some(value) => value,
    })
}

/// A user profile as the Management API returns it (the normalized profile plus metadata).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Profile {
    pub user_id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub email_verified: bool,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub identities: Vec<Identity>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub last_login: Option<String>,
    #[serde(default)]
    pub last_ip: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub logins_count: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub blocked: bool,
    #[serde(default = "empty_object", deserialize_with = "null_empty_object")]
    pub user_metadata: Value,
    #[serde(default = "empty_object", deserialize_with = "null_empty_object")]
    pub app_metadata: Value,
}

impl Profile {
    /// The lower-cased email, the key of the email index.
    pub fn email_key(&self) -> Option<String> {
        self.email.as_deref().map(str::to_lowercase)
    }

    /// Whether the account can sign in with a password (an Auth0 database identity).
    pub fn has_database_identity(&self) -> bool {
        self.identities.iter().any(|i| i.provider == "auth0")
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_profile_takes_defaults() {
        let profile: Profile = serde_json::from_value(serde_json::json!({
            "user_id": "auth0|1", "email_verified": null, "user_metadata": null,
            "identities": [{"connection": "github", "provider": "github", "user_id": 123, "isSocial": true}]
        }))
        .unwrap();
        assert!(!profile.email_verified);
        assert_eq!(profile.user_metadata, serde_json::json!({}));
        assert_eq!(profile.app_metadata, serde_json::json!({}));
        assert_eq!(profile.identities[0].user_id, "123");
        assert!(!profile.has_database_identity());
    }
}
