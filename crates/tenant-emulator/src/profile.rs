//! Building user profiles the way Auth0 shapes them: ids, identities, defaults for name,
//! nickname and picture.

use chrono::{DateTime, Utc};
use rsa::sha2::{Digest as _, Sha256};
use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::store::Connection;

/// An Auth0 database user id tail: 24 hex digits like a MongoDB ObjectId, whose first 8 encode
/// the creation time (as Auth0's do).
pub fn object_id(created: DateTime<Utc>, random: u64) -> String {
    let seconds = u32::try_from(created.timestamp().max(0)).unwrap_or(u32::MAX);
    format!("{seconds:08x}{random:016x}")
}

/// The avatar Auth0 gives users without a picture: a Gravatar URL falling back to initials.
pub fn default_picture(email: &str, name: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(char::is_ascii_alphabetic)
        .take(2)
        .collect::<String>()
        .to_lowercase();
    let initials = if initials.is_empty() {
        "u".to_owned()
    } else {
        initials
    };
    let fallback = format!("https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{initials}.png");
    format!("https://s.gravatar.com/avatar/{hash}?s=480&r=pg&d={fallback}")
}

/// The identity entry of a connection for a user id tail.
pub fn identity(connection: &Connection, id_tail: &str) -> Value {
    json!({
        "connection": connection.name,
        "user_id": id_tail,
        "provider": connection.strategy,
        "isSocial": !connection.is_database(),
    })
}

/// The fields every new profile starts with.
pub struct NewProfile<'a> {
    pub connection: &'a Connection,
    /// The part after `provider|`.
    pub id_tail: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A profile as Auth0 returns it right after creation. Database emails are stored lower-case.
pub fn new_profile(new: NewProfile<'_>) -> Map<String, Value> {
    let email = new.email.map(|e| {
        if new.connection.is_database() {
            e.to_lowercase()
        } else {
            e
        }
    });
    let name = new.name.or_else(|| email.clone()).unwrap_or_default();
    let nickname = email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .unwrap_or(name.as_str())
        .to_owned();
    let picture = default_picture(email.as_deref().unwrap_or_default(), &name);
    let created = iso(new.created_at);
    let mut profile = Map::new();
    profile.insert(
        "user_id".into(),
        json!(format!("{}|{}", new.connection.strategy, new.id_tail)),
    );
    if let Some(email) = email {
        profile.insert("email".into(), json!(email));
        profile.insert("email_verified".into(), json!(new.email_verified));
    }
    profile.insert("name".into(), json!(name));
    profile.insert("nickname".into(), json!(nickname));
    profile.insert("picture".into(), json!(picture));
    profile.insert(
        "identities".into(),
        json!([identity(new.connection, &new.id_tail)]),
    );
    profile.insert("created_at".into(), json!(created));
    // No `logins_count` until the first login: Auth0 leaves it out of new profiles.
    profile.insert("updated_at".into(), json!(created));
    profile
}

/// A random token of letters and digits, as in `job_…` ids and ticket URLs.
pub fn random_alnum(rng: &mut impl rand::Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}
