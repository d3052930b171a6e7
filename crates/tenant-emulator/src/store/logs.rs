//! Log events per user, stored compactly and rendered in Auth0's shape on read, and the daily
//! figures (`GET /api/v2/stats/daily`) kept in step with them.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use super::Directory;
use crate::clock::iso;

/// Auth0 log event types this emulator produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// `s`: successful login.
    Login,
    /// `f`: failed login.
    FailedLogin,
    /// `fp`: wrong password.
    WrongPassword,
    /// `ss`: successful signup.
    Signup,
    /// `scp`: password changed.
    PasswordChanged,
    /// `scpr`: password-change request (reset email sent).
    PasswordChangeRequest,
    /// `sv`: email verified.
    EmailVerified,
    /// `svr`: verification email sent.
    VerificationSent,
    /// `sce`: email changed.
    EmailChanged,
    /// `du`: user deleted.
    Deleted,
    /// `limit_wc`: account blocked after too many failed logins.
    Blocked,
    /// `sapi`: successful Management API operation.
    Api,
    /// `fu`: login with an unknown email.
    WrongUsername,
    /// `seacft`: authorization code exchanged for tokens.
    CodeExchange,
    /// `feacft`: authorization code exchange refused.
    FailedCodeExchange,
    /// `slo`: logout.
    Logout,
}

impl LogKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Login => "s",
            Self::FailedLogin => "f",
            Self::WrongPassword => "fp",
            Self::Signup => "ss",
            Self::PasswordChanged => "scp",
            Self::PasswordChangeRequest => "scpr",
            Self::EmailVerified => "sv",
            Self::VerificationSent => "svr",
            Self::EmailChanged => "sce",
            Self::Deleted => "du",
            Self::Blocked => "limit_wc",
            Self::Api => "sapi",
            Self::WrongUsername => "fu",
            Self::CodeExchange => "seacft",
            Self::FailedCodeExchange => "feacft",
            Self::Logout => "slo",
        }
    }

    fn default_description(self) -> &'static str {
        match self {
            Self::Login => "Successful login",
            Self::FailedLogin => "Failed login",
            Self::WrongPassword | Self::WrongUsername => "Wrong email or password.",
            Self::Signup => "Successful signup",
            Self::PasswordChanged => "Password changed successfully",
            Self::PasswordChangeRequest => "Password change request",
            Self::EmailVerified => "Email verified",
            Self::VerificationSent => "Verification email sent",
            Self::EmailChanged => "Email changed",
            Self::Deleted => "User deleted",
            Self::Blocked => "Too many failed login attempts: account blocked",
            Self::Api => "Success API Operation",
            Self::CodeExchange => "Authorization Code for Access Token",
            Self::FailedCodeExchange => "Failed Exchange of Authorization Code for Access Token",
            Self::Logout => "Success Logout",
        }
    }
}

/// Browsers and systems seen in seeded and emulated logins.
pub const USER_AGENTS: &[&str] = &[
    "Chrome 124.0.0 / Mac OS X 10.15.7",
    "Chrome 123.0.0 / Windows 10.0.0",
    "Firefox 125.0.0 / Windows 10.0.0",
    "Safari 17.4.1 / Mac OS X 10.15.7",
    "Mobile Safari 17.4.0 / iOS 17.4.1",
    "Chrome Mobile 124.0.0 / Android 14.0.0",
    "Edge 124.0.0 / Windows 10.0.0",
    "node-fetch/1.0",
];

/// One event, small enough that 10,000 users with their 60 days of activity stay cheap.
#[derive(Clone, Debug)]
pub struct LogEvent {
    pub at: DateTime<Utc>,
    pub kind: LogKind,
    pub ip: Ipv4Addr,
    /// Index into `Directory::apps`.
    pub app: u16,
    /// Index into [`USER_AGENTS`].
    pub agent: u8,
    /// Index into `Directory::connections`.
    pub connection: Option<u8>,
    pub description: Option<Box<str>>,
    pub details: Option<Box<Value>>,
    /// The user's email (or name) when the event happened.
    pub user_name: Option<Arc<str>>,
    /// Set when stored; orders events at the same millisecond and makes the `log_id`.
    pub seq: u64,
}

impl LogEvent {
    pub fn new(at: DateTime<Utc>, kind: LogKind) -> Self {
        Self {
            at,
            kind,
            ip: Ipv4Addr::LOCALHOST,
            app: 0,
            agent: 0,
            connection: None,
            description: None,
            details: None,
            user_name: None,
            seq: 0,
        }
    }

    /// Auth0's log ids are 56 digits, increasing with time.
    pub fn log_id(&self) -> String {
        format!(
            "900{:017}{:036}",
            self.at.timestamp_millis().max(0),
            self.seq
        )
    }

    pub fn render(&self, user_id: &str, directory: &Directory, hostname: &str) -> Value {
        let mut event = Map::new();
        let log_id = self.log_id();
        // Auth0 sends the id twice: `_id` (what its log export pages by) and `log_id`.
        event.insert("_id".into(), json!(log_id));
        event.insert("log_id".into(), json!(log_id));
        event.insert("date".into(), json!(iso(self.at)));
        event.insert("type".into(), json!(self.kind.code()));
        let description = self
            .description
            .as_deref()
            .unwrap_or(self.kind.default_description());
        event.insert("description".into(), json!(description));
        event.insert("ip".into(), json!(self.ip.to_string()));
        let agent = USER_AGENTS
            .get(usize::from(self.agent))
            .copied()
            .unwrap_or_default();
        event.insert("user_agent".into(), json!(agent));
        if let Some(app) = directory.apps.get(usize::from(self.app)) {
            event.insert("client_id".into(), json!(app.client_id));
            event.insert("client_name".into(), json!(app.name));
        }
        if let Some(c) = self
            .connection
            .and_then(|i| directory.connections.get(usize::from(i)))
        {
            event.insert("connection".into(), json!(c.name));
            event.insert("connection_id".into(), json!(c.id));
            event.insert("strategy".into(), json!(c.strategy));
            event.insert("strategy_type".into(), json!(c.strategy_type));
        }
        event.insert("user_id".into(), json!(user_id));
        if let Some(name) = &self.user_name {
            event.insert("user_name".into(), json!(&**name));
        }
        event.insert("hostname".into(), json!(hostname));
        let details = self
            .details
            .as_deref()
            .cloned()
            .unwrap_or_else(|| json!({}));
        event.insert("details".into(), details);
        event.insert("isMobile".into(), json!(agent.contains("Mobile")));
        Value::Object(event)
    }
}

/// One day of `GET /api/v2/stats/daily`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DayStats {
    pub logins: u64,
    pub signups: u64,
    pub leaked_passwords: u64,
}

/// Log events by user, kept for the tenant's retention, and the daily figures (which Auth0 keeps
/// apart from the logs, so they outlive them).
pub struct Logs {
    by_user: HashMap<Arc<str>, Vec<LogEvent>>,
    next_seq: u64,
    daily: BTreeMap<NaiveDate, DayStats>,
    retention: TimeDelta,
}

impl Logs {
    pub fn new(retention: std::time::Duration) -> Self {
        Self {
            by_user: HashMap::new(),
            next_seq: 0,
            daily: BTreeMap::new(),
            retention: TimeDelta::from_std(retention).unwrap_or(TimeDelta::MAX),
        }
    }

    /// Stores an event of `user_id` (kept after the user is deleted, as Auth0 keeps logs).
    pub fn push(&mut self, user_id: &Arc<str>, mut event: LogEvent) {
        self.next_seq += 1;
        event.seq = self.next_seq;
        if event.kind == LogKind::Login {
            self.daily.entry(event.at.date_naive()).or_default().logins += 1;
        }
        let expired_before = self.cutoff(event.at);
        let events = self.by_user.entry(Arc::clone(user_id)).or_default();
        // Events nearly always arrive in time order; keep the list sorted when they do not.
        let at = events.partition_point(|e| e.at <= event.at);
        events.insert(at, event);
        // What no read can return any more is dropped, so a long run's memory stays bounded.
        if let Some(cutoff) = expired_before {
            let expired = events.partition_point(|e| e.at < cutoff);
            events.drain(..expired);
        }
    }

    /// Stores an event no user can be named for (a login with an unknown email, a code nobody
    /// was given), under an empty user id, for the same retention. No endpoint reads them yet.
    pub fn push_unattributed(&mut self, event: LogEvent) {
        self.push(&Arc::from(""), event);
    }

    /// Events of a user still within the retention at `now` (tenant clock), oldest first.
    pub fn of_user(&self, user_id: &str, now: DateTime<Utc>) -> &[LogEvent] {
        let events = self
            .by_user
            .get(user_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match self.cutoff(now) {
            Some(cutoff) => &events[events.partition_point(|e| e.at < cutoff)..],
            None => events,
        }
    }

    /// The oldest time an event may have to be kept at `now`; `None` when nothing can expire.
    fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        now.checked_sub_signed(self.retention)
    }

    pub fn add_signup(&mut self, at: DateTime<Utc>) {
        self.daily.entry(at.date_naive()).or_default().signups += 1;
    }

    pub fn daily(&self) -> &BTreeMap<NaiveDate, DayStats> {
        &self.daily
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2025, 6, n)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|t| t.and_utc())
            .unwrap()
    }

    #[test]
    fn events_older_than_the_retention_are_not_returned_and_are_dropped_on_the_next_write() {
        let mut logs = Logs::new(std::time::Duration::from_secs(3 * 86_400));
        let user: Arc<str> = Arc::from("auth0|a");
        for n in [1, 2, 5] {
            logs.push(&user, LogEvent::new(day(n), LogKind::Login));
        }
        let dates = |events: &[LogEvent]| events.iter().map(|e| e.at).collect::<Vec<_>>();
        assert_eq!(dates(logs.of_user("auth0|a", day(5))), [day(2), day(5)]);
        assert_eq!(
            dates(logs.of_user("auth0|a", day(9))),
            Vec::<DateTime<Utc>>::new()
        );
        assert_eq!(
            logs.by_user["auth0|a"].len(),
            3 - 1,
            "day 1 expired when day 5 arrived"
        );
        assert_eq!(
            logs.daily()[&day(1).date_naive()].logins,
            1,
            "figures outlive the logs"
        );
    }

    #[test]
    fn sign_in_events_and_unattributed_ones_follow_the_same_retention() {
        let mut logs = Logs::new(std::time::Duration::from_secs(3 * 86_400));
        let user: Arc<str> = Arc::from("auth0|a");
        logs.push(&user, LogEvent::new(day(1), LogKind::Logout));
        logs.push(&user, LogEvent::new(day(5), LogKind::CodeExchange));
        logs.push_unattributed(LogEvent::new(day(1), LogKind::WrongUsername));
        logs.push_unattributed(LogEvent::new(day(5), LogKind::FailedCodeExchange));
        let kinds = |events: &[LogEvent]| events.iter().map(|e| e.kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(logs.of_user("auth0|a", day(5))),
            [LogKind::CodeExchange]
        );
        assert_eq!(
            kinds(&logs.by_user[""]),
            [LogKind::FailedCodeExchange],
            "the unknown-email event expired when a newer one arrived"
        );
    }
}
