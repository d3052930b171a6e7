//! `fields`/`include_fields` (for users and organization members) and `sort` for user lists,
//! serialised straight from the stored profiles without copying them.

use std::cmp::Ordering;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap as _, SerializeSeq as _, Serializer};
use serde_json::Value;

use super::params::{QueryParams, query_error};
use crate::errors::ApiError;

/// The fields Auth0 lets `fields` name on user endpoints (from its own validation message).
pub const USER_FIELDS: &[&str] = &[
    "phone_number",
    "email",
    "email_verified",
    "picture",
    "username",
    "user_id",
    "name",
    "nickname",
    "created_at",
    "identities",
    "app_metadata",
    "user_metadata",
    "last_ip",
    "last_login",
    "logins_count",
    "updated_at",
    "blocked",
    "family_name",
    "given_name",
];

/// Which top-level fields to keep.
#[derive(Debug, Clone)]
pub struct FieldSelection {
    names: Vec<String>,
    include: bool,
}

impl FieldSelection {
    /// The selection over user fields; `None` when every field is wanted.
    pub fn read(query: &QueryParams) -> Result<Option<Self>, ApiError> {
        Self::read_among(query, USER_FIELDS)
    }

    /// The selection over `allowed` names (refusing others as Auth0's schema does); `None` when
    /// every field is wanted.
    pub fn read_among(query: &QueryParams, allowed: &[&str]) -> Result<Option<Self>, ApiError> {
        let include = query.bool("include_fields")?.unwrap_or(true);
        let Some(fields) = query.non_empty("fields") else {
            return Ok(None);
        };
        let names: Vec<String> = fields.split(',').map(|f| f.trim().to_owned()).collect();
        if names.iter().any(|n| !allowed.contains(&n.as_str())) {
            let detail = format!(
                "String '{fields}' does not match pattern. Must be a comma separated list of the \
                 following values: {}",
                allowed.join(",")
            );
            return Err(query_error("fields", &detail));
        }
        Ok(Some(Self { names, include }))
    }

    /// Whether the field is kept in the answer.
    pub fn keeps(&self, key: &str) -> bool {
        self.names.iter().any(|n| n == key) == self.include
    }

    /// Whether the field is asked for by name (opt-in fields such as members' `roles`).
    pub fn names_included(&self, key: &str) -> bool {
        self.include && self.names.iter().any(|n| n == key)
    }
}

/// One profile as the client asked to see it.
pub struct Projected<'a> {
    pub user: &'a Value,
    pub fields: Option<&'a FieldSelection>,
}

impl Serialize for Projected<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (self.fields, self.user.as_object()) {
            (Some(fields), Some(object)) => {
                let mut map = serializer.serialize_map(None)?;
                for (key, value) in object.iter().filter(|(k, _)| fields.keeps(k)) {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            _ => self.user.serialize(serializer),
        }
    }
}

/// A list of profiles, projected.
pub struct ProjectedList<'a> {
    pub users: &'a [Arc<Value>],
    pub fields: Option<&'a FieldSelection>,
}

impl Serialize for ProjectedList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.users.len()))?;
        for user in self.users {
            seq.serialize_element(&Projected {
                user,
                fields: self.fields,
            })?;
        }
        seq.end()
    }
}

/// `sort=field:1` or `field:-1`; the field may be a dotted path into metadata.
#[derive(Debug, Clone)]
pub struct SortSpec {
    path: Vec<String>,
    descending: bool,
    /// Normalised fields sort case-insensitively, as they are searched.
    fold_case: bool,
}

const SORT_PATTERN: &str = r"^(([a-zA-Z0-9_\.]+))\:(1|-1)$";

impl SortSpec {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || {
            query_error(
                "sort",
                &format!("String does not match pattern {SORT_PATTERN}: {raw}"),
            )
        };
        let (field, order) = raw.rsplit_once(':').ok_or_else(bad)?;
        let field_ok = !field.is_empty()
            && field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let descending = match order {
            "1" => false,
            "-1" => true,
            _ => return Err(bad()),
        };
        if !field_ok {
            return Err(bad());
        }
        let fold_case = matches!(
            field,
            "email" | "name" | "given_name" | "family_name" | "nickname"
        );
        Ok(Self {
            path: field.split('.').map(str::to_owned).collect(),
            descending,
            fold_case,
        })
    }

    /// Sorts by the field; users without it come last in both directions; ties keep `user_id`
    /// order, so paging through a sorted result is stable.
    pub fn sort(&self, users: &mut Vec<Arc<Value>>) {
        let mut keyed: Vec<(Option<SortKey>, Arc<Value>)> =
            users.drain(..).map(|u| (self.key(&u), u)).collect();
        keyed.sort_by(|(ka, ua), (kb, ub)| {
            let by_key = match (ka, kb) {
                (Some(a), Some(b)) if self.descending => b.order(a),
                (Some(a), Some(b)) => a.order(b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            by_key.then_with(|| user_id_ptr(ua).cmp(user_id_ptr(ub)))
        });
        users.extend(keyed.into_iter().map(|(_, u)| u));
    }

    fn key(&self, user: &Value) -> Option<SortKey> {
        let value = self.path.iter().try_fold(user, |v, part| v.get(part))?;
        SortKey::of(value, self.fold_case)
    }
}

/// Sorting by `user_id` (the default order and every tie-break).
pub fn sort_by_id(users: &mut [Arc<Value>]) {
    users.sort_by(|a, b| user_id_ptr(a).cmp(user_id_ptr(b)));
}

fn user_id_ptr(user: &Value) -> &str {
    user.get("user_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A comparable view of a JSON value: booleans, then numbers, then strings.
#[derive(Debug, PartialEq, PartialOrd)]
enum SortKey {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl SortKey {
    fn of(value: &Value, fold_case: bool) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(Self::Bool(*b)),
            Value::Number(n) => n.as_f64().map(Self::Number),
            Value::String(s) if fold_case => Some(Self::Text(s.to_lowercase())),
            Value::String(s) => Some(Self::Text(s.clone())),
            // Arrays sort by their first element, as Elasticsearch does by default (min).
            Value::Array(items) => items.iter().find_map(|v| Self::of(v, fold_case)),
            Value::Null | Value::Object(_) => None,
        }
    }

    fn order(&self, other: &Self) -> Ordering {
        self.partial_cmp(other).unwrap_or(Ordering::Equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn users(values: &[Value]) -> Vec<Arc<Value>> {
        values.iter().cloned().map(Arc::new).collect()
    }

    fn order(users: &[Arc<Value>]) -> Vec<&str> {
        users
            .iter()
            .map(|u| u["user_id"].as_str().unwrap_or_default())
            .collect()
    }

    #[test]
    fn missing_values_sort_last_in_both_directions_ties_by_user_id() {
        let list = [
            json!({"user_id": "d", "logins_count": 5}),
            json!({"user_id": "c"}),
            json!({"user_id": "b", "logins_count": 5}),
            json!({"user_id": "a", "logins_count": 9}),
        ];
        let mut asc = users(&list);
        SortSpec::parse("logins_count:1").unwrap().sort(&mut asc);
        assert_eq!(order(&asc), ["b", "d", "a", "c"]);
        let mut desc = users(&list);
        SortSpec::parse("logins_count:-1").unwrap().sort(&mut desc);
        assert_eq!(order(&desc), ["a", "b", "d", "c"]);
    }

    #[test]
    fn normalized_fields_sort_ignoring_case_and_bad_specs_are_refused() {
        let mut list = users(&[
            json!({"user_id": "1", "name": "bob"}),
            json!({"user_id": "2", "name": "Alice"}),
        ]);
        SortSpec::parse("name:1").unwrap().sort(&mut list);
        assert_eq!(order(&list), ["2", "1"]);
        for bad in ["name", "name:2", ":1", "na me:1", "name:-1:1"] {
            assert!(SortSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
