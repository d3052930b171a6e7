//! Named users added after the seed (from the config or `POST /__emulator/users`), with the
//! credentials and claims their password-realm tokens carry.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::config::{DATABASE_CONNECTION, ExtraUser};
use crate::mgmt::validate::{check_email, check_metadata, check_size};
use crate::profile::{NewProfile, new_profile, object_id};
use crate::store::{Conflict, Credentials, Store};

/// Adds `extra` at runtime: a write like any other, which search sees after the lag.
pub fn add(store: &mut Store, extra: &ExtraUser, now: DateTime<Utc>) -> anyhow::Result<Arc<Value>> {
    insert(store, extra, now, Some(Instant::now()))
}

/// Adds `extra` as part of the initial data, which search sees at once.
pub fn add_indexed(
    store: &mut Store,
    extra: &ExtraUser,
    now: DateTime<Utc>,
) -> anyhow::Result<Arc<Value>> {
    insert(store, extra, now, None)
}

/// Unlike `POST /api/v2/users` no password policy applies, so tests can pick any password.
fn insert(
    store: &mut Store,
    extra: &ExtraUser,
    now: DateTime<Utc>,
    written: Option<Instant>,
) -> anyhow::Result<Arc<Value>> {
    let connection_name = extra.connection.as_deref().unwrap_or(DATABASE_CONNECTION);
    let connection = store
        .directory
        .connection(connection_name)
        .cloned()
        .with_context(|| format!("the connection {connection_name} does not exist"))?;
    check_email(&extra.email).map_err(|e| anyhow::anyhow!(e.message))?;
    if connection.is_database() && extra.password.is_empty() {
        bail!("a database user needs a password");
    }
    let prefix = format!("{}|", connection.strategy);
    let id_tail = match &extra.user_id {
        Some(id) if id.contains('|') => match id.strip_prefix(prefix.as_str()) {
            Some(tail) => tail.to_owned(),
            None => bail!("user_id {id} does not belong to the connection {connection_name}"),
        },
        Some(tail) => tail.clone(),
        None => object_id(now, rand::random()),
    };
    let mut profile = new_profile(NewProfile {
        connection: &connection,
        id_tail,
        email: Some(extra.email.clone()),
        email_verified: extra.email_verified,
        name: extra.name.clone(),
        created_at: now,
    });
    for (key, value) in [
        ("user_metadata", &extra.user_metadata),
        ("app_metadata", &extra.app_metadata),
    ] {
        if value.is_null() {
            continue;
        }
        check_metadata(key, value).map_err(|e| anyhow::anyhow!(e.message))?;
        if let Some(object) = value.as_object() {
            check_size(key, object).map_err(|e| anyhow::anyhow!(e.message))?;
        }
        profile.insert(key.to_owned(), value.clone());
    }
    let credentials = Credentials {
        password: connection
            .is_database()
            .then(|| Arc::from(extra.password.as_str())),
        permissions: extra.permissions.clone(),
        org_id: extra.org_id.clone(),
        claims: extra.claims.clone(),
    };
    let profile = Value::Object(profile);
    let inserted = match written {
        Some(at) => store.insert(profile, credentials, at),
        None => store.insert_indexed(profile, credentials),
    };
    let created = inserted.map_err(|conflict| match conflict {
        Conflict::EmailTaken => anyhow::anyhow!(
            "The user already exists: {} is taken in {connection_name}",
            extra.email
        ),
        Conflict::UserIdTaken => anyhow::anyhow!("The user already exists: the user_id is taken"),
    })?;
    store.logs.add_signup(now);
    // A user whose tokens name an organization is one of its members.
    let lag = store.directory.membership_lag;
    if let Some(org_id) = &extra.org_id
        && let Some(org) = store
            .directory
            .organizations
            .iter_mut()
            .find(|o| &o.id == org_id)
        && let Some(id) = crate::store::user_id(&created)
    {
        org.add_member(Arc::from(id), written, lag);
    }
    Ok(created)
}
