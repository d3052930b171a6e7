//! Signing in a database user as Auth0 does for every password login (the password-realm grant
//! and the login page alike): brute-force protection, admin blocks, what a login changes in the
//! profile, and the log event each outcome leaves (`s`, `fp`, `fu`, `f`, `limit_wc`).

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::state::AppState;
use crate::store::{BlockedFor, LogEvent, LogKind, Store};

/// Consecutive failures from one IP after which Auth0's brute-force protection blocks an account.
const BRUTE_FORCE_THRESHOLD: u32 = 10;

/// What vouches for the user.
#[derive(Clone, Copy, Debug)]
pub enum Proof<'a> {
    Password(&'a str),
    /// A persona button on the login page: the emulator vouches, every other rule still applies.
    Persona,
}

/// One login attempt.
pub struct Attempt<'a> {
    pub client_id: &'a str,
    /// The database connection (the password-realm `realm`).
    pub connection: &'a str,
    /// The email typed in.
    pub username: &'a str,
    pub proof: Proof<'a>,
    pub ip: Ipv4Addr,
}

/// Why a login was refused; each caller words it as its own endpoint does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such database connection.
    UnknownConnection,
    /// Unknown email or wrong password (one answer for both, so accounts cannot be probed).
    WrongCredentials,
    /// The identifier is brute-force-blocked.
    TooManyAttempts,
    /// An administrator blocked the user.
    Blocked,
}

/// What a login contributes to its tokens.
pub struct Login {
    pub profile: Arc<Value>,
    /// The user's own permissions and those of its roles (Auth0 RBAC).
    pub permissions: Vec<String>,
    pub org_id: Option<String>,
    /// Claims an Action would add.
    pub claims: Map<String, Value>,
}

impl Login {
    /// The token material of an existing user as it is now (for a code issued earlier).
    pub fn of(store: &Store, user_id: &str) -> Option<Self> {
        let profile = Arc::clone(store.get(user_id)?);
        let credentials = store.credentials(user_id).cloned().unwrap_or_default();
        let mut permissions = store.directory.permissions_of(user_id);
        for permission in &credentials.permissions {
            if !permissions.contains(permission) {
                permissions.push(permission.clone());
            }
        }
        Some(Self {
            profile,
            permissions,
            org_id: credentials.org_id,
            claims: credentials.claims,
        })
    }
}

/// Checks the attempt and records it. On success the profile's `logins_count`, `last_login` and
/// `last_ip` move and an `s` event is logged.
pub fn authenticate(state: &AppState, attempt: &Attempt<'_>) -> Result<Login, Refusal> {
    let now = state.clock.now();
    let mut store = state.write();
    let connection = match store.directory.connection(attempt.connection) {
        Some(c) if c.is_database() => c.clone(),
        _ => return Err(Refusal::UnknownConnection),
    };
    let identifier = attempt.username.to_lowercase();
    let event = |store: &mut Store, kind: LogKind, description: Option<&str>| {
        let mut event = LogEvent::new(now, kind);
        event.ip = attempt.ip;
        event.app = store.directory.app_index(attempt.client_id);
        event.connection = store.directory.connection_index(&connection.name);
        event.description = description.map(Into::into);
        event.user_name = Some(Arc::from(identifier.as_str()));
        event
    };
    let Some(user) = store
        .by_connection_email(&connection.name, attempt.username)
        .cloned()
    else {
        let unknown = event(&mut store, LogKind::WrongUsername, None);
        store.logs.push_unattributed(unknown);
        return Err(Refusal::WrongCredentials);
    };
    let id = crate::store::user_id(&user).unwrap_or_default().to_owned();
    let record = |store: &mut Store, kind: LogKind, description: Option<&str>| {
        let event = event(store, kind, description);
        if let Some(key) = store.interned_id(&id) {
            store.logs.push(&key, event);
        }
    };
    if !store.directory.blocks_of(&[identifier.as_str()]).is_empty() {
        return Err(Refusal::TooManyAttempts);
    }
    let credentials = store.credentials(&id).cloned().unwrap_or_default();
    let proven = match attempt.proof {
        Proof::Password(password) => credentials.password.as_deref() == Some(password),
        Proof::Persona => true,
    };
    if !proven {
        record(&mut store, LogKind::WrongPassword, None);
        let failures = store
            .directory
            .failures
            .entry((identifier.clone(), attempt.ip))
            .or_default();
        *failures += 1;
        if *failures >= BRUTE_FORCE_THRESHOLD {
            let block = BlockedFor {
                identifier: identifier.clone(),
                ip: attempt.ip,
                connection: connection.name.clone(),
            };
            store
                .directory
                .blocks
                .entry(identifier.clone())
                .or_default()
                .push(block);
            store
                .directory
                .failures
                .remove(&(identifier.clone(), attempt.ip));
            record(&mut store, LogKind::Blocked, None);
        }
        return Err(Refusal::WrongCredentials);
    }
    if user.get("blocked").and_then(Value::as_bool) == Some(true) {
        record(&mut store, LogKind::FailedLogin, Some("user is blocked"));
        return Err(Refusal::Blocked);
    }
    store
        .directory
        .failures
        .remove(&(identifier.clone(), attempt.ip));
    let mut profile = user.as_object().cloned().unwrap_or_default();
    let count = profile
        .get("logins_count")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        + 1;
    profile.insert("logins_count".into(), json!(count));
    profile.insert("last_login".into(), json!(iso(now)));
    profile.insert("last_ip".into(), json!(attempt.ip.to_string()));
    profile.insert("updated_at".into(), json!(iso(now)));
    // The user exists and keeps its email, so the write cannot conflict.
    let _ = store.replace(Value::Object(profile), std::time::Instant::now());
    record(&mut store, LogKind::Login, None);
    Login::of(&store, &id).ok_or(Refusal::WrongCredentials)
}
