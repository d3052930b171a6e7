//! What the browser sign-in keeps on the server: pending authorizations (login transactions),
//! authorization codes, login sessions per browser, and the personas the login page offers.
//!
//! The client's `/authorize` parameters never travel through the browser again: the login page
//! carries only a random transaction id, bound to the browser's cookie, so a form post cannot
//! change the redirect, the PKCE challenge or the nonce, and a transaction started in one browser
//! cannot be finished in another. Everything is bound to the domain `/authorize` was called
//! through (the canonical or the custom one), as Auth0 keeps domains apart: the code's tokens
//! name it as their issuer and the login session serves only that domain. Times are passed in, so
//! expiry is tested without waiting.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::sha2::{Digest as _, Sha256};

use crate::config::Persona;

/// How long a login transaction waits for the user: Auth0's maximum since October 2023.
pub const TRANSACTION_TTL: Duration = Duration::from_secs(3600);
/// How long an authorization code can be exchanged. Auth0 publishes no figure; this is the
/// longest RFC 6749 §4.1.2 recommends.
pub const CODE_TTL: Duration = Duration::from_secs(600);
/// A login session ends after this long unused (the inactivity timeout's ceiling on Auth0's
/// self-service plans)…
pub const SESSION_IDLE: Duration = Duration::from_secs(3 * 24 * 3600);
/// …or this long after sign-in, whatever happens (the "require log in after" ceiling there).
pub const SESSION_MAX: Duration = Duration::from_secs(30 * 24 * 3600);

/// How the PKCE challenge was derived from the verifier (RFC 7636 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeMethod {
    S256,
    Plain,
}

impl ChallengeMethod {
    pub fn parse(method: &str) -> Option<Self> {
        match method {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkce {
    pub challenge: String,
    pub method: ChallengeMethod,
}

impl Pkce {
    /// Whether `verifier` is the secret behind the challenge.
    pub fn verifies(&self, verifier: &str) -> bool {
        match self.method {
            ChallengeMethod::S256 => {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == self.challenge
            }
            ChallengeMethod::Plain => verifier == self.challenge,
        }
    }
}

/// An `/authorize` request that passed validation: what the code will be bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// `https://{domain}/` of the domain `/authorize` was called through: the `iss` of the
    /// code's tokens, the only domain the code is exchanged through, and the domain of the login
    /// session that sign-in starts.
    pub issuer: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// Space-separated, as requested (may be empty).
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub audience: Option<String>,
    pub pkce: Option<Pkce>,
    /// Prefills the email field.
    pub login_hint: Option<String>,
}

/// What an authorization code stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub authorization: Authorization,
    pub user_id: String,
    /// The login session's public id (the `sid` claim), never its cookie.
    pub sid: String,
}

/// A signed-in browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub sid: String,
    /// The issuer of the domain the session was made on; it serves no other domain.
    pub issuer: String,
}

/// A transaction ended by sign-in: the browser's new cookie value and the code to hand over.
#[derive(Debug)]
pub struct SignedIn {
    pub browser: String,
    pub code: String,
    pub authorization: Authorization,
}

struct Pending {
    authorization: Authorization,
    browser: String,
    created: Instant,
}

struct IssuedCode {
    grant: Grant,
    issued: Instant,
}

struct LiveSession {
    session: Session,
    started: Instant,
    last_used: Instant,
}

impl LiveSession {
    fn alive(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_used) < SESSION_IDLE
            && now.saturating_duration_since(self.started) < SESSION_MAX
    }
}

/// A browser the emulator has given a cookie to.
struct Browser {
    created: Instant,
    session: Option<LiveSession>,
}

#[derive(Default)]
struct Inner {
    pending: HashMap<String, Pending>,
    codes: HashMap<String, IssuedCode>,
    browsers: HashMap<String, Browser>,
}

impl Inner {
    /// Drops what has expired; runs on every write, so the maps stay as small as the activity.
    fn prune(&mut self, now: Instant) {
        self.pending
            .retain(|_, p| now.saturating_duration_since(p.created) < TRANSACTION_TTL);
        self.codes
            .retain(|_, c| now.saturating_duration_since(c.issued) < CODE_TTL);
        self.browsers.retain(|_, b| {
            if b.session.as_ref().is_some_and(|s| !s.alive(now)) {
                b.session = None;
            }
            b.session.is_some() || now.saturating_duration_since(b.created) < TRANSACTION_TTL
        });
    }
}

/// The login state of one tenant.
#[derive(Default)]
pub struct LoginState {
    inner: Mutex<Inner>,
    personas: RwLock<Vec<Persona>>,
}

/// 256 random bits, URL-safe: transaction ids, codes, cookies and session ids.
fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

impl LoginState {
    pub fn new(personas: Vec<Persona>) -> Self {
        Self {
            inner: Mutex::default(),
            personas: RwLock::new(personas),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The browser behind `cookie`, or a new one when the cookie is absent, unknown or expired.
    /// Returns its id and whether it is new (the caller must then set the cookie).
    pub fn browser(&self, cookie: Option<&str>, now: Instant) -> (String, bool) {
        let mut inner = self.lock();
        inner.prune(now);
        if let Some(id) = cookie
            && inner.browsers.contains_key(id)
        {
            return (id.to_owned(), false);
        }
        let id = random_id();
        inner.browsers.insert(
            id.clone(),
            Browser {
                created: now,
                session: None,
            },
        );
        (id, true)
    }

    /// The login session of a browser on the domain of `issuer`, if it has a live one there
    /// (using it keeps it alive).
    pub fn session(&self, browser: &str, issuer: &str, now: Instant) -> Option<Session> {
        let mut inner = self.lock();
        let live = inner.browsers.get_mut(browser)?.session.as_mut()?;
        if !live.alive(now) || live.session.issuer != issuer {
            return None;
        }
        live.last_used = now;
        Some(live.session.clone())
    }

    /// Starts a login transaction for `browser`; returns its id.
    pub fn begin(&self, browser: &str, authorization: Authorization, now: Instant) -> String {
        let mut inner = self.lock();
        inner.prune(now);
        let id = random_id();
        inner.pending.insert(
            id.clone(),
            Pending {
                authorization,
                browser: browser.to_owned(),
                created: now,
            },
        );
        id
    }

    /// The pending authorization of a transaction, if it is still open and belongs to `browser`.
    pub fn pending(&self, transaction: &str, browser: &str, now: Instant) -> Option<Authorization> {
        let inner = self.lock();
        inner
            .pending
            .get(transaction)
            .filter(|p| p.browser == browser)
            .filter(|p| now.saturating_duration_since(p.created) < TRANSACTION_TTL)
            .map(|p| p.authorization.clone())
    }

    /// Ends a transaction with `user_id` signed in: the browser gets a new cookie value (a
    /// session never keeps the id it had before sign-in), its other open transactions follow it,
    /// and a code is issued. `None` if the transaction is gone or belongs to another browser.
    pub fn sign_in(
        &self,
        transaction: &str,
        browser: &str,
        user_id: &str,
        now: Instant,
    ) -> Option<SignedIn> {
        let mut inner = self.lock();
        inner.prune(now);
        if inner.pending.get(transaction)?.browser != browser {
            return None;
        }
        let pending = inner.pending.remove(transaction)?;
        let renewed = random_id();
        inner.browsers.remove(browser);
        for other in inner.pending.values_mut() {
            if other.browser == browser {
                other.browser.clone_from(&renewed);
            }
        }
        let session = Session {
            user_id: user_id.to_owned(),
            sid: random_id(),
            issuer: pending.authorization.issuer.clone(),
        };
        inner.browsers.insert(
            renewed.clone(),
            Browser {
                created: now,
                session: Some(LiveSession {
                    session: session.clone(),
                    started: now,
                    last_used: now,
                }),
            },
        );
        let code = issue(&mut inner, &pending.authorization, &session, now);
        Some(SignedIn {
            browser: renewed,
            code,
            authorization: pending.authorization,
        })
    }

    /// Drops a transaction that ended without sign-in.
    pub fn abandon(&self, transaction: &str) {
        self.lock().pending.remove(transaction);
    }

    /// A code for an authorization answered from an existing session (single sign-on).
    pub fn issue(&self, authorization: &Authorization, session: &Session, now: Instant) -> String {
        let mut inner = self.lock();
        inner.prune(now);
        issue(&mut inner, authorization, session, now)
    }

    /// Takes a code: whatever happens next, it cannot be used again.
    pub fn redeem(&self, code: &str, now: Instant) -> Option<Grant> {
        let mut inner = self.lock();
        let issued = inner.codes.remove(code)?;
        (now.saturating_duration_since(issued.issued) < CODE_TTL).then_some(issued.grant)
    }

    /// Ends the browser's login session, returning it if there was one.
    pub fn end_session(&self, browser: &str) -> Option<Session> {
        let mut inner = self.lock();
        inner
            .browsers
            .get_mut(browser)?
            .session
            .take()
            .map(|live| live.session)
    }

    pub fn personas(&self) -> Vec<Persona> {
        self.personas
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Adds a persona, replacing one with the same label.
    pub fn add_persona(&self, persona: Persona) {
        let mut personas = self
            .personas
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match personas.iter_mut().find(|p| p.label == persona.label) {
            Some(existing) => *existing = persona,
            None => personas.push(persona),
        }
    }
}

fn issue(
    inner: &mut Inner,
    authorization: &Authorization,
    session: &Session,
    now: Instant,
) -> String {
    let code = random_id();
    inner.codes.insert(
        code.clone(),
        IssuedCode {
            grant: Grant {
                authorization: authorization.clone(),
                user_id: session.user_id.clone(),
                sid: session.sid.clone(),
            },
            issued: now,
        },
    );
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://dev.auth0.test/";

    fn authorization() -> Authorization {
        Authorization {
            issuer: ISSUER.into(),
            client_id: "app".into(),
            redirect_uri: "http://localhost:3000/callback".into(),
            scope: "openid".into(),
            state: Some("xyz".into()),
            nonce: None,
            audience: None,
            pkce: None,
            login_hint: None,
        }
    }

    fn signed_in(state: &LoginState, now: Instant) -> SignedIn {
        let (browser, _) = state.browser(None, now);
        let transaction = state.begin(&browser, authorization(), now);
        state
            .sign_in(&transaction, &browser, "auth0|a", now)
            .expect("signed in")
    }

    #[test]
    fn s256_verifies_the_rfc_7636_example_and_nothing_else() {
        // RFC 7636 Appendix B.
        let pkce = Pkce {
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: ChallengeMethod::S256,
        };
        assert!(pkce.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!pkce.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
        let plain = Pkce {
            challenge: "same".into(),
            method: ChallengeMethod::Plain,
        };
        assert!(plain.verifies("same") && !plain.verifies("other"));
    }

    #[test]
    fn a_code_is_redeemed_once_and_not_after_it_expires() {
        let state = LoginState::default();
        let now = Instant::now();
        let first = signed_in(&state, now);
        let grant = state.redeem(&first.code, now).expect("first redemption");
        assert_eq!(grant.user_id, "auth0|a");
        assert_eq!(grant.authorization, authorization());
        assert!(state.redeem(&first.code, now).is_none(), "single use");

        let late = signed_in(&state, now);
        assert!(state.redeem(&late.code, now + CODE_TTL).is_none());
    }

    #[test]
    fn a_transaction_belongs_to_the_browser_that_started_it_and_expires() {
        let state = LoginState::default();
        let now = Instant::now();
        let (mine, new) = state.browser(None, now);
        assert!(new);
        let (theirs, _) = state.browser(None, now);
        let transaction = state.begin(&mine, authorization(), now);
        assert!(state.pending(&transaction, &mine, now).is_some());
        assert!(state.pending(&transaction, &theirs, now).is_none());
        assert!(
            state
                .sign_in(&transaction, &theirs, "auth0|a", now)
                .is_none()
        );
        assert!(
            state
                .pending(&transaction, &mine, now + TRANSACTION_TTL)
                .is_none()
        );
    }

    #[test]
    fn sign_in_renews_the_cookie_and_the_session_ends_when_idle_or_logged_out() {
        let state = LoginState::default();
        let now = Instant::now();
        let (before, _) = state.browser(None, now);
        let other_tab = state.begin(&before, authorization(), now);
        let transaction = state.begin(&before, authorization(), now);
        let done = state
            .sign_in(&transaction, &before, "auth0|a", now)
            .expect("signed in");
        assert_ne!(done.browser, before);
        assert!(
            state.browser(Some(&before), now).1,
            "the old cookie is gone"
        );
        assert!(
            state.pending(&other_tab, &done.browser, now).is_some(),
            "open transactions follow the browser"
        );
        let session = state.session(&done.browser, ISSUER, now).expect("session");
        assert_eq!(session.user_id, "auth0|a");
        assert_eq!(session.issuer, ISSUER);
        assert!(
            state
                .session(&done.browser, "https://login.acme.test/", now)
                .is_none(),
            "a session serves only the domain it was made on"
        );
        assert!(
            state
                .session(&done.browser, ISSUER, now + SESSION_IDLE)
                .is_none()
        );

        let again = signed_in(&state, now);
        assert!(state.end_session(&again.browser).is_some());
        assert!(state.session(&again.browser, ISSUER, now).is_none());
    }

    #[test]
    fn a_persona_with_a_known_label_is_replaced() {
        let state = LoginState::new(vec![Persona::new("admin", "a@x.test")]);
        state.add_persona(Persona::new("admin", "b@x.test"));
        state.add_persona(Persona::new("viewer", "c@x.test"));
        assert_eq!(
            state.personas(),
            [
                Persona::new("admin", "b@x.test"),
                Persona::new("viewer", "c@x.test")
            ]
        );
    }
}
