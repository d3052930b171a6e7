//! Sessions and sign-in transactions, kept in cookies the browser cannot read or forge: each is
//! encrypted and authenticated (AES-256-GCM, cookie's private jar) with the portal's key. A
//! session cookie is HttpOnly, SameSite=Lax, Secure under https (then named `__Host-…`, which
//! pins it to this origin and path `/`), and carries no expiry of its own: the server ends it
//! after `portal.session_idle` without use or `portal.session_absolute` after sign-in, or when
//! its access token expires. Signing out records the session's id until it would have ended
//! anyway, so a copy of the cookie is refused too (per replica).
//!
//! Every form carries the session's CSRF token, checked on every POST.

use std::time::Duration;

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which half of the portal a cookie belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Realm {
    Admin,
    Account,
}

impl Realm {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Admin => "/admin",
            Self::Account => "/account",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Account => "account",
        }
    }
}

/// A message shown once, on the page a form's POST leads back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Flash {
    pub(crate) ok: bool,
    pub(crate) text: String,
    /// A link to show with a copy button (a password-change ticket).
    #[serde(default)]
    pub(crate) link: Option<String>,
}

impl Flash {
    pub(crate) fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
            link: None,
        }
    }

    pub(crate) fn error(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: text.into(),
            link: None,
        }
    }
}

/// A signed-in person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) realm: Realm,
    /// The end user's tenant (`/account/`).
    pub(crate) tenant: Option<String>,
    /// The access token every page's GraphQL runs with.
    pub(crate) token: String,
    /// Unix milliseconds.
    pub(crate) token_expires: i64,
    pub(crate) created: i64,
    pub(crate) seen: i64,
    pub(crate) csrf: String,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) flash: Option<Flash>,
}

/// A sign-in under way: what the callback must find again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Transaction {
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) verifier: String,
    /// Where to go once signed in (a path of this realm).
    pub(crate) return_to: String,
    pub(crate) tenant: Option<String>,
    pub(crate) created: i64,
}

/// How long a sign-in may take (the issuer's own limit is about as long).
pub(crate) const TRANSACTION_TTL: Duration = Duration::from_secs(600);

/// Why there is no usable session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSession {
    /// Never signed in (or signed out).
    Absent,
    /// Signed in once, but it has ended: idle, too old, or the token expired.
    Expired,
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// 32 random bytes, URL-safe.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Equal, compared by digest (so the time taken says nothing about where they differ).
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// The cookies of the portal, with the key and the rules they are made by.
#[derive(Clone)]
pub(crate) struct Cookies {
    key: Key,
    secure: bool,
    idle: Duration,
    absolute: Duration,
}

impl std::fmt::Debug for Cookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cookies")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl Cookies {
    pub(crate) fn new(key: Key, secure: bool, idle: Duration, absolute: Duration) -> Self {
        Self {
            key,
            secure,
            idle,
            absolute,
        }
    }

    pub(crate) fn jar(&self, headers: &HeaderMap) -> PrivateCookieJar {
        PrivateCookieJar::from_headers(headers, self.key.clone())
    }

    fn name(&self, realm: Realm, what: &str) -> String {
        let prefix = if self.secure { "__Host-" } else { "" };
        format!("{prefix}tg_{}{what}", realm.name())
    }

    fn cookie(&self, name: String, value: String, max_age: Option<Duration>) -> Cookie<'static> {
        let mut cookie = Cookie::new(name, value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(self.secure);
        cookie.set_path("/");
        if let Some(age) = max_age {
            cookie.set_max_age(cookie::time::Duration::try_from(age).ok());
        }
        cookie
    }

    /// The session of `realm`, if it is still good; `seen` is not updated here.
    pub(crate) fn session(
        &self,
        jar: &PrivateCookieJar,
        realm: Realm,
    ) -> Result<Session, NoSession> {
        let cookie = jar.get(&self.name(realm, "")).ok_or(NoSession::Absent)?;
        let session: Session =
            serde_json::from_str(cookie.value()).map_err(|_| NoSession::Absent)?;
        if session.realm != realm {
            return Err(NoSession::Absent);
        }
        let now = now_ms();
        let idle = i64::try_from(self.idle.as_millis()).unwrap_or(i64::MAX);
        let absolute = i64::try_from(self.absolute.as_millis()).unwrap_or(i64::MAX);
        if now - session.seen >= idle
            || now - session.created >= absolute
            || now >= session.token_expires
        {
            return Err(NoSession::Expired);
        }
        Ok(session)
    }

    /// `jar` with `session` stored (its `seen` set to now).
    pub(crate) fn store(&self, jar: PrivateCookieJar, session: &Session) -> PrivateCookieJar {
        let mut session = session.clone();
        session.seen = now_ms();
        let value = serde_json::to_string(&session).unwrap_or_default();
        jar.add(self.cookie(self.name(session.realm, ""), value, None))
    }

    /// `jar` without the session of `realm`.
    pub(crate) fn forget(&self, jar: PrivateCookieJar, realm: Realm) -> PrivateCookieJar {
        jar.remove(self.cookie(self.name(realm, ""), String::new(), None))
    }

    pub(crate) fn transaction(&self, jar: &PrivateCookieJar, realm: Realm) -> Option<Transaction> {
        let cookie = jar.get(&self.name(realm, "_login"))?;
        let transaction: Transaction = serde_json::from_str(cookie.value()).ok()?;
        let ttl = i64::try_from(TRANSACTION_TTL.as_millis()).unwrap_or(i64::MAX);
        (now_ms() - transaction.created < ttl).then_some(transaction)
    }

    pub(crate) fn start_transaction(
        &self,
        jar: PrivateCookieJar,
        realm: Realm,
        transaction: &Transaction,
    ) -> PrivateCookieJar {
        let value = serde_json::to_string(transaction).unwrap_or_default();
        jar.add(self.cookie(self.name(realm, "_login"), value, Some(TRANSACTION_TTL)))
    }

    pub(crate) fn end_transaction(&self, jar: PrivateCookieJar, realm: Realm) -> PrivateCookieJar {
        jar.remove(self.cookie(self.name(realm, "_login"), String::new(), None))
    }
}

/// The portal's key: from `portal.cookie_key_env` (64 bytes or more, raw or base64), else made
/// at random for this process.
pub(crate) fn key(configured: Option<&str>) -> anyhow::Result<Key> {
    let Some(text) = configured else {
        return Ok(Key::generate());
    };
    let text = text.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .filter(|b| b.len() >= 64)
        .unwrap_or_else(|| text.as_bytes().to_vec());
    if bytes.len() < 64 {
        anyhow::bail!(
            "portal.cookie_key_env: the key must hold at least 64 bytes (raw, or as base64); e.g. `openssl rand -base64 64`"
        );
    }
    Ok(Key::from(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::response::IntoResponse;

    fn cookies(secure: bool) -> Cookies {
        Cookies::new(
            Key::generate(),
            secure,
            Duration::from_secs(60),
            Duration::from_secs(3600),
        )
    }

    fn session(token_expires: i64) -> Session {
        let now = now_ms();
        Session {
            id: random_token(),
            realm: Realm::Admin,
            tenant: None,
            token: "token".to_owned(),
            token_expires,
            created: now,
            seen: now,
            csrf: random_token(),
            name: None,
            email: None,
            flash: None,
        }
    }

    /// The `Set-Cookie` headers of a jar, and the `Cookie` header a browser would send back.
    fn round_trip(jar: PrivateCookieJar) -> (Vec<String>, HeaderMap) {
        let response = jar.into_response();
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let sent = set
            .iter()
            .map(|c| c.split(';').next().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_str(&sent).unwrap());
        (set, headers)
    }

    #[test]
    fn a_session_cookie_is_httponly_lax_and_under_https_secure_and_host_bound() {
        let secure = cookies(true);
        let jar = secure.store(secure.jar(&HeaderMap::new()), &session(now_ms() + 60_000));
        let (set, headers) = round_trip(jar);
        let cookie = &set[0];
        for attribute in [
            "__Host-tg_admin=",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
        ] {
            assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
        }
        assert!(
            !cookie.contains("token"),
            "the content is encrypted: {cookie}"
        );
        assert!(secure.session(&secure.jar(&headers), Realm::Admin).is_ok());
        assert_eq!(
            secure.session(&secure.jar(&headers), Realm::Account).err(),
            Some(NoSession::Absent)
        );
        let plain = cookies(false);
        let (set, _) =
            round_trip(plain.store(plain.jar(&HeaderMap::new()), &session(now_ms() + 60_000)));
        assert!(
            set[0].starts_with("tg_admin=") && !set[0].contains("Secure"),
            "{}",
            set[0]
        );
    }

    #[test]
    fn a_cookie_made_with_another_key_or_altered_is_no_session() {
        let ours = cookies(false);
        let theirs = cookies(false);
        let (_, headers) =
            round_trip(theirs.store(theirs.jar(&HeaderMap::new()), &session(now_ms() + 60_000)));
        assert_eq!(
            ours.session(&ours.jar(&headers), Realm::Admin).err(),
            Some(NoSession::Absent)
        );
    }

    #[test]
    fn sessions_end_when_idle_too_old_or_their_token_expires() {
        let cookies = cookies(false);
        let check = |session: &Session| {
            let (_, headers) = round_trip(cookies.store(cookies.jar(&HeaderMap::new()), session));
            cookies.session(&cookies.jar(&headers), Realm::Admin)
        };
        let expired_token = session(now_ms() - 1);
        assert_eq!(check(&expired_token).err(), Some(NoSession::Expired));
        let mut too_old = session(now_ms() + 60_000);
        too_old.created -= 3_600_000;
        assert_eq!(check(&too_old).err(), Some(NoSession::Expired));
        // Storing marks the session as used now: idleness is measured from the last request.
        assert!(check(&session(now_ms() + 60_000)).is_ok());
    }
}
