//! One seeded account: a person's identity in this tenant (database, Google or both linked),
//! profile, metadata, memberships, blocks, and 60 days of log events that agree with
//! `last_login` and `logins_count`.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng as _;
use rand::seq::SliceRandom as _;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::names::{CITIES, LANGUAGES, ROLES, TIMEZONES};
use super::people::Person;
use super::rng;
use crate::clock::iso;
use crate::config::EmulatorConfig;
use crate::profile::{default_picture, identity, object_id, random_alnum};
use crate::store::{BlockedFor, Connection, Credentials, LogEvent, LogKind, Store, USER_AGENTS};

/// The window of seeded activity.
const ACTIVITY_DAYS: i64 = 60;
/// How far back accounts were created.
const HISTORY_DAYS: i64 = 3 * 365;

/// First octets of public address blocks, so seeded IPs look like real clients.
const IP_BLOCKS: &[u8] = &[
    24, 31, 45, 62, 77, 81, 85, 91, 98, 104, 109, 151, 176, 185, 188, 203, 212, 217,
];

pub struct Seeder<'a> {
    seed: u64,
    tenant: String,
    reference: DateTime<Utc>,
    store: &'a mut Store,
    password: Arc<str>,
    database: Connection,
    google: Connection,
    /// Indexes of the two seeded applications in `Directory::apps`.
    apps: [u16; 2],
}

enum Kind {
    Database,
    Google,
    /// A database user with a Google identity linked to it.
    Linked,
}

impl<'a> Seeder<'a> {
    pub fn new(
        config: &EmulatorConfig,
        reference: DateTime<Utc>,
        store: &'a mut Store,
        password: Arc<str>,
    ) -> Self {
        let database = store
            .directory
            .connections
            .first()
            .cloned()
            .unwrap_or_else(|| fallback("auth0"));
        let google = store
            .directory
            .connections
            .get(1)
            .cloned()
            .unwrap_or_else(|| fallback("google-oauth2"));
        let first_app = u16::try_from(config.clients.len()).unwrap_or(0);
        Self {
            seed: config.seed,
            tenant: config.tenant.clone(),
            reference,
            store,
            password,
            database,
            google,
            apps: [first_app, first_app + 1],
        }
    }

    /// Adds the account of `person` in this tenant; `key` names it for the generator.
    pub fn add(&mut self, person: &Person, key: &str) {
        let mut rng = rng(self.seed, &["account", &self.tenant, key]);
        let kind = match rng.gen_range(0..100) {
            0..70 => Kind::Database,
            70..92 => Kind::Google,
            _ => Kind::Linked,
        };
        // Milliseconds too, so timestamps do not all share the reference time's fraction.
        let created = self.reference
            - TimeDelta::milliseconds(rng.gen_range(3_600_000..HISTORY_DAYS * 86_400_000));
        let window_start = (self.reference - TimeDelta::days(ACTIVITY_DAYS)).max(created);
        let home_ip = random_ip(&mut rng);
        let agent = rng.gen_range(0..USER_AGENTS.len() - 1) as u8;
        let name = format!("{} {}", person.given_name, person.family_name);

        let (user_id, mut profile) = match kind {
            Kind::Google => self.google_profile(&mut rng, person, &name, created),
            Kind::Database | Kind::Linked => {
                self.database_profile(&mut rng, person, &name, created)
            }
        };
        if let Kind::Linked = kind {
            let tail = google_id(&mut rng);
            let mut linked = identity(&self.google, &tail);
            linked["profileData"] = json!({
                "email": person.email, "email_verified": true, "name": name,
                "given_name": person.given_name, "family_name": person.family_name,
            });
            if let Some(identities) = profile.get_mut("identities").and_then(Value::as_array_mut) {
                identities.push(linked);
            }
        }
        let database_user = !matches!(kind, Kind::Google);

        // Activity: 70% logged in during the window, 15% only before it, 15% never.
        let mut logins: Vec<DateTime<Utc>> = Vec::new();
        let mut older_logins: u64 = 0;
        let mut last_login: Option<DateTime<Utc>> = None;
        match rng.gen_range(0..100) {
            0..70 => {
                let span = (self.reference - window_start).num_milliseconds().max(1);
                let count = rng.gen_range(1..=12);
                logins = (0..count)
                    .map(|_| window_start + TimeDelta::milliseconds(rng.gen_range(0..span)))
                    .collect();
                logins.sort();
                last_login = logins.last().copied();
            }
            70..85 if created < window_start - TimeDelta::days(1) => {
                let span = (window_start - created).num_milliseconds().max(1);
                last_login = Some(created + TimeDelta::milliseconds(rng.gen_range(0..span)));
                older_logins = 1;
            }
            _ => {}
        }
        if created < window_start && last_login.is_some() {
            older_logins += rng.gen_range(0..40);
        }
        let logins_count = older_logins + logins.len() as u64;
        if logins_count > 0 {
            profile.insert("logins_count".into(), json!(logins_count));
        }
        if let Some(at) = last_login {
            profile.insert("last_login".into(), json!(iso(at)));
            profile.insert("last_ip".into(), json!(home_ip.to_string()));
        }
        let mut updated = last_login.unwrap_or(created).max(created);
        if database_user && created < window_start && rng.gen_range(0..100) < 5 {
            let span = (self.reference - window_start).num_milliseconds().max(1);
            let at = window_start + TimeDelta::milliseconds(rng.gen_range(0..span));
            profile.insert("last_password_reset".into(), json!(iso(at)));
            updated = updated.max(at);
        }
        profile.insert("updated_at".into(), json!(iso(updated)));
        if rng.gen_range(0..100) < 2 {
            profile.insert("blocked".into(), json!(true));
        }
        if rng.gen_range(0..100) < 10 {
            profile.insert(
                "phone_number".into(),
                json!(format!("+1555{:07}", rng.gen_range(0..10_000_000))),
            );
            profile.insert("phone_verified".into(), json!(rng.gen_bool(0.7)));
        }
        if rng.gen_range(0..100) < 5 {
            profile.insert("multifactor".into(), json!(["guardian"]));
        }
        profile.insert("user_metadata".into(), user_metadata(&mut rng));
        profile.insert("app_metadata".into(), app_metadata(&mut rng));

        let profile = Value::Object(profile);
        let credentials = Credentials {
            password: database_user.then(|| Arc::clone(&self.password)),
            ..Credentials::default()
        };
        if self
            .store
            .insert_indexed(profile.clone(), credentials)
            .is_err()
        {
            return;
        }
        let Some(id) = self.store.interned_id(&user_id) else {
            return;
        };
        self.store.logs.add_signup(created);
        self.memberships(&mut rng, &id);

        // Log events for the window, consistent with the profile.
        let connection = if database_user {
            &self.database
        } else {
            &self.google
        };
        let connection_index = self.store.directory.connection_index(&connection.name);
        let user_name: Arc<str> = Arc::from(person.email.as_str());
        let app = *self.apps.choose(&mut rng).unwrap_or(&0);
        let mut events = Vec::new();
        let mut event = |at: DateTime<Utc>, kind: LogKind, ip: Ipv4Addr| {
            let mut e = LogEvent::new(at, kind);
            e.ip = ip;
            e.agent = agent;
            e.app = app;
            e.connection = connection_index;
            e.user_name = Some(Arc::clone(&user_name));
            events.push(e);
        };
        if created >= self.reference - TimeDelta::days(ACTIVITY_DAYS) {
            event(created, LogKind::Signup, home_ip);
            if database_user {
                event(
                    created + TimeDelta::seconds(2),
                    LogKind::VerificationSent,
                    home_ip,
                );
                if profile.get("email_verified") == Some(&Value::Bool(true)) {
                    event(
                        created + TimeDelta::minutes(rng.gen_range(3..600)),
                        LogKind::EmailVerified,
                        home_ip,
                    );
                }
            }
        }
        for at in &logins {
            if database_user && rng.gen_range(0..100) < 10 {
                event(
                    *at - TimeDelta::seconds(rng.gen_range(5..90)),
                    LogKind::WrongPassword,
                    home_ip,
                );
            }
            event(*at, LogKind::Login, home_ip);
        }
        if let Some(reset) = profile.get("last_password_reset").and_then(Value::as_str)
            && let Ok(at) = DateTime::parse_from_rfc3339(reset)
        {
            event(at.with_timezone(&Utc), LogKind::PasswordChanged, home_ip);
        }
        if database_user && rng.gen_range(0..100) < 1 {
            let attacker = random_ip(&mut rng);
            let at = self.reference - TimeDelta::seconds(rng.gen_range(60..ACTIVITY_DAYS * 86_400));
            for n in 0..10 {
                event(
                    at - TimeDelta::seconds(10 - n),
                    LogKind::WrongPassword,
                    attacker,
                );
            }
            event(at, LogKind::Blocked, attacker);
            let identifier = person.email.to_lowercase();
            let block = BlockedFor {
                identifier: identifier.clone(),
                ip: attacker,
                connection: self.database.name.clone(),
            };
            self.store
                .directory
                .blocks
                .entry(identifier)
                .or_default()
                .push(block);
        }
        for e in events {
            self.store.logs.push(&id, e);
        }
    }

    fn database_profile(
        &self,
        rng: &mut ChaCha8Rng,
        person: &Person,
        name: &str,
        created: DateTime<Utc>,
    ) -> (String, Map<String, Value>) {
        let tail = object_id(created, rng.r#gen());
        let user_id = format!("auth0|{tail}");
        let email = person.email.to_lowercase();
        let mut profile = Map::new();
        profile.insert("user_id".into(), json!(user_id));
        profile.insert("email".into(), json!(email));
        profile.insert("email_verified".into(), json!(rng.gen_range(0..100) >= 15));
        // Most people filled in their name; the rest keep Auth0's default (the email).
        let display = if rng.gen_range(0..100) < 80 {
            profile.insert("given_name".into(), json!(person.given_name));
            profile.insert("family_name".into(), json!(person.family_name));
            name.to_owned()
        } else {
            email.clone()
        };
        profile.insert("name".into(), json!(display));
        let nickname = email.split('@').next().unwrap_or_default();
        profile.insert("nickname".into(), json!(nickname));
        profile.insert("picture".into(), json!(default_picture(&email, &display)));
        profile.insert(
            "identities".into(),
            json!([identity(&self.database, &tail)]),
        );
        profile.insert("created_at".into(), json!(iso(created)));
        (user_id, profile)
    }

    fn google_profile(
        &self,
        rng: &mut ChaCha8Rng,
        person: &Person,
        name: &str,
        created: DateTime<Utc>,
    ) -> (String, Map<String, Value>) {
        let tail = google_id(rng);
        let user_id = format!("google-oauth2|{tail}");
        let mut profile = Map::new();
        profile.insert("user_id".into(), json!(user_id));
        profile.insert("email".into(), json!(person.email));
        profile.insert("email_verified".into(), json!(true));
        profile.insert("given_name".into(), json!(person.given_name));
        profile.insert("family_name".into(), json!(person.family_name));
        profile.insert("name".into(), json!(name));
        profile.insert("nickname".into(), json!(person.given_name.to_lowercase()));
        let picture = format!(
            "https://lh3.googleusercontent.com/a/{}=s96-c",
            random_alnum(rng, 27)
        );
        profile.insert("picture".into(), json!(picture));
        profile.insert("locale".into(), json!("en"));
        profile.insert("identities".into(), json!([identity(&self.google, &tail)]));
        profile.insert("created_at".into(), json!(iso(created)));
        (user_id, profile)
    }

    /// 0–2 organizations, and a role for about 30% of users.
    fn memberships(&mut self, rng: &mut ChaCha8Rng, id: &Arc<str>) {
        let orgs = match rng.gen_range(0..100) {
            0..45 => 0,
            45..85 => 1,
            _ => 2,
        };
        let directory = &mut self.store.directory;
        let mut indexes: Vec<usize> = (0..directory.organizations.len()).collect();
        indexes.shuffle(rng);
        for i in indexes.into_iter().take(orgs) {
            if let Some(org) = directory.organizations.get_mut(i) {
                org.add_member(Arc::clone(id), None, Duration::ZERO);
            }
        }
        if rng.gen_range(0..100) < 30 {
            let total: u32 = ROLES.iter().map(|r| r.3).sum();
            let mut pick = rng.gen_range(0..total.max(1));
            for (i, role) in ROLES.iter().enumerate() {
                if pick < role.3 {
                    if let Some(role) = directory.roles.get_mut(i) {
                        role.users.insert(Arc::clone(id));
                    }
                    break;
                }
                pick -= role.3;
            }
        }
    }
}

fn fallback(strategy: &str) -> Connection {
    Connection {
        id: String::new(),
        name: strategy.to_owned(),
        strategy: strategy.to_owned(),
        strategy_type: String::new(),
    }
}

/// Google account ids: 21 digits starting with 1.
fn google_id(rng: &mut ChaCha8Rng) -> String {
    format!("1{:020}", rng.gen_range(0..u64::MAX))
}

fn random_ip(rng: &mut ChaCha8Rng) -> Ipv4Addr {
    let first = *IP_BLOCKS.choose(rng).unwrap_or(&85);
    Ipv4Addr::new(first, rng.r#gen(), rng.r#gen(), rng.gen_range(1..255))
}

fn user_metadata(rng: &mut ChaCha8Rng) -> Value {
    let language = LANGUAGES.choose(rng).copied().unwrap_or("en");
    let theme = ["light", "dark", "system"]
        .choose(rng)
        .copied()
        .unwrap_or("system");
    let mut metadata = json!({
        "language": language,
        "preferences": {
            "theme": theme,
            "newsletter": rng.gen_bool(0.4),
            "timezone": TIMEZONES.choose(rng).copied().unwrap_or("UTC"),
        },
    });
    if rng.gen_range(0..100) < 40 {
        let (city, country) = CITIES.choose(rng).copied().unwrap_or(("Paris", "FR"));
        metadata["address"] = json!({ "city": city, "country": country });
    }
    metadata
}

fn app_metadata(rng: &mut ChaCha8Rng) -> Value {
    let plan = match rng.gen_range(0..100) {
        0..60 => "free",
        60..90 => "pro",
        _ => "enterprise",
    };
    let mut metadata =
        json!({ "plan": plan, "customer_id": format!("cus_{}", random_alnum(rng, 14)) });
    if rng.gen_range(0..100) < 15 {
        let roles: &[&str] = [
            &["admin"][..],
            &["support"],
            &["billing", "support"],
            &["editor"],
        ]
        .choose(rng)
        .copied()
        .unwrap_or(&["editor"]);
        metadata["roles"] = json!(roles);
    }
    metadata
}
