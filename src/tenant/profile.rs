//! A user profile as the Management API returns it, packed for the cache.
//!
//! The cache holds up to `cache.max_profiles` profiles, so a profile is one shared allocation:
//! a small header (where each field ends, flags, the login count) and the text (every text
//! field one after another, both metadata objects as the JSON text Auth0 sent), about 300 bytes
//! for a typical profile instead of several kilobytes of separate strings and maps. Text fields
//! are read as `&str` slices at no cost; metadata is parsed only when asked for. Identities are
//! kept as JSON text too, except the commonest case, one identity that the user id names
//! (`auth0|abc` is the `auth0` identity `abc`), kept as its connection's name alone, or as a
//! flag for Auth0's default database connection. Auth0's defaults for a database sign-up (the
//! name is the email, the nickname its local part, the picture a Gravatar address) are kept as
//! flags and the part that varies (the Gravatar hash in base64), a name that is the given and
//! family names as a flag, and timestamps in Auth0's form in eight characters. Whatever is
//! packed reads back exactly as Auth0 sent it; anything else is kept as sent.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU8, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use triomphe::HeaderSlice;

use super::model::Identity;
use super::skeleton::{self, Skeleton};
use super::timestamp::{Packed, Timestamp};

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
    /// JSON text, or the primary identity's connection (see [`PRIMARY_IDENTITY`]).
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

    /// For a timestamp, the flag that says it is packed.
    fn packed_flag(self) -> Option<u16> {
        match self {
            Field::CreatedAt => Some(CREATED_AT_PACKED),
            Field::UpdatedAt => Some(UPDATED_AT_PACKED),
            Field::LastLogin => Some(LAST_LOGIN_PACKED),
            _ => None,
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

/// Bits of [`Profile::flags`].
const EMAIL_VERIFIED: u16 = 1;
const BLOCKED: u16 = 2;
/// The identities are one identity, of the provider and id the user id names, and the
/// identities field holds only its connection's name.
const PRIMARY_IDENTITY: u16 = 4;
/// With [`PRIMARY_IDENTITY`]: that identity is social.
const PRIMARY_IDENTITY_SOCIAL: u16 = 8;
/// The name is the email (Auth0's default for a database sign-up); its field holds nothing.
const NAME_IS_EMAIL: u16 = 16;
/// The nickname is the email's part before its first `@` (Auth0's default); its field holds
/// nothing.
const NICKNAME_IS_EMAIL_LOCAL_PART: u16 = 32;
/// The picture is Auth0's default Gravatar address (see [`DefaultPicture`]); its field holds
/// only the Gravatar hash (its 16 bytes in base64) and the fallback avatar's name.
const DEFAULT_PICTURE: u16 = 64;
/// With [`PRIMARY_IDENTITY`]: that identity's connection is [`DEFAULT_DATABASE`], the name
/// Auth0 gives a tenant's first database connection; the identities field holds nothing.
const DEFAULT_DATABASE_CONNECTION: u16 = 128;
/// The created, updated and last-login timestamps packed (see [`Packed`]).
const CREATED_AT_PACKED: u16 = 256;
const UPDATED_AT_PACKED: u16 = 512;
const LAST_LOGIN_PACKED: u16 = 1024;
/// The name is the given name, a space and the family name (as social providers send it):
/// its field holds nothing, and the given name's field holds the space after it.
const NAME_IS_GIVEN_AND_FAMILY: u16 = 2048;

/// The name of the database connection every Auth0 tenant starts with.
const DEFAULT_DATABASE: &str = "Username-Password-Authentication";

/// A Gravatar hash: an MD5 sum, 16 bytes, in the URL as 32 hex digits, packed as 22 base64.
const HASH_BYTES: usize = 16;
const HASH_DIGITS: usize = 2 * HASH_BYTES;
const HASH_PACKED: usize = 22;

/// Auth0's default picture, `https://s.gravatar.com/avatar/{hash}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{initials}.png`:
/// about 125 bytes of which all but the 32-digit hash and the initials are the same for every
/// user. Written out when read (as `Display`, so an answer's JSON takes it without a copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DefaultPicture<'a> {
    /// As the URL has it: 32 lower-case hex digits; or as packed: 22 base64 digits.
    hash: &'a str,
    initials: &'a str,
}

impl<'a> DefaultPicture<'a> {
    const BEFORE_HASH: &'static str = "https://s.gravatar.com/avatar/";
    const BEFORE_INITIALS: &'static str = "?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F";
    const AFTER: &'static str = ".png";

    /// The picture, if `url` is one, exactly (its hash in lower case, as Gravatar's are).
    fn parse(url: &'a str) -> Option<Self> {
        let rest = url.strip_prefix(Self::BEFORE_HASH)?;
        let hash = rest.get(..HASH_DIGITS)?;
        let initials = rest[HASH_DIGITS..]
            .strip_prefix(Self::BEFORE_INITIALS)?
            .strip_suffix(Self::AFTER)?;
        let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        (hash.bytes().all(lower_hex) && initials.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then_some(Self { hash, initials })
    }

    /// The hash's 16 bytes in base64, as the field holds them.
    fn packed_hash(&self) -> [u8; HASH_PACKED] {
        let mut bytes = [0u8; HASH_BYTES];
        for (byte, pair) in bytes.iter_mut().zip(self.hash.as_bytes().chunks(2)) {
            let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            *byte = digit(pair[0]) << 4 | digit(pair[1]);
        }
        let mut packed = [0u8; HASH_PACKED];
        // 16 bytes are always 22 digits without padding.
        let _ = URL_SAFE_NO_PAD.encode_slice(bytes, &mut packed);
        packed
    }

    /// What the field holds: the packed hash, then the initials.
    fn packed(text: &'a str) -> Self {
        let (hash, initials) = text.split_at(HASH_PACKED.min(text.len()));
        Self { hash, initials }
    }

    /// Writes the hash as the URL has it.
    fn write_hash(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.hash.len() != HASH_PACKED {
            return f.write_str(self.hash);
        }
        let mut bytes = [0u8; HASH_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(self.hash, &mut bytes) {
            Ok(HASH_BYTES) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut digits = [0u8; HASH_DIGITS];
                for (pair, byte) in digits.chunks_mut(2).zip(bytes) {
                    pair[0] = HEX[usize::from(byte >> 4)];
                    pair[1] = HEX[usize::from(byte & 15)];
                }
                f.write_str(std::str::from_utf8(&digits).unwrap_or_default())
            }
            _ => f.write_str(self.hash),
        }
    }
}

impl std::fmt::Display for DefaultPicture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(Self::BEFORE_HASH)?;
        self.write_hash(f)?;
        f.write_str(Self::BEFORE_INITIALS)?;
        f.write_str(self.initials)?;
        f.write_str(Self::AFTER)
    }
}

/// A profile's picture: a URL as sent, or Auth0's default written out when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Picture<'a> {
    Url(&'a str),
    Default(DefaultPicture<'a>),
}

impl std::fmt::Display for Picture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(url) => f.write_str(url),
            Self::Default(picture) => picture.fmt(f),
        }
    }
}

impl Serialize for Picture<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Url(url) => serializer.serialize_str(url),
            Self::Default(picture) => serializer.collect_str(picture),
        }
    }
}

/// Where each field but the last ends in the text (a field starts where the previous one
/// ends, and the last ends with the text): two bytes a field, or four for the rare profile of
/// 64 KiB and more.
#[derive(Clone, PartialEq, Eq)]
enum Ends {
    Narrow([u16; FIELDS - 1]),
    Wide(Box<[u32; FIELDS - 1]>),
}

impl Ends {
    fn new(ends: [u32; FIELDS]) -> Self {
        let mut wide = [0u32; FIELDS - 1];
        wide.copy_from_slice(&ends[..FIELDS - 1]);
        let mut narrow = [0u16; FIELDS - 1];
        for (to, from) in narrow.iter_mut().zip(wide) {
            match u16::try_from(from) {
                Ok(end) => *to = end,
                Err(_) => return Self::Wide(Box::new(wide)),
            }
        }
        Self::Narrow(narrow)
    }

    /// Where field `index` ends, in a text of `length` bytes.
    fn get(&self, index: usize, length: usize) -> usize {
        match self {
            _ if index == FIELDS - 1 => length,
            Self::Narrow(ends) => usize::from(ends[index]),
            Self::Wide(ends) => ends[index] as usize,
        }
    }
}

/// A user profile (the normalized profile plus metadata), immutable and shared: one
/// allocation holding a small header and the text, cloned by counting.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Profile(triomphe::Arc<HeaderSlice<Header, str>>);

/// What a profile holds beside its text.
#[derive(Clone, PartialEq, Eq)]
struct Header {
    ends: Ends,
    /// Bit `f` set: field `f` is present (an empty string is a present value).
    present: u16,
    /// The bits from [`EMAIL_VERIFIED`] to [`NAME_IS_GIVEN_AND_FAMILY`].
    flags: u16,
    /// Whether each metadata text is in the form serde_json writes, found on first use.
    canonical: Verdicts,
    logins_count: i64,
    /// The skeleton of each metadata object whose field holds only its values.
    user_skeleton: Option<Skeleton>,
    app_skeleton: Option<Skeleton>,
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
    fn header(&self) -> &Header {
        &self.0.header
    }

    /// Every text field, one after another.
    fn text(&self) -> &str {
        &self.0.slice
    }

    /// A text field as sent; a derived one (see the flags) read from the field it repeats.
    fn field(&self, field: Field) -> Option<&str> {
        match field {
            Field::Name if self.flag(NAME_IS_EMAIL) => return self.field(Field::Email),
            Field::Name if self.flag(NAME_IS_GIVEN_AND_FAMILY) => {
                // The given name, its space and the family name, one after another.
                let (text, ends) = (self.text(), &self.header().ends);
                let start = ends.get(Field::GivenName as usize - 1, text.len());
                return text.get(start..ends.get(Field::FamilyName as usize, text.len()));
            }
            Field::GivenName if self.flag(NAME_IS_GIVEN_AND_FAMILY) => {
                return self.stored(field)?.strip_suffix(' ');
            }
            Field::Nickname if self.flag(NICKNAME_IS_EMAIL_LOCAL_PART) => {
                return self
                    .field(Field::Email)?
                    .split_once('@')
                    .map(|(local, _)| local);
            }
            _ => {}
        }
        self.stored(field)
    }

    /// What the profile holds for a field.
    fn stored(&self, field: Field) -> Option<&str> {
        let index = field as usize;
        let header = self.header();
        if header.present & (1 << index) == 0 {
            return None;
        }
        let text = self.text();
        let start = if index == 0 {
            0
        } else {
            header.ends.get(index - 1, text.len())
        };
        text.get(start..header.ends.get(index, text.len()))
    }

    fn flag(&self, flag: u16) -> bool {
        self.header().flags & flag != 0
    }

    /// A timestamp field, written out if it was packed; `None` for any other field.
    fn timestamp(&self, field: Field) -> Option<Timestamp<'_>> {
        let packed = field.packed_flag()?;
        Some(Timestamp::stored(self.stored(field)?, self.flag(packed)))
    }

    pub(crate) fn user_id(&self) -> &str {
        self.field(Field::UserId).unwrap_or_default()
    }
    pub(crate) fn email(&self) -> Option<&str> {
        self.field(Field::Email)
    }
    pub(crate) fn email_verified(&self) -> bool {
        self.flag(EMAIL_VERIFIED)
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
    pub(crate) fn picture(&self) -> Option<Picture<'_>> {
        let stored = self.stored(Field::Picture)?;
        Some(if self.flag(DEFAULT_PICTURE) {
            Picture::Default(DefaultPicture::packed(stored))
        } else {
            Picture::Url(stored)
        })
    }
    pub(crate) fn created_at(&self) -> Option<Timestamp<'_>> {
        self.timestamp(Field::CreatedAt)
    }
    pub(crate) fn updated_at(&self) -> Option<Timestamp<'_>> {
        self.timestamp(Field::UpdatedAt)
    }
    pub(crate) fn last_login(&self) -> Option<Timestamp<'_>> {
        self.timestamp(Field::LastLogin)
    }
    pub(crate) fn last_ip(&self) -> Option<&str> {
        self.field(Field::LastIp)
    }
    pub(crate) fn logins_count(&self) -> i64 {
        self.header().logins_count
    }
    pub(crate) fn blocked(&self) -> bool {
        self.flag(BLOCKED)
    }

    /// The linked identities (parsed on each call).
    pub(crate) fn identities(&self) -> Vec<Identity> {
        let Some(identities) = self.field(Field::Identities) else {
            return Vec::new();
        };
        if !self.flag(PRIMARY_IDENTITY) {
            return serde_json::from_str(identities).unwrap_or_default();
        }
        let (provider, user_id) = self.user_id().split_once('|').unwrap_or_default();
        let connection = if self.flag(DEFAULT_DATABASE_CONNECTION) {
            DEFAULT_DATABASE
        } else {
            identities
        };
        vec![Identity {
            connection: connection.to_owned(),
            provider: provider.to_owned(),
            user_id: user_id.to_owned(),
            is_social: self.flag(PRIMARY_IDENTITY_SOCIAL),
        }]
    }

    /// `user_metadata` as the JSON text Auth0 sent; `{}` when never set.
    pub(crate) fn user_metadata_text(&self) -> Cow<'_, str> {
        self.metadata(Field::UserMetadata)
            .unwrap_or(Cow::Borrowed("{}"))
    }

    /// `app_metadata` as the JSON text Auth0 sent; `{}` when never set.
    pub(crate) fn app_metadata_text(&self) -> Cow<'_, str> {
        self.metadata(Field::AppMetadata)
            .unwrap_or(Cow::Borrowed("{}"))
    }

    /// A metadata field's JSON text: as kept, or its values joined to its skeleton.
    fn metadata(&self, field: Field) -> Option<Cow<'_, str>> {
        let stored = self.stored(field)?;
        let header = self.header();
        let skeleton = match field {
            Field::UserMetadata => &header.user_skeleton,
            Field::AppMetadata => &header.app_skeleton,
            _ => &None,
        };
        Some(match skeleton {
            Some(skeleton) => Cow::Owned(skeleton::join(skeleton, stored)),
            None => Cow::Borrowed(stored),
        })
    }

    /// [`Self::user_metadata_text`], and whether it is canonical JSON (see
    /// [`is_canonical_json`]): the text is put together once for both.
    pub(crate) fn user_metadata_json(&self) -> (Cow<'_, str>, bool) {
        let text = self.user_metadata_text();
        let canonical = self.verdict(0, &text);
        (text, canonical)
    }

    /// [`Self::app_metadata_text`], and whether it is canonical JSON.
    pub(crate) fn app_metadata_json(&self) -> (Cow<'_, str>, bool) {
        let text = self.app_metadata_text();
        let canonical = self.verdict(2, &text);
        (text, canonical)
    }

    fn verdict(&self, shift: u8, text: &str) -> bool {
        let (known, canonical) = (1 << shift, 2 << shift);
        let verdicts = &self.header().canonical.0;
        let bits = verdicts.load(Ordering::Relaxed);
        if bits & known != 0 {
            return bits & canonical != 0;
        }
        let verdict = is_canonical_json(text);
        let found = known | if verdict { canonical } else { 0 };
        verdicts.fetch_or(found, Ordering::Relaxed);
        verdict
    }

    /// The lower-cased email, the key of the email index.
    pub(crate) fn email_key(&self) -> Option<String> {
        self.email().map(str::to_lowercase)
    }

    /// Whether the account can sign in with a password (an Auth0 database identity).
    pub(crate) fn has_database_identity(&self) -> bool {
        if self.flag(PRIMARY_IDENTITY) {
            return self.user_id().starts_with("auth0|");
        }
        self.identities().iter().any(|i| i.provider == "auth0")
    }

    /// How many bytes the profile holds (its text and table), for sizing.
    #[cfg(test)]
    fn packed_size(&self) -> usize {
        let wide = match &self.header().ends {
            Ends::Narrow(_) => 0,
            Ends::Wide(ends) => std::mem::size_of_val(&**ends),
        };
        std::mem::size_of::<usize>() + std::mem::size_of::<Header>() + self.text().len() + wide
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
        deserializer.deserialize_str(TextVisit).map(Text)
    }
}

/// Reads a string, borrowed where it can be; a number (asked for with `deserialize_any`) as its
/// JSON text.
struct TextVisit;

impl<'de> serde::de::Visitor<'de> for TextVisit {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // As `Identity` reads it: the number's JSON text.
        let number =
            serde_json::Number::from_f64(v).ok_or_else(|| E::custom("not a finite number"))?;
        Ok(Cow::Owned(number.to_string()))
    }
}

/// An identity as Auth0 sends it, borrowed: read to check the identities and find the one the
/// user id names, as strictly as [`Identity`] reads them.
#[derive(Deserialize)]
struct IdentityRef<'a> {
    #[serde(borrow)]
    connection: Text<'a>,
    #[serde(borrow)]
    provider: Text<'a>,
    #[serde(borrow)]
    user_id: IdText<'a>,
    #[serde(rename = "isSocial", default)]
    is_social: Option<bool>,
}

/// An identity's user id: a string, or a number (some providers) as its decimal text.
struct IdText<'a>(Text<'a>);

impl std::ops::Deref for IdText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for IdText<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(TextVisit)
            .map(|text| IdText(Text(text)))
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        fn raw(value: Option<&RawValue>) -> Option<&str> {
            value.map(RawValue::get).filter(|json| *json != "null")
        }
        let mut flags = 0;
        if wire.email_verified == Some(true) {
            flags |= EMAIL_VERIFIED;
        }
        if wire.blocked == Some(true) {
            flags |= BLOCKED;
        }
        // Identities must be a list of identities: check it now, not on first use.
        let parsed: Vec<IdentityRef<'_>> = match raw(wire.identities) {
            Some(json) => serde_json::from_str(json).map_err(D::Error::custom)?,
            None => Vec::new(),
        };
        let identities = match parsed.as_slice() {
            [only]
                if !only.provider.contains('|')
                    && wire.user_id.split_once('|') == Some((&*only.provider, &*only.user_id)) =>
            {
                flags |= PRIMARY_IDENTITY;
                if only.is_social == Some(true) {
                    flags |= PRIMARY_IDENTITY_SOCIAL;
                }
                if &*only.connection == DEFAULT_DATABASE {
                    flags |= DEFAULT_DATABASE_CONNECTION;
                    Some("")
                } else {
                    Some(&*only.connection)
                }
            }
            _ => raw(wire.identities),
        };
        // Auth0's defaults, which repeat the email or a fixed address, are kept short.
        let email = wire.email.as_deref();
        let mut name = wire.name.as_deref();
        if name.is_some() && name == email {
            flags |= NAME_IS_EMAIL;
            name = Some("");
        }
        let (given, family) = (wire.given_name.as_deref(), wire.family_name.as_deref());
        if let (Some(full), Some(given), Some(family)) = (name, given, family)
            && full.len() == given.len() + 1 + family.len()
            && full.starts_with(given)
            && full[given.len()..].starts_with(' ')
            && full.ends_with(family)
            && flags & NAME_IS_EMAIL == 0
        {
            flags |= NAME_IS_GIVEN_AND_FAMILY;
            name = Some("");
        }
        let mut nickname = wire.nickname.as_deref();
        if nickname.is_some() && nickname == email.and_then(|e| e.split_once('@')).map(|(l, _)| l) {
            flags |= NICKNAME_IS_EMAIL_LOCAL_PART;
            nickname = Some("");
        }
        // The picture's field may be two parts (the default's hash and initials).
        let mut picture = wire.picture.as_deref().map(|url| (url, ""));
        let default_picture = wire.picture.as_deref().and_then(DefaultPicture::parse);
        let packed_hash = default_picture.map(|default| default.packed_hash());
        if let (Some(default), Some(hash)) = (default_picture, &packed_hash) {
            flags |= DEFAULT_PICTURE;
            picture = Some((
                std::str::from_utf8(hash).unwrap_or_default(),
                default.initials,
            ));
        }
        // Timestamps in Auth0's own form are kept in eight characters.
        let mut pack = |sent: Option<&str>, flag: u16| -> Option<Packed> {
            let packed = Packed::of(sent?)?;
            flags |= flag;
            Some(packed)
        };
        let created_at = pack(wire.created_at.as_deref(), CREATED_AT_PACKED);
        let updated_at = pack(wire.updated_at.as_deref(), UPDATED_AT_PACKED);
        let last_login = pack(wire.last_login.as_deref(), LAST_LOGIN_PACKED);
        fn stamp<'s>(packed: &'s Option<Packed>, sent: Option<&'s str>) -> Option<&'s str> {
            packed.as_ref().map(Packed::as_str).or(sent)
        }
        // Metadata of a shape seen before is kept as its values.
        let user_metadata = raw(wire.user_metadata).and_then(skeleton::split);
        let app_metadata = raw(wire.app_metadata).and_then(skeleton::split);
        let fields: [Option<&str>; FIELDS] = [
            Some(&*wire.user_id),
            email,
            wire.username.as_deref(),
            wire.phone_number.as_deref(),
            name,
            nickname,
            given,
            family,
            picture.map(|(first, _)| first),
            stamp(&created_at, wire.created_at.as_deref()),
            stamp(&updated_at, wire.updated_at.as_deref()),
            stamp(&last_login, wire.last_login.as_deref()),
            wire.last_ip.as_deref(),
            identities,
            user_metadata
                .as_ref()
                .map_or(raw(wire.user_metadata), |(_, values)| Some(values)),
            app_metadata
                .as_ref()
                .map_or(raw(wire.app_metadata), |(_, values)| Some(values)),
        ];
        let second = picture.map_or("", |(_, second)| second);
        let length = fields.iter().flatten().map(|f| f.len()).sum::<usize>() + second.len() + 1;
        let mut text = String::with_capacity(length);
        let mut ends = [0u32; FIELDS];
        let mut present = 0u16;
        for (index, field) in fields.iter().enumerate() {
            if let Some(value) = field {
                text.push_str(value);
                if index == Field::Picture as usize {
                    text.push_str(second);
                }
                if index == Field::GivenName as usize && flags & NAME_IS_GIVEN_AND_FAMILY != 0 {
                    text.push(' ');
                }
                present |= 1 << index;
            }
            ends[index] = u32::try_from(text.len())
                .map_err(|_| D::Error::custom("profile larger than 4 GiB"))?;
        }
        let header = Header {
            ends: Ends::new(ends),
            present,
            flags,
            canonical: Verdicts::default(),
            logins_count: wire.logins_count.unwrap_or(0),
            user_skeleton: user_metadata.map(|(skeleton, _)| skeleton),
            app_skeleton: app_metadata.map(|(skeleton, _)| skeleton),
        };
        Ok(Self(triomphe::Arc::from_header_and_str(header, &text)))
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
            if field == Field::Identities && self.flag(PRIMARY_IDENTITY) {
                map.serialize_entry(field.name(), &self.identities())?;
            } else if field == Field::Picture {
                map.serialize_entry(field.name(), &self.picture())?;
            } else if let Some(stamp) = self.timestamp(field) {
                map.serialize_entry(field.name(), &stamp)?;
            } else if field.is_json() {
                let text = self.metadata(field).unwrap_or(Cow::Borrowed(value));
                let json: &RawValue = serde_json::from_str(&text).map_err(S::Error::custom)?;
                map.serialize_entry(field.name(), json)?;
            } else {
                map.serialize_entry(field.name(), value)?;
            }
        }
        map.serialize_entry("email_verified", &self.email_verified())?;
        map.serialize_entry("logins_count", &self.logins_count())?;
        if self.blocked() {
            map.serialize_entry("blocked", &true)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::sync::Arc;

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
        assert_eq!(
            p.created_at().map(|at| at.to_string()).as_deref(),
            Some("2024-05-01T10:20:30.123Z")
        );
        assert!(p.email_verified() && p.blocked());
        assert_eq!(p.logins_count(), 7);
        assert!(p.has_database_identity());
        let user_metadata: Value = serde_json::from_str(&p.user_metadata_text()).unwrap();
        assert_eq!(
            user_metadata,
            json!({"language": "fr", "nested": {"a": [1, 2]}})
        );
        assert_eq!(p.app_metadata_text(), r#"{"plan":"pro"}"#);
        assert!(p.packed_size() < 300, "{}", p.packed_size());
        assert_eq!(
            std::mem::size_of::<Header>(),
            64,
            "beside the text, with both skeletons"
        );
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
        assert!(p.user_metadata_json().1 && p.user_metadata_json().1);
        assert!(p.app_metadata_json().1, "`{{}}` when never set");
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
            assert!(!p.user_metadata_json().1, "{text}");
        }
    }

    #[test]
    fn the_identity_the_user_id_names_is_kept_as_its_connection_and_reads_back_whole() {
        let identity = json!({"connection": "Username-Password-Authentication", "provider": "auth0",
            "user_id": "65a3198a88e4b7333a0dd488", "isSocial": false});
        let compact = profile(json!({"user_id": "auth0|65a3198a88e4b7333a0dd488",
            "identities": [identity.clone()]}));
        let verbatim = profile(json!({"user_id": "auth0|65a3198a88e4b7333a0dd488",
            "identities": [identity.clone(), identity.clone()]}));
        assert!(compact.flag(PRIMARY_IDENTITY) && !verbatim.flag(PRIMARY_IDENTITY));
        assert!(compact.flag(DEFAULT_DATABASE_CONNECTION));
        assert_eq!(
            compact.field(Field::Identities),
            Some(""),
            "Auth0's default database connection is a flag"
        );
        assert_eq!(
            serde_json::to_value(compact.identities()).unwrap(),
            json!([identity]),
            "every field as sent"
        );
        assert!(compact.has_database_identity());
        assert!(compact.packed_size() + 80 < verbatim.packed_size());
        let again: Profile =
            serde_json::from_slice(&serde_json::to_vec(&compact).unwrap()).unwrap();
        assert_eq!(again, compact);

        // Social and enterprise identities: the provider is what precedes the first `|`.
        for (user_id, provider, id, social) in [
            ("google-oauth2|1093", "google-oauth2", json!("1093"), true),
            ("github|77", "github", json!(77), true),
            (
                "samlp|acme-sso|jane@acme.com",
                "samlp",
                json!("acme-sso|jane@acme.com"),
                false,
            ),
        ] {
            let p = profile(
                json!({"user_id": user_id, "identities": [{"connection": "c",
                "provider": provider, "user_id": id, "isSocial": social}]}),
            );
            assert!(p.flag(PRIMARY_IDENTITY), "{user_id}");
            let [only] = p.identities().try_into().unwrap();
            assert_eq!(
                (
                    only.provider.as_str(),
                    only.user_id.as_str(),
                    only.is_social
                ),
                (provider, user_id.split_once('|').unwrap().1, social)
            );
            assert_eq!(only.connection, "c", "any other connection is kept by name");
            assert!(!p.has_database_identity());
        }
    }

    #[test]
    fn identities_the_user_id_does_not_name_are_kept_as_sent() {
        for identities in [
            json!([{"connection": "c", "provider": "auth0", "user_id": "other", "isSocial": false}]),
            json!([{"connection": "c", "provider": "auth0|x", "user_id": "y", "isSocial": false}]),
            json!([]),
            json!([{"connection": "c", "provider": "auth0", "user_id": "1", "isSocial": false},
                {"connection": "github", "provider": "github", "user_id": "2", "isSocial": true}]),
        ] {
            let p = profile(json!({"user_id": "auth0|1", "identities": identities.clone()}));
            assert!(!p.flag(PRIMARY_IDENTITY), "{identities}");
            assert_eq!(serde_json::to_value(p.identities()).unwrap(), identities);
        }
        let p = profile(
            json!({"user_id": "auth0|x|y", "identities": [{"connection": "c",
            "provider": "auth0|x", "user_id": "y", "isSocial": false}]}),
        );
        assert!(
            !p.flag(PRIMARY_IDENTITY),
            "a provider holding `|` is not what the id names"
        );
        assert_eq!(p.identities()[0].provider, "auth0|x");
    }

    #[test]
    fn auth0s_default_name_nickname_and_picture_are_kept_short_and_read_back_exactly() {
        let picture = "https://s.gravatar.com/avatar/5ee31b5986fafeb958a8d1acfe8f0336?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fju.png";
        let sent = json!({"user_id": "auth0|1", "email": "juliette.ito@fabrikam.example",
            "name": "juliette.ito@fabrikam.example", "nickname": "juliette.ito", "picture": picture});
        let p = profile(sent.clone());
        assert_eq!(
            p.header().flags & (NAME_IS_EMAIL | NICKNAME_IS_EMAIL_LOCAL_PART | DEFAULT_PICTURE),
            NAME_IS_EMAIL | NICKNAME_IS_EMAIL_LOCAL_PART | DEFAULT_PICTURE
        );
        assert_eq!(p.name(), Some("juliette.ito@fabrikam.example"));
        assert_eq!(p.nickname(), Some("juliette.ito"));
        assert_eq!(p.picture().map(|p| p.to_string()).as_deref(), Some(picture));
        assert_eq!(
            serde_json::to_value(p.picture()).unwrap(),
            json!(picture),
            "written into JSON as the address"
        );
        assert_eq!(
            p.text().len(),
            "auth0|1juliette.ito@fabrikam.example".len() + HASH_PACKED + "ju".len(),
            "the hash's 16 bytes in base64"
        );
        let again: Profile = serde_json::from_slice(&serde_json::to_vec(&p).unwrap()).unwrap();
        assert_eq!(again, p);
        let mut expected = sent;
        expected["email_verified"] = json!(false);
        expected["logins_count"] = json!(0);
        assert_eq!(serde_json::to_value(&p).unwrap(), expected);
    }

    #[test]
    fn timestamps_in_auth0s_form_are_packed_and_others_kept_as_sent() {
        let sent = json!({"user_id": "auth0|1", "created_at": "2023-12-22T20:56:03.509Z",
            "updated_at": "2024-01-11T06:05:57Z", "last_login": "2024-02-30T00:00:00.000Z"});
        let p = profile(sent.clone());
        assert!(p.flag(CREATED_AT_PACKED), "Auth0's own form");
        assert!(
            !p.flag(UPDATED_AT_PACKED),
            "no milliseconds: not Auth0's form"
        );
        assert!(!p.flag(LAST_LOGIN_PACKED), "not a day of the calendar");
        assert_eq!(
            p.stored(Field::CreatedAt).map(str::len),
            Some(8),
            "eight characters instead of 24"
        );
        let read = |at: Option<Timestamp<'_>>| at.map(|at| at.to_string());
        assert_eq!(
            read(p.created_at()).as_deref(),
            Some("2023-12-22T20:56:03.509Z")
        );
        assert_eq!(
            read(p.updated_at()).as_deref(),
            Some("2024-01-11T06:05:57Z")
        );
        assert_eq!(
            read(p.last_login()).as_deref(),
            Some("2024-02-30T00:00:00.000Z")
        );
        let mut expected = sent;
        expected["email_verified"] = json!(false);
        expected["logins_count"] = json!(0);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            expected,
            "written out as sent"
        );
        let again: Profile = serde_json::from_slice(&serde_json::to_vec(&p).unwrap()).unwrap();
        assert_eq!(again, p);
        let absent = profile(json!({"user_id": "auth0|2"}));
        assert!(absent.created_at().is_none() && absent.last_login().is_none());
    }

    #[test]
    fn metadata_of_a_shape_seen_before_is_kept_as_its_values_and_reads_back_exactly() {
        // Two identities, kept as JSON text too: only metadata is joined to a skeleton.
        let sent = |plan: &str, city: &str| {
            json!({"user_id": "auth0|1", "app_metadata": {"plan": plan, "seats": 3},
                "user_metadata": {"address": {"city": city, "country": "FR"}, "tags": [1, "a"]},
                "identities": [
                    {"connection": "c", "provider": "auth0", "user_id": "1", "isSocial": false},
                    {"connection": "google-oauth2", "provider": "google-oauth2", "user_id": "9",
                        "isSocial": true}]})
        };
        let (a, b) = (profile(sent("free", "Paris")), profile(sent("pro", "Lyon")));
        let shared = |p: &Profile| {
            p.header()
                .user_skeleton
                .clone()
                .zip(p.header().app_skeleton.clone())
        };
        let ((a_user, a_app), (b_user, b_app)) = (shared(&a).unwrap(), shared(&b).unwrap());
        assert!(Arc::ptr_eq(&a_user, &b_user) && Arc::ptr_eq(&a_app, &b_app));
        assert_eq!(
            b.user_metadata_text(),
            r#"{"address":{"city":"Lyon","country":"FR"},"tags":[1,"a"]}"#
        );
        assert_eq!(b.app_metadata_text(), r#"{"plan":"pro","seats":3}"#);
        assert_eq!(
            b.stored(Field::AppMetadata),
            Some("\"pro\"\u{0}3"),
            "values only"
        );
        assert!(b.user_metadata_json().1 && b.app_metadata_json().1);
        let mut expected = sent("pro", "Lyon");
        expected["email_verified"] = json!(false);
        expected["logins_count"] = json!(0);
        assert_eq!(serde_json::to_value(&b).unwrap(), expected);
        let again: Profile = serde_json::from_slice(&serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(again, b);
        let spaced: Profile =
            serde_json::from_str(r#"{"user_id":"x","user_metadata":{ "b" : 1 , "a" : [ ] }}"#)
                .unwrap();
        assert_eq!(spaced.user_metadata_text(), r#"{ "b" : 1 , "a" : [ ] }"#);
        assert!(!spaced.user_metadata_json().1);
    }

    #[test]
    fn a_name_of_the_given_and_family_names_is_kept_once() {
        for (name, given, family, joined) in [
            ("Charles Gupta", "Charles", "Gupta", true),
            ("Charles  Gupta", "Charles ", "Gupta", true),
            (" ", "", "", true),
            ("Charles  Gupta", "Charles", "Gupta", false),
            ("Gupta Charles", "Charles", "Gupta", false),
            ("Charles-Gupta", "Charles", "Gupta", false),
            ("Charles Gupta", "Charles", "", false),
        ] {
            let sent = json!({"user_id": "auth0|1", "name": name, "given_name": given,
                "family_name": family});
            let p = profile(sent.clone());
            assert_eq!(p.flag(NAME_IS_GIVEN_AND_FAMILY), joined, "{sent}");
            assert_eq!(
                (p.name(), p.given_name(), p.family_name()),
                (Some(name), Some(given), Some(family)),
                "{sent}"
            );
            let again: Profile = serde_json::from_slice(&serde_json::to_vec(&p).unwrap()).unwrap();
            assert_eq!(again, p);
        }
        let p = profile(json!({"user_id": "auth0|1", "name": "Charles Gupta",
            "given_name": "Charles", "family_name": "Gupta"}));
        assert_eq!(
            p.text().len(),
            "auth0|1Charles Gupta".len(),
            "the name is not kept twice"
        );
        let p = profile(json!({"user_id": "auth0|1", "name": "Charles Gupta",
            "given_name": "Charles"}));
        assert_eq!((p.name(), p.family_name()), (Some("Charles Gupta"), None));
    }

    #[test]
    fn names_and_pictures_that_are_not_auth0s_defaults_are_kept_as_sent() {
        let gravatar = "https://s.gravatar.com/avatar/5ee31b5986fafeb958a8d1acfe8f0336?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F";
        for (email, name, nickname, picture) in [
            ("jane@x.org", "Jane Doe", "jd", "https://x/y.png"),
            (
                "jane@x.org",
                "JANE@X.ORG",
                "Jane",
                format!("{gravatar}ju.jpg").as_str(),
            ),
            (
                "no-at-sign",
                "no-at-sign!",
                "no-at-sign",
                format!("{gravatar}j u.png").as_str(),
            ),
            ("a@b@c", "", "a@b", &gravatar.replace("5ee3", "5eez")),
            ("", "x", "", &gravatar.replace("5ee31b", "5ee31")),
            (
                "jane@x.org",
                "Jane",
                "J",
                &format!("{gravatar}ju.png").replace("5ee3", "5EE3"),
            ),
        ] {
            let p = profile(json!({"user_id": "auth0|1", "email": email, "name": name,
                "nickname": nickname, "picture": picture}));
            assert_eq!(
                p.header().flags & (NAME_IS_EMAIL | NICKNAME_IS_EMAIL_LOCAL_PART | DEFAULT_PICTURE),
                0,
                "{email} {name} {nickname} {picture}"
            );
            assert_eq!((p.name(), p.nickname()), (Some(name), Some(nickname)));
            assert_eq!(p.picture(), Some(Picture::Url(picture)));
        }
        let p = profile(json!({"user_id": "auth0|1", "name": "x"}));
        assert_eq!((p.email(), p.name(), p.nickname()), (None, Some("x"), None));
    }

    #[test]
    fn a_profile_of_64_kib_and_more_keeps_every_field() {
        let long = "x".repeat(70_000);
        let p = profile(json!({"user_id": "auth0|big", "email": "a@b.c",
            "user_metadata": {"note": long}, "app_metadata": {"plan": "pro"}}));
        assert!(matches!(p.header().ends, Ends::Wide(_)));
        assert_eq!(p.email(), Some("a@b.c"));
        assert_eq!(p.app_metadata_text(), r#"{"plan":"pro"}"#);
        assert_eq!(
            p.user_metadata_text().len(),
            70_000 + r#"{"note":""}"#.len()
        );
        assert!(matches!(
            profile(json!({"user_id": "auth0|small"})).header().ends,
            Ends::Narrow(_)
        ));
    }

    #[test]
    fn malformed_identities_are_refused_at_once() {
        assert!(serde_json::from_str::<Profile>(r#"{"user_id": "x", "identities": 5}"#).is_err());
        assert!(
            serde_json::from_str::<Profile>(r#"{"user_id": 5}"#).is_err(),
            "only an identity's user_id may be a number"
        );
        for identity in [
            r#"{"provider": "auth0", "user_id": "x", "isSocial": false}"#,
            r#"{"connection": "c", "provider": 5, "user_id": "x"}"#,
            r#"{"connection": "c", "provider": "auth0", "user_id": true}"#,
            r#"{"connection": "c", "provider": "auth0", "user_id": "x", "isSocial": "no"}"#,
        ] {
            let sent = format!(r#"{{"user_id": "auth0|x", "identities": [{identity}]}}"#);
            assert!(
                serde_json::from_str::<Profile>(&sent).is_err(),
                "{identity}"
            );
        }
        let escaped = r#"{"user_id": "auth0|xé", "identities": [{"connection": "c\"d", "provider": "auth0", "user_id": "x\u00e9", "isSocial": null}]}"#;
        let p: Profile = serde_json::from_str(escaped).unwrap();
        assert!(
            p.flag(PRIMARY_IDENTITY),
            "escaped strings are compared decoded"
        );
        assert_eq!(
            (
                p.identities()[0].connection.as_str(),
                p.identities()[0].user_id.as_str()
            ),
            ("c\"d", "xé")
        );
        assert!(serde_json::from_str::<Profile>(r#"{"email": "no id"}"#).is_err());
    }
}
