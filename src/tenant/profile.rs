//! A user profile as the Management API returns it, packed for the cache.
//!
//! The cache holds up to `cache.max_profiles` profiles, so a profile is one allocation of text
//! (every text field one after another, identities and both metadata objects as the JSON text
//! Auth0 sent) plus a small table of where each field ends: about 700 bytes for a typical
//! profile instead of several kilobytes of separate strings and maps. Text fields are read as
//! `&str` slices at no cost; identities and metadata are parsed only when asked for.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::model::Identity;

/// The text fields, in the order they are packed; `Field as usize` indexes `ends`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    UserId,
    Email,
    Username,
    PhoneNumber,
    Name,
    Nickname,
    GivenName,
    FamilyName,
    Picture,
    CreatedAt,
    UpdatedAt,
    LastLogin,
    LastIp,
    /// JSON text.
    Identities,
    /// JSON text.
    UserMetadata,
    /// JSON text.
    AppMetadata,
}

const FIELDS: usize = 16;

impl Field {
    const ALL: [Field; FIELDS] = [
        Field::UserId,
        Field::Email,
        Field::Username,
        Field::PhoneNumber,
        Field::Name,
        Field::Nickname,
        Field::GivenName,
        Field::FamilyName,
        Field::Picture,
        Field::CreatedAt,
        Field::UpdatedAt,
        Field::LastLogin,
        Field::LastIp,
        Field::Identities,
        Field::UserMetadata,
        Field::AppMetadata,
    ];

    /// Its name in Auth0's JSON.
    fn name(self) -> &'static str {
        match self {
            Field::UserId => "user_id",
            Field::Email => "email",
            Field::Username => "username",
            Field::PhoneNumber => "phone_number",
            Field::Name => "name",
            Field::Nickname => "nickname",
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Picture => "picture",
            Field::CreatedAt => "created_at",
            Field::UpdatedAt => "updated_at",
            Field::LastLogin => "last_login",
            Field::LastIp => "last_ip",
            Field::Identities => "identities",
            Field::UserMetadata => "user_metadata",
            Field::AppMetadata => "app_metadata",
        }
    }

    /// Whether the field holds JSON text rather than a string.
    fn is_json(self) -> bool {
        matches!(
            self,
            Field::Identities | Field::UserMetadata | Field::AppMetadata
        )
    }
}

/// A user profile (the normalized profile plus metadata), immutable.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    text: Box<str>,
    /// Where each field ends in `text` (it starts where the previous one ends).
    ends: [u32; FIELDS],
    /// Bit `f` set: field `f` is present (an empty string is a present value).
    present: u16,
    email_verified: bool,
    blocked: bool,
    logins_count: i64,
    /// Whether each metadata text is in the form serde_json writes, found on first use.
    canonical: Verdicts,
}

/// Lazily found facts about a profile's text: two bits per metadata object (known, and
/// canonical). A cache of what the text implies, so it takes no part in equality.
#[derive(Default)]
struct Verdicts(AtomicU8);

impl Clone for Verdicts {
    fn clone(&self) -> Self {
        Self(AtomicU8::new(self.0.load(Ordering::Relaxed)))
    }
}

impl PartialEq for Verdicts {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Verdicts {}

/// Whether `text` is JSON exactly as serde_json writes it: compact, object keys sorted and
/// unique, numbers and escapes as it prints them. Such text reads back and is written again
/// unchanged, so it may be copied into an answer as it is.
fn is_canonical_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| serde_json::to_string(&value).ok())
        .is_some_and(|again| again == text)
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("user_id", &self.user_id())
            .finish_non_exhaustive()
    }
}

impl Profile {
    fn field(&self, field: Field) -> Option<&str> {
        let index = field as usize;
        if self.present & (1 << index) == 0 {
            return None;
        }
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        self.text.get(start..self.ends[index] as usize)
    }

    pub(crate) fn user_id(&self) -> &str {
        self.field(Field::UserId).unwrap_or_default()
    }
    pub(crate) fn email(&self) -> Option<&str> {
        self.field(Field::Email)
    }
    pub(crate) fn email_verified(&self) -> bool {
        self.email_verified
    }
    pub(crate) fn username(&self) -> Option<&str> {
        self.field(Field::Username)
    }
    pub(crate) fn phone_number(&self) -> Option<&str> {
        self.field(Field::PhoneNumber)
    }
    pub(crate) fn name(&self) -> Option<&str> {
        self.field(Field::Name)
    }
    pub(crate) fn nickname(&self) -> Option<&str> {
        self.field(Field::Nickname)
    }
    pub(crate) fn given_name(&self) -> Option<&str> {
        self.field(Field::GivenName)
    }
    pub(crate) fn family_name(&self) -> Option<&str> {
        self.field(Field::FamilyName)
    }
    pub(crate) fn picture(&self) -> Option<&str> {
        self.field(Field::Picture)
    }
    pub(crate) fn created_at(&self) -> Option<&str> {
        self.field(Field::CreatedAt)
    }
    pub(crate) fn updated_at(&self) -> Option<&str> {
        self.field(Field::UpdatedAt)
    }
    pub(crate) fn last_login(&self) -> Option<&str> {
        self.field(Field::LastLogin)
    }
    pub(crate) fn last_ip(&self) -> Option<&str> {
        self.field(Field::LastIp)
    }
    pub(crate) fn logins_count(&self) -> i64 {
        self.logins_count
    }
    pub(crate) fn blocked(&self) -> bool {
        self.blocked
    }

    /// The linked identities (parsed on each call).
    pub(crate) fn identities(&self) -> Vec<Identity> {
        self.field(Field::Identities)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }

    /// `user_metadata` as the JSON text Auth0 sent; `{}` when never set.
    pub(crate) fn user_metadata_text(&self) -> &str {
        self.field(Field::UserMetadata).unwrap_or("{}")
    }

    /// `app_metadata` as the JSON text Auth0 sent; `{}` when never set.
    pub(crate) fn app_metadata_text(&self) -> &str {
        self.field(Field::AppMetadata).unwrap_or("{}")
    }

    /// Whether [`Self::user_metadata_text`] is canonical JSON (see [`is_canonical_json`]).
    pub(crate) fn user_metadata_is_canonical(&self) -> bool {
        self.verdict(0, self.user_metadata_text())
    }

    /// Whether [`Self::app_metadata_text`] is canonical JSON.
    pub(crate) fn app_metadata_is_canonical(&self) -> bool {
        self.verdict(2, self.app_metadata_text())
    }

    fn verdict(&self, shift: u8, text: &str) -> bool {
        let (known, canonical) = (1 << shift, 2 << shift);
        let bits = self.canonical.0.load(Ordering::Relaxed);
        if bits & known != 0 {
            return bits & canonical != 0;
        }
        let verdict = is_canonical_json(text);
        let found = known | if verdict { canonical } else { 0 };
        self.canonical.0.fetch_or(found, Ordering::Relaxed);
        verdict
    }

    /// The lower-cased email, the key of the email index.
    pub(crate) fn email_key(&self) -> Option<String> {
        self.email().map(str::to_lowercase)
    }

    /// Whether the account can sign in with a password (an Auth0 database identity).
    pub(crate) fn has_database_identity(&self) -> bool {
        self.identities().iter().any(|i| i.provider == "auth0")
    }

    /// How many bytes the profile holds (its text and table), for sizing.
    #[cfg(test)]
    fn packed_size(&self) -> usize {
        std::mem::size_of::<Self>() + self.text.len()
    }
}

/// The profile as Auth0 sends it, borrowing from the answer where it can.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    user_id: Text<'a>,
    #[serde(default, borrow)]
    email: Option<Text<'a>>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default, borrow)]
    username: Option<Text<'a>>,
    #[serde(default, borrow)]
    phone_number: Option<Text<'a>>,
    #[serde(default, borrow)]
    name: Option<Text<'a>>,
    #[serde(default, borrow)]
    nickname: Option<Text<'a>>,
    #[serde(default, borrow)]
    given_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    family_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    picture: Option<Text<'a>>,
    #[serde(default, borrow)]
    created_at: Option<Text<'a>>,
    #[serde(default, borrow)]
    updated_at: Option<Text<'a>>,
    #[serde(default, borrow)]
    last_login: Option<Text<'a>>,
    #[serde(default, borrow)]
    last_ip: Option<Text<'a>>,
    #[serde(default, borrow)]
    identities: Option<&'a RawValue>,
    #[serde(default)]
    logins_count: Option<i64>,
    #[serde(default)]
    blocked: Option<bool>,
    #[serde(default, borrow)]
    user_metadata: Option<&'a RawValue>,
    #[serde(default, borrow)]
    app_metadata: Option<&'a RawValue>,
}

/// A string of the answer: borrowed from it unless it holds escapes. (serde borrows a bare
/// `Cow<str>` field, but through an `Option` it would copy every string.)
struct Text<'a>(Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;

        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Cow<'de, str>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }

        deserializer.deserialize_str(Visit).map(Text)
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        // Identities must be a list of identities: check it now, not on first use.
        if let Some(raw) = wire.identities
            && raw.get() != "null"
        {
            serde_json::from_str::<Vec<Identity>>(raw.get()).map_err(D::Error::custom)?;
        }
        fn raw(value: Option<&RawValue>) -> Option<&str> {
            value.map(RawValue::get).filter(|json| *json != "null")
        }
        let fields: [Option<&str>; FIELDS] = [
            Some(&*wire.user_id),
            wire.email.as_deref(),
            wire.username.as_deref(),
            wire.phone_number.as_deref(),
            wire.name.as_deref(),
            wire.nickname.as_deref(),
            wire.given_name.as_deref(),
            wire.family_name.as_deref(),
            wire.picture.as_deref(),
            wire.created_at.as_deref(),
            wire.updated_at.as_deref(),
            wire.last_login.as_deref(),
            wire.last_ip.as_deref(),
            raw(wire.identities),
            raw(wire.user_metadata),
            raw(wire.app_metadata),
        ];
        let mut text = String::with_capacity(fields.iter().flatten().map(|f| f.len()).sum());
        let mut ends = [0u32; FIELDS];
        let mut present = 0u16;
        for (index, field) in fields.iter().enumerate() {
            if let Some(value) = field {
                text.push_str(value);
                present |= 1 << index;
            }
            ends[index] = u32::try_from(text.len())
                .map_err(|_| D::Error::custom("profile larger than 4 GiB"))?;
        }
        Ok(Self {
            text: text.into_boxed_str(),
            ends,
            present,
            email_verified: wire.email_verified.unwrap_or(false),
            blocked: wire.blocked.unwrap_or(false),
            logins_count: wire.logins_count.unwrap_or(0),
            canonical: Verdicts::default(),
        })
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut map = serializer.serialize_map(None)?;
        for field in Field::ALL {
            let Some(value) = self.field(field) else {
                continue;
            };
            if field.is_json() {
                let json: &RawValue = serde_json::from_str(value).map_err(S::Error::custom)?;
                map.serialize_entry(field.name(), json)?;
            } else {
                map.serialize_entry(field.name(), value)?;
            }
        }
        map.serialize_entry("email_verified", &self.email_verified)?;
        map.serialize_entry("logins_count", &self.logins_count)?;
        if self.blocked {
            map.serialize_entry("blocked", &true)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn profile(value: Value) -> Profile {
        serde_json::from_str(&value.to_string()).unwrap()
    }

    #[test]
    fn fields_read_back_as_sent() {
        let sent = json!({
            "user_id": "auth0|abc", "email": "Jane@Example.com", "email_verified": true,
            "name": "Jane \"J\" Doe", "nickname": "", "picture": "https://x/y.png",
            "created_at": "2024-05-01T10:20:30.123Z", "logins_count": 7, "blocked": true,
            "identities": [{"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "abc", "isSocial": false}],
            "user_metadata": {"language": "fr", "nested": {"a": [1, 2]}},
            "app_metadata": {"plan": "pro"},
            "unknown_field": {"ignored": true}
        });
        let p = profile(sent);
        assert_eq!(p.user_id(), "auth0|abc");
        assert_eq!(p.email(), Some("Jane@Example.com"));
        assert_eq!(p.email_key().as_deref(), Some("jane@example.com"));
        assert_eq!(p.name(), Some("Jane \"J\" Doe"), "escapes are decoded");
        assert_eq!(p.nickname(), Some(""), "empty is not absent");
        assert_eq!(p.username(), None);
        assert_eq!(p.created_at(), Some("2024-05-01T10:20:30.123Z"));
        assert!(p.email_verified() && p.blocked());
        assert_eq!(p.logins_count(), 7);
        assert!(p.has_database_identity());
        let user_metadata: Value = serde_json::from_str(p.user_metadata_text()).unwrap();
        assert_eq!(
            user_metadata,
            json!({"language": "fr", "nested": {"a": [1, 2]}})
        );
        assert_eq!(p.app_metadata_text(), r#"{"plan":"pro"}"#);
        assert!(p.packed_size() < 600, "{}", p.packed_size());
    }

    #[test]
    fn sparse_and_null_fields_take_defaults() {
        let p = profile(
            json!({"user_id": "auth0|1", "email_verified": null, "user_metadata": null,
            "identities": [{"connection": "github", "provider": "github", "user_id": 123, "isSocial": true}]}),
        );
        assert!(!p.email_verified());
        assert_eq!(p.user_metadata_text(), "{}", "null is never set");
        assert_eq!(p.app_metadata_text(), "{}");
        assert_eq!(p.identities()[0].user_id, "123");
        assert!(!p.has_database_identity());
    }

    #[test]
    fn serializing_and_reading_back_keeps_everything() {
        let p = profile(
            json!({"user_id": "auth0|2", "email": "a@b.c", "updated_at": "2024-01-01T00:00:00.000Z",
            "user_metadata": {"k": "v"}, "logins_count": 3, "blocked": true,
            "identities": [{"connection": "c", "provider": "auth0", "user_id": "2", "isSocial": false}]}),
        );
        let again: Profile = serde_json::from_slice(&serde_json::to_vec(&p).unwrap()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn metadata_is_canonical_only_as_serde_json_writes_it() {
        let p =
            profile(json!({"user_id": "auth0|3", "user_metadata": {"a": 1, "b": [true, null]}}));
        assert!(p.user_metadata_is_canonical() && p.user_metadata_is_canonical());
        assert!(p.app_metadata_is_canonical(), "`{{}}` when never set");
        for text in [
            r#"{"b":1,"a":2}"#,
            r#"{"a": 1}"#,
            r#"{"a":1.50}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":1,"a":2}"#,
        ] {
            let p: Profile =
                serde_json::from_str(&format!(r#"{{"user_id":"x","user_metadata":{text}}}"#))
                    .unwrap();
            assert!(!p.user_metadata_is_canonical(), "{text}");
        }
    }

    #[test]
    fn malformed_identities_are_refused_at_once() {
        assert!(serde_json::from_str::<Profile>(r#"{"user_id": "x", "identities": 5}"#).is_err());
        assert!(serde_json::from_str::<Profile>(r#"{"email": "no id"}"#).is_err());
    }
}
