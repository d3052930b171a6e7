//! The tenant's data: users with their hash indexes and the lagging view search sees, plus logs,
//! organizations, roles, blocks, jobs and daily figures.
//!
//! Profiles are kept as the exact JSON Auth0 returns (`Arc<Value>`), so reads serialise them
//! without copying and search evaluates them as they are. A write replaces the `Arc`.

mod directory;
mod logs;
mod membership_view;
mod search_view;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

pub use directory::{
    App, BlockedFor, Connection, Directory, Job, ORGANIZATIONS_PER_TENANT, Organization,
    ROLES_PER_TENANT, ROLES_PER_USER, Role,
};
pub use logs::{LogEvent, LogKind, Logs, USER_AGENTS};
pub use membership_view::ListedMember;

/// How the store's eventually consistent views trail writes, and how long it keeps logs.
#[derive(Clone, Copy, Debug)]
pub struct StoreSettings {
    pub search_lag: Duration,
    pub membership_lag: Duration,
    pub log_retention: Duration,
}

impl StoreSettings {
    pub fn of(config: &crate::config::EmulatorConfig) -> Self {
        Self {
            search_lag: config.search_lag,
            membership_lag: config.membership_lag,
            log_retention: config.log_retention,
        }
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            search_lag: Duration::ZERO,
            membership_lag: Duration::ZERO,
            log_retention: crate::config::DEFAULT_LOG_RETENTION,
        }
    }
}

/// What a user can prove or be given at login, never part of the profile.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub password: Option<Arc<str>>,
    /// The `permissions` claim added to this user's password-realm tokens.
    pub permissions: Vec<String>,
    pub org_id: Option<String>,
    pub claims: Map<String, Value>,
}

/// One user id's history: the profile now, and what search sees while its index catches up.
pub struct UserRecord {
    /// `None` once deleted; the record lives on while search still returns the user.
    pub current: Option<Arc<Value>>,
    /// The version search sees once every pending write has matured.
    indexed: Option<Arc<Value>>,
    /// Writes search does not see yet, oldest first: (when written, version written).
    pending: Vec<(Instant, Option<Arc<Value>>)>,
    pub credentials: Credentials,
}

/// Why a write was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Conflict {
    UserIdTaken,
    EmailTaken,
}

pub struct Store {
    users: HashMap<Arc<str>, UserRecord>,
    /// Every record's id, so scans run in `user_id` order without sorting.
    order: BTreeSet<Arc<str>>,
    /// Lower-cased email → current users with it (all connections).
    by_email: HashMap<String, Vec<Arc<str>>>,
    /// (connection, lower-cased email) → user: Auth0's uniqueness rule.
    by_connection_email: HashMap<(String, String), Arc<str>>,
    /// Users with writes search does not see yet; empty when there is no lag.
    lagging: HashSet<Arc<str>>,
    search_lag: Duration,
    live: usize,
    pub logs: Logs,
    pub directory: Directory,
}

/// The id of a profile.
pub fn user_id(profile: &Value) -> Option<&str> {
    profile.get("user_id").and_then(Value::as_str)
}

/// The email of a profile, if any.
pub fn email(profile: &Value) -> Option<&str> {
    profile.get("email").and_then(Value::as_str)
}

/// The connection of a profile's primary identity.
pub fn connection(profile: &Value) -> Option<&str> {
    profile
        .pointer("/identities/0/connection")
        .and_then(Value::as_str)
}

impl Store {
    pub fn new(settings: StoreSettings, mut directory: Directory) -> Self {
        directory.membership_lag = settings.membership_lag;
        Self {
            users: HashMap::new(),
            order: BTreeSet::new(),
            by_email: HashMap::new(),
            by_connection_email: HashMap::new(),
            lagging: HashSet::new(),
            search_lag: settings.search_lag,
            live: 0,
            logs: Logs::new(settings.log_retention),
            directory,
        }
    }

    /// The current profile (consistent at once, as get-by-id is in Auth0).
    pub fn get(&self, id: &str) -> Option<&Arc<Value>> {
        self.users.get(id).and_then(|r| r.current.as_ref())
    }

    pub fn credentials(&self, id: &str) -> Option<&Credentials> {
        self.users
            .get(id)
            .filter(|r| r.current.is_some())
            .map(|r| &r.credentials)
    }

    /// The interned id, shared by every index (saves an allocation per membership).
    pub fn interned_id(&self, id: &str) -> Option<Arc<str>> {
        self.users.get_key_value(id).map(|(k, _)| Arc::clone(k))
    }

    /// Current users whose email equals `email` ignoring case.
    pub fn by_email(&self, email: &str) -> impl Iterator<Item = &Arc<Value>> {
        self.by_email
            .get(&email.to_lowercase())
            .into_iter()
            .flatten()
            .filter_map(|id| self.get(id))
    }

    /// The user holding `email` in `connection`.
    pub fn by_connection_email(&self, connection: &str, email: &str) -> Option<&Arc<Value>> {
        let key = (connection.to_owned(), email.to_lowercase());
        self.by_connection_email
            .get(&key)
            .and_then(|id| self.get(id))
    }

    /// Current users, in `user_id` order (consistent view, for the control API).
    pub fn current_users(&self) -> impl Iterator<Item = &Arc<Value>> {
        self.order.iter().filter_map(|id| self.get(id))
    }

    /// Number of current (not deleted) users.
    pub fn user_count(&self) -> usize {
        self.live
    }

    /// Adds a user. `now` is when the write happened (search sees it `search_lag` later).
    pub fn insert(
        &mut self,
        profile: Value,
        credentials: Credentials,
        now: Instant,
    ) -> Result<Arc<Value>, Conflict> {
        self.insert_at(profile, credentials, Some(now))
    }

    /// Adds a user search sees at once: the seed, and users configured before start.
    pub fn insert_indexed(
        &mut self,
        profile: Value,
        credentials: Credentials,
    ) -> Result<Arc<Value>, Conflict> {
        self.insert_at(profile, credentials, None)
    }

    fn insert_at(
        &mut self,
        profile: Value,
        credentials: Credentials,
        written: Option<Instant>,
    ) -> Result<Arc<Value>, Conflict> {
        let id = user_id(&profile).unwrap_or_default().to_owned();
        if self.get(&id).is_some() {
            return Err(Conflict::UserIdTaken);
        }
        self.check_email_free(&profile, None)?;
        if let Some(now) = written {
            self.mature(now);
        }
        let id: Arc<str> = match self.users.get_key_value(id.as_str()) {
            Some((existing, _)) => Arc::clone(existing),
            None => Arc::from(id),
        };
        let profile = Arc::new(profile);
        self.index(&id, &profile);
        let record = self
            .users
            .entry(Arc::clone(&id))
            .or_insert_with(|| UserRecord {
                current: None,
                indexed: None,
                pending: Vec::new(),
                credentials: Credentials::default(),
            });
        record.credentials = credentials;
        self.order.insert(Arc::clone(&id));
        self.live += 1;
        self.record_write(&id, Some(Arc::clone(&profile)), written);
        Ok(profile)
    }

    /// Replaces the profile of an existing user, keeping the indexes in step.
    pub fn replace(&mut self, profile: Value, now: Instant) -> Result<Arc<Value>, Conflict> {
        let id = user_id(&profile).unwrap_or_default().to_owned();
        let Some(old) = self.get(&id).cloned() else {
            return Err(Conflict::UserIdTaken);
        };
        self.check_email_free(&profile, Some(&id))?;
        self.mature(now);
        let Some(key) = self.interned_id(&id) else {
            return Err(Conflict::UserIdTaken);
        };
        self.unindex(&key, &old);
        let profile = Arc::new(profile);
        self.index(&key, &profile);
        self.record_write(&key, Some(Arc::clone(&profile)), Some(now));
        Ok(profile)
    }

    pub fn set_password(&mut self, id: &str, password: &str) {
        if let Some(record) = self.users.get_mut(id) {
            record.credentials.password = Some(Arc::from(password));
        }
    }

    /// Deletes a user: gone for get-by-id at once, still found by search for `search_lag`.
    pub fn delete(&mut self, id: &str, now: Instant) -> Option<Arc<Value>> {
        let old = self.get(id).cloned()?;
        self.mature(now);
        let key = self.interned_id(id)?;
        self.unindex(&key, &old);
        self.directory.forget_user(&key, &old, now);
        self.live -= 1;
        self.record_write(&key, None, Some(now));
        Some(old)
    }

    fn check_email_free(&self, profile: &Value, except: Option<&str>) -> Result<(), Conflict> {
        let (Some(connection), Some(email)) = (connection(profile), email(profile)) else {
            return Ok(());
        };
        match self.by_connection_email(connection, email) {
            Some(holder) if Some(user_id(holder).unwrap_or_default()) != except => {
                Err(Conflict::EmailTaken)
            }
            _ => Ok(()),
        }
    }

    fn index(&mut self, id: &Arc<str>, profile: &Value) {
        if let Some(email) = email(profile) {
            let email = email.to_lowercase();
            if let Some(connection) = connection(profile) {
                self.by_connection_email
                    .insert((connection.to_owned(), email.clone()), Arc::clone(id));
            }
            self.by_email.entry(email).or_default().push(Arc::clone(id));
        }
    }

    fn unindex(&mut self, id: &Arc<str>, profile: &Value) {
        if let Some(email) = email(profile) {
            let email = email.to_lowercase();
            if let Some(connection) = connection(profile) {
                self.by_connection_email
                    .remove(&(connection.to_owned(), email.clone()));
            }
            if let Some(ids) = self.by_email.get_mut(&email) {
                ids.retain(|other| other != id);
                if ids.is_empty() {
                    self.by_email.remove(&email);
                }
            }
        }
    }

    /// Records a new version; `written: None` makes it visible to search at once.
    fn record_write(
        &mut self,
        id: &Arc<str>,
        version: Option<Arc<Value>>,
        written: Option<Instant>,
    ) {
        let lag = self.search_lag;
        let Some(record) = self.users.get_mut(id) else {
            return;
        };
        record.current.clone_from(&version);
        let pending_since = written.filter(|_| !lag.is_zero());
        if let Some(now) = pending_since {
            record.pending.push((now, version));
            self.lagging.insert(Arc::clone(id));
        } else {
            record.pending.clear();
            record.indexed = version;
            if record.current.is_none() {
                self.users.remove(id);
                self.order.remove(id);
            }
        }
    }

    /// Folds writes older than the lag into the indexed view and drops deleted users search no
    /// longer sees. Runs on every write, so the lagging set stays as small as the recent writes.
    fn mature(&mut self, now: Instant) {
        let lag = self.search_lag;
        let mut settled = Vec::new();
        for id in &self.lagging {
            let Some(record) = self.users.get_mut(id) else {
                settled.push(Arc::clone(id));
                continue;
            };
            let ripe = record
                .pending
                .iter()
                .take_while(|(at, _)| *at + lag <= now)
                .count();
            if ripe > 0
                && let Some((_, version)) = record.pending.drain(..ripe).next_back()
            {
                record.indexed = version;
            }
            if record.pending.is_empty() {
                settled.push(Arc::clone(id));
            }
        }
        for id in settled {
            self.lagging.remove(&id);
            let gone = self.users.get(&id).is_some_and(|r| {
                r.current.is_none() && r.indexed.is_none() && r.pending.is_empty()
            });
            if gone {
                self.users.remove(&id);
                self.order.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(id: &str, email: &str, name: &str) -> Value {
        json!({
            "user_id": id,
            "email": email,
            "name": name,
            "identities": [{"connection": "db", "provider": "auth0", "user_id": id}],
        })
    }

    fn names(users: Vec<&Arc<Value>>) -> Vec<String> {
        users
            .iter()
            .map(|u| u["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn search_sees_each_write_only_once_the_lag_has_passed() {
        let lag = Duration::from_secs(10);
        let settings = StoreSettings {
            search_lag: lag,
            ..StoreSettings::default()
        };
        let mut store = Store::new(settings, Directory::default());
        let t0 = Instant::now();
        store
            .insert(
                profile("auth0|a", "a@x.test", "one"),
                Credentials::default(),
                t0,
            )
            .unwrap();
        assert!(
            store.get("auth0|a").is_some(),
            "get-by-id is consistent at once"
        );
        assert!(store.search_ids(&["auth0|a".into()], t0).is_empty());
        let later = t0 + lag;
        assert_eq!(names(store.search_ids(&["auth0|a".into()], later)), ["one"]);

        store
            .replace(profile("auth0|a", "b@x.test", "two"), later)
            .unwrap();
        assert_eq!(
            names(store.search_emails(&["a@x.test".into()], later)),
            ["one"]
        );
        assert_eq!(
            names(store.search_emails(&["b@x.test".into()], later)),
            ["one"]
        );
        assert_eq!(
            names(store.search_emails(&["b@x.test".into()], later + lag)),
            ["two"]
        );

        store.delete("auth0|a", later + lag);
        assert!(store.get("auth0|a").is_none());
        assert_eq!(store.search_all(later + lag).count(), 1, "still indexed");
        assert_eq!(store.search_all(later + lag + lag).count(), 0);
    }

    #[test]
    fn matured_deletions_are_forgotten_on_the_next_write() {
        let lag = Duration::from_millis(1);
        let settings = StoreSettings {
            search_lag: lag,
            ..StoreSettings::default()
        };
        let mut store = Store::new(settings, Directory::default());
        let t0 = Instant::now();
        store
            .insert(
                profile("auth0|a", "a@x.test", "a"),
                Credentials::default(),
                t0,
            )
            .unwrap();
        store.delete("auth0|a", t0);
        store
            .insert(
                profile("auth0|b", "b@x.test", "b"),
                Credentials::default(),
                t0 + lag,
            )
            .unwrap();
        assert!(!store.users.contains_key("auth0|a"));
        assert!(store.lagging.iter().all(|id| &**id == "auth0|b"));
    }

    #[test]
    fn emails_are_unique_per_connection_ignoring_case() {
        let mut store = Store::new(StoreSettings::default(), Directory::default());
        let now = Instant::now();
        store
            .insert(
                profile("auth0|a", "a@x.test", "a"),
                Credentials::default(),
                now,
            )
            .unwrap();
        let duplicate = store.insert(
            profile("auth0|b", "A@X.test", "b"),
            Credentials::default(),
            now,
        );
        assert_eq!(duplicate.unwrap_err(), Conflict::EmailTaken);
        assert_eq!(store.by_email("A@x.TEST").count(), 1);
        assert_eq!(store.user_count(), 1);
    }
}
