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

pub(crate) use super::profile::Profile;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub(crate) struct Identity {
    pub(crate) connection: String,
    pub(crate) provider: String,
    /// Some providers use numeric ids; they are carried as text.
    #[serde(deserialize_with = "string_or_number")]
    pub(crate) user_id: String,
    #[serde(rename = "isSocial", default, deserialize_with = "null_default")]
    pub(crate) is_social: bool,
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
pub(crate) struct UsersPage {
    #[serde(default)]
    pub(crate) total: u64,
    #[serde(default)]
    pub(crate) users: Vec<Profile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct Role {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// A member of an organization or a user of a role: only the id matters here.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct MemberRef {
    pub(crate) user_id: String,
}

/// A log event. Auth0 sends its id twice, as `_id` and as `log_id` (its own log export pages by
/// `_id`); either is accepted, and both together are not a "duplicate field".
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct LogEvent {
    #[serde(default)]
    pub(crate) log_id: Option<String>,
    #[serde(default, rename = "_id")]
    pub(crate) underscore_id: Option<String>,
    pub(crate) date: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) ip: Option<String>,
    #[serde(default)]
    pub(crate) client_name: Option<String>,
    #[serde(default)]
    pub(crate) user_agent: Option<String>,
}

impl LogEvent {
    /// The event's id, from either field.
    pub(crate) fn id(&self) -> &str {
        self.log_id
            .as_deref()
            .or(self.underscore_id.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct BruteForceBlock {
    pub(crate) identifier: String,
    #[serde(default)]
    pub(crate) ip: Option<String>,
    #[serde(default)]
    pub(crate) connection: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct DailyStat {
    pub(crate) date: String,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) logins: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) signups: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct Job {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) created_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_event_with_both_ids_is_read() {
        let event: LogEvent = serde_json::from_str(
            r#"{"_id":"900","log_id":"900","date":"2024-01-01T00:00:00.000Z","type":"s"}"#,
        )
        .unwrap();
        assert_eq!(event.id(), "900");
        let old: LogEvent =
            serde_json::from_str(r#"{"_id":"7","date":"2024-01-01T00:00:00.000Z","type":"f"}"#)
                .unwrap();
        assert_eq!(old.id(), "7");
    }
}
