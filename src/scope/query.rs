//! A caller's search text made safe to send to Auth0: parsed and re-printed in canonical form
//! (so it is one balanced expression whatever was typed), checked against what the caller may
//! see (a field it may not read cannot be filtered, tested for existence or ranged over: that
//! would read it back value by value), then AND-ed with the caller's scope. No input can widen
//! the scope: the scope filter is always a top-level conjunct, and what is sent parses again.

use std::sync::Arc;

use search_query::{DEFAULT_FIELDS, Query};

use super::fields::{Sight, UserField};
use crate::error::{ClientError, ClientResult};
use crate::store::any_of::{MAX_QUERY_BYTES, chunk_by_length, encoded_len, user_id_query};
use crate::tenant::MAX_PER_PAGE;

/// The caller's query, parsed and printed canonically; `None` for no query (all users).
///
/// Blank text counts as no query, but the text is parsed as given, never trimmed: the parser
/// already skips whitespace around clauses, while whitespace after a `\` is part of a word
/// (`jane\ `, `NOT \<tab>`), and trimming it away would leave a dangling `\`. The canonical
/// text ends in such an escape whenever its last word does, so a trimming `canonical_query`
/// would refuse its own output.
pub fn canonical_query(query: Option<&str>) -> ClientResult<Option<String>> {
    let Some(query) = query.filter(|q| !q.trim().is_empty()) else {
        return Ok(None);
    };
    let parsed = search_query::parse(query)
        .map_err(|e| ClientError::bad_input(format!("the search query is not valid: {e}")))?;
    let canonical = parsed.to_string();
    if encoded_len(&canonical) > MAX_QUERY_BYTES / 2 {
        return Err(ClientError::bad_input("the search query is too long"));
    }
    // What is sent is the query inside the scope's conjunction: it must parse too (one level
    // deeper than the caller's text).
    let wrapped = format!("({canonical}) AND user_id:\"x\"");
    search_query::parse(&wrapped).map_err(|e| {
        ClientError::bad_input(format!(
            "the search query is nested too deeply to be combined with the caller's scope: {e}"
        ))
    })?;
    Ok(Some(canonical))
}

/// Refuses a query that reads a field the caller may not see, naming the field.
pub(crate) fn check_fields(query: &str, sight: Sight) -> ClientResult<()> {
    let parsed = search_query::parse(query)
        .map_err(|e| ClientError::bad_input(format!("the search query is not valid: {e}")))?;
    let mut pending = vec![&parsed];
    while let Some(query) = pending.pop() {
        let paths: Vec<&str> = match query {
            Query::All => Vec::new(),
            Query::Exists(field)
            | Query::Term {
                field: Some(field), ..
            } => vec![field.as_str()],
            // A bare term searches the default fields.
            Query::Term { field: None, .. } => DEFAULT_FIELDS.to_vec(),
            Query::And(members) | Query::Or(members) => {
                pending.extend(members);
                Vec::new()
            }
            Query::Not(inner) => {
                pending.push(inner);
                Vec::new()
            }
        };
        for path in paths {
            let Some(field) = UserField::of_search_path(path) else {
                return Err(ClientError::bad_input(format!(
                    "the search query reads `{path}`, which cannot be searched here"
                )));
            };
            if !sight.sees(field) {
                return Err(ClientError::bad_input(format!(
                    "the search query reads `{path}`, which this caller may not see ({})",
                    sight.refusal(field)
                )));
            }
        }
    }
    Ok(())
}

/// `canonical` restricted to `members`: one query per chunk of ids (sorted, at most 100, and
/// short enough to send), each `(<canonical>) AND user_id:("…" OR …)`. No members, no queries.
pub fn restrict_to_members(canonical: Option<&str>, mut members: Vec<Arc<str>>) -> Vec<String> {
    members.sort();
    let budget = MAX_QUERY_BYTES.saturating_sub(canonical.map_or(0, encoded_len) + 40);
    chunk_by_length(&members, |id| id, MAX_PER_PAGE as usize, budget)
        .into_iter()
        .map(|chunk| {
            let filter = user_id_query(chunk);
            match canonical {
                Some(q) => format!("({q}) AND {filter}"),
                None => filter,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Caller, Permission};

    #[test]
    fn hostile_queries_are_refused_or_stay_inside_their_parentheses() {
        assert!(canonical_query(Some("*) OR (user_id:*")).is_err());
        assert!(canonical_query(Some("name:\"x\") OR (user_id:*")).is_err());
        let canonical = canonical_query(Some("name:jo* OR email:\"a@b.c\"")).unwrap();
        let wrapped = restrict_to_members(canonical.as_deref(), vec![Arc::from("auth0|1")]);
        let parsed = search_query::parse(&wrapped[0]).unwrap();
        assert!(
            matches!(parsed, search_query::Query::And(ref parts) if parts.len() == 2),
            "{parsed:?}"
        );
    }

    #[test]
    fn a_trailing_escaped_whitespace_survives_canonicalising_twice() {
        for input in [
            "!\\\t jane",
            "jane NOT \\ x",
            "jane\\\n",
            " jane\\  ",
            "_exists_:a\\\r",
        ] {
            let canonical = canonical_query(Some(input)).unwrap().unwrap();
            assert_eq!(
                canonical_query(Some(&canonical)).unwrap().as_deref(),
                Some(canonical.as_str()),
                "{input:?}"
            );
        }
        assert_eq!(canonical_query(Some(" \t\n ")).unwrap(), None);
        assert_eq!(
            canonical_query(Some("jane\\\t")).unwrap().as_deref(),
            Some("jane\\\t")
        );
        assert!(canonical_query(Some("jane \\")).is_err());
    }

    #[test]
    fn many_members_make_several_bounded_queries() {
        let members: Vec<Arc<str>> = (0..250)
            .map(|i| Arc::from(format!("auth0|{i:024}")))
            .collect();
        let queries = restrict_to_members(Some("blocked:true"), members);
        assert_eq!(queries.len(), 3);
        assert!(queries.iter().all(|q| encoded_len(q) <= MAX_QUERY_BYTES));
        assert!(restrict_to_members(None, Vec::new()).is_empty());
    }

    #[test]
    fn a_field_the_caller_may_not_see_cannot_be_searched_in_any_form() {
        let auditor = Sight::of(&Caller::operator_for_tests(
            &[Permission::ReadUsers, Permission::ReadLogs],
            None,
        ));
        for query in [
            "app_metadata.plan:gold",
            "_exists_:app_metadata.customer",
            "app_metadata.seats:[10 TO *]",
            "NOT app_metadata.plan:free",
            "name:jo* AND (blocked:true OR app_metadata.plan:gold)",
        ] {
            let error = check_fields(query, auditor).unwrap_err();
            assert!(error.message.contains("app_metadata"), "{query}: {error:?}");
        }
        check_fields("name:jo* AND user_metadata.language:fr", auditor).unwrap();
        let reader = Sight::of(&Caller::operator_for_tests(&[Permission::ReadUsers], None));
        assert!(check_fields("last_ip:\"10.0.0.1\"", reader).is_err());
        assert!(check_fields("last_password_reset:[2024-01-01 TO *]", reader).is_err());
        let admin = Sight::of(&Caller::operator_for_tests(
            &[Permission::ReadUsers, Permission::ReadUsersAppMetadata],
            None,
        ));
        check_fields("app_metadata.plan:gold", admin).unwrap();
    }

    #[test]
    fn a_query_too_deep_to_wrap_is_refused_before_sending() {
        let deep = format!("{}a:b{}", "(".repeat(32), ")".repeat(32));
        assert!(search_query::parse(&deep).is_ok() || canonical_query(Some(&deep)).is_err());
        let sixteen_nots = "NOTuser_id:auth0|64f1c2aa0000000000000001 ----------------jo*";
        if let Ok(Some(canonical)) = canonical_query(Some(sixteen_nots)) {
            let wrapped = restrict_to_members(Some(&canonical), vec![Arc::from("auth0|1")]);
            search_query::parse(&wrapped[0]).unwrap();
        }
    }
}
