//! What the organization members list sees: Auth0 documents it as eventually consistent, so for
//! the membership lag after a write it still shows removed members and misses new ones. Every
//! other read of memberships is consistent at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Organization;

/// A membership write the members list may not show yet.
#[derive(Clone, Debug)]
pub struct MembershipChange {
    at: Instant,
    user_id: Arc<str>,
    kind: ChangeKind,
}

#[derive(Clone, Debug)]
enum ChangeKind {
    Added,
    /// What the list keeps showing of the member until it catches up.
    Removed(Departed),
}

/// A removed member as they were: their profile (the user may have been deleted since) and
/// their roles in the organization.
#[derive(Clone, Debug, Default)]
pub struct Departed {
    pub profile: Option<Arc<Value>>,
    pub roles: Vec<String>,
}

/// One entry of the members list: a member now, or one whose removal the list does not show yet.
pub struct ListedMember<'a> {
    pub user_id: &'a Arc<str>,
    pub departed: Option<&'a Departed>,
}

impl Organization {
    /// Adds a member written at `written` (`None`: the list shows it at once, as for the seed).
    pub fn add_member(&mut self, user_id: Arc<str>, written: Option<Instant>, lag: Duration) {
        if self.members.contains(&user_id) {
            return;
        }
        self.record(user_id.clone(), ChangeKind::Added, written, lag);
        self.members.insert(user_id);
    }

    /// Removes a member with the roles they held here (Auth0 drops them with the membership).
    /// `profile` is what the list keeps showing of them while it lags.
    pub fn remove_member(
        &mut self,
        user_id: &str,
        profile: Option<Arc<Value>>,
        written: Option<Instant>,
        lag: Duration,
    ) {
        let Some(user_id) = self.members.take(user_id) else {
            return;
        };
        let roles = self.member_roles.remove(&user_id).unwrap_or_default();
        let departed = Departed { profile, roles };
        self.record(user_id, ChangeKind::Removed(departed), written, lag);
    }

    fn record(
        &mut self,
        user_id: Arc<str>,
        kind: ChangeKind,
        written: Option<Instant>,
        lag: Duration,
    ) {
        let Some(at) = written.filter(|_| !lag.is_zero()) else {
            return;
        };
        // Changes the list already shows need no undoing: forget them.
        self.unlisted.retain(|change| change.at + lag > at);
        self.unlisted.push(MembershipChange { at, user_id, kind });
    }

    /// The members the list shows at `now`, in `user_id` order: the current ones with the
    /// changes younger than the lag undone, newest first.
    pub fn listed_members(&self, now: Instant, lag: Duration) -> Vec<ListedMember<'_>> {
        let mut listed: BTreeMap<&Arc<str>, Option<&Departed>> =
            self.members.iter().map(|id| (id, None)).collect();
        let unseen = self.unlisted.iter().rev().filter(|c| c.at + lag > now);
        for change in unseen {
            match &change.kind {
                ChangeKind::Added => {
                    listed.remove(&change.user_id);
                }
                ChangeKind::Removed(departed) => {
                    listed.insert(&change.user_id, Some(departed));
                }
            }
        }
        listed
            .into_iter()
            .map(|(user_id, departed)| ListedMember { user_id, departed })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn organization() -> Organization {
        Organization {
            id: "org_1".into(),
            name: "one".into(),
            display_name: Some("One".into()),
            metadata: Value::Null,
            created_at: Utc::now(),
            members: ["auth0|a", "auth0|b"].map(Arc::from).into(),
            member_roles: [(Arc::from("auth0|b"), vec!["rol_x".to_owned()])].into(),
            unlisted: Vec::new(),
        }
    }

    fn ids(listed: &[ListedMember<'_>]) -> Vec<String> {
        listed.iter().map(|m| m.user_id.to_string()).collect()
    }

    #[test]
    fn the_list_shows_each_change_once_the_lag_has_passed() {
        let lag = Duration::from_secs(10);
        let mut org = organization();
        let t0 = Instant::now();
        org.add_member(Arc::from("auth0|c"), Some(t0), lag);
        org.remove_member("auth0|b", None, Some(t0), lag);
        assert_eq!(ids(&org.listed_members(t0, lag)), ["auth0|a", "auth0|b"]);
        let departed = org
            .listed_members(t0, lag)
            .into_iter()
            .find_map(|m| m.departed.cloned());
        assert_eq!(departed.map(|d| d.roles), Some(vec!["rol_x".to_owned()]));
        assert!(
            org.member_roles.is_empty(),
            "the roles left with the membership"
        );
        assert_eq!(
            ids(&org.listed_members(t0 + lag, lag)),
            ["auth0|a", "auth0|c"]
        );
    }

    #[test]
    fn without_a_lag_nothing_is_recorded_and_a_remove_then_add_is_undone_in_order() {
        let mut org = organization();
        let now = Instant::now();
        org.remove_member("auth0|a", None, Some(now), Duration::ZERO);
        assert!(org.unlisted.is_empty());
        assert_eq!(ids(&org.listed_members(now, Duration::ZERO)), ["auth0|b"]);

        let lag = Duration::from_secs(10);
        org.remove_member("auth0|b", None, Some(now), lag);
        org.add_member(Arc::from("auth0|b"), Some(now), lag);
        let listed = org.listed_members(now, lag);
        assert_eq!(ids(&listed), ["auth0|b"]);
        assert!(listed[0].departed.is_some(), "shown as before the removal");
        assert!(org.listed_members(now + lag, lag)[0].departed.is_none());
    }
}
