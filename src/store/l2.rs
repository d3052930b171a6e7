//! The second-level profile cache in Redis, under each replica's moka cache.
//!
//! A value is `{updated_at}\n{profile JSON}`; a deleted user is a tombstone `~{deleted at}`.
//! Values are written by a script that refuses to replace a newer one, so a replica whose read
//! began before a write cannot put the older profile back over the written one (or over a
//! deletion). Keys expire after `redis.profile_ttl`.

use std::collections::HashMap;
use std::sync::LazyLock;

use redis::Script;

use super::cache::CachedProfile;
use crate::keys::UserKey;
use crate::shared::Shared;
use crate::tenant::Profile;

/// Sets `KEYS[1]` to `ARGV[2]` for `ARGV[3]` ms unless the stored value carries a newer stamp
/// than `ARGV[1]` (stamps are RFC 3339 instants, ordered as text).
const PUT_IF_NEWER_SOURCE: &str = r"
local current = redis.call('GET', KEYS[1])
if current then
  local stamp
  if string.sub(current, 1, 1) == '~' then
    stamp = string.sub(current, 2)
  else
    local newline = string.find(current, '\n', 1, true)
    stamp = newline and string.sub(current, 1, newline - 1) or ''
  end
  if stamp > ARGV[1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
";
/// Built once: `Script::new` hashes the source (SHA-1) each time it is called.
static PUT_IF_NEWER: LazyLock<Script> = LazyLock::new(|| Script::new(PUT_IF_NEWER_SOURCE));

fn profile_key(shared: &Shared, key: &UserKey) -> String {
    shared.key(&["p", &key.tenant, &key.id])
}

fn ttl_ms(shared: &Shared) -> u64 {
    shared.config().profile_ttl.as_millis().max(1) as u64
}

/// The profiles Redis holds for these keys: `None` for a user deleted lately through some
/// replica; keys Redis knows nothing of are left out.
pub(super) async fn profiles(shared: &Shared, keys: &[UserKey]) -> HashMap<UserKey, CachedProfile> {
    if keys.is_empty() {
        return HashMap::new();
    }
    let names: Vec<String> = keys.iter().map(|k| profile_key(shared, k)).collect();
    let values: Option<Vec<Option<Vec<u8>>>> = shared
        .run("l2_get", |mut connection| async move {
            redis::cmd("MGET")
                .arg(&names)
                .query_async(&mut connection)
                .await
        })
        .await;
    let mut found = HashMap::new();
    for (key, value) in keys.iter().zip(values.unwrap_or_default()) {
        let Some(value) = value else { continue };
        if value.first() == Some(&b'~') {
            found.insert(key.clone(), None);
            continue;
        }
        let json = value
            .iter()
            .position(|b| *b == b'\n')
            .map_or(&value[..], |at| &value[at + 1..]);
        match serde_json::from_slice::<Profile>(json) {
            Ok(profile) => {
                found.insert(key.clone(), Some(profile));
            }
            Err(error) => tracing::warn!(%error, "unreadable profile in redis; ignored"),
        }
    }
    found
}

/// Stores a profile, unless Redis holds a newer one (or a later deletion).
pub(super) async fn put_profile(shared: &Shared, key: &UserKey, profile: &Profile) {
    let Ok(json) = serde_json::to_vec(profile) else {
        return;
    };
    let stamp = profile
        .updated_at()
        .map(|at| at.to_string())
        .unwrap_or_default();
    let mut value = Vec::with_capacity(stamp.len() + 1 + json.len());
    value.extend_from_slice(stamp.as_bytes());
    value.push(b'\n');
    value.extend_from_slice(&json);
    let name = profile_key(shared, key);
    let ttl = ttl_ms(shared);
    shared
        .run("l2_put", |mut connection| async move {
            PUT_IF_NEWER
                .key(name)
                .arg(stamp)
                .arg(value)
                .arg(ttl)
                .invoke_async::<i64>(&mut connection)
                .await
        })
        .await;
}

/// Records a deletion, so no replica brings the profile back from an older read.
pub(super) async fn put_deleted(shared: &Shared, key: &UserKey) {
    let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let name = profile_key(shared, key);
    let ttl = ttl_ms(shared);
    shared
        .run("l2_delete", |mut connection| async move {
            redis::cmd("SET")
                .arg(name)
                .arg(format!("~{stamp}"))
                .arg("PX")
                .arg(ttl)
                .query_async::<()>(&mut connection)
                .await
        })
        .await;
}

/// Forgets a profile whose state is unknown (a write without an answer).
pub(super) async fn forget_profile(shared: &Shared, key: &UserKey) {
    let name = profile_key(shared, key);
    shared
        .run("l2_forget", |mut connection| async move {
            redis::cmd("DEL")
                .arg(name)
                .query_async::<()>(&mut connection)
                .await
        })
        .await;
}
