//! A caller's search query made safe to send to Auth0: parsed and re-printed in canonical form
//! (so it is one balanced expression whatever was typed), then AND-ed with the caller's scope.
//! No input can widen the scope: the scope filter is always a top-level conjunct.

use std::sync::Arc;

use crate::error::{ClientError, ClientResult};
use crate::store::any_of::{MAX_QUERY_BYTES, chunk_by_length, encoded_len, user_id_query};
use crate::tenant::client::MAX_PER_PAGE;

/// The caller's query, parsed and printed canonically; `None` for no query (all users).
pub fn canonical_query(query: Option<&str>) -> ClientResult<Option<String>> {
    let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let parsed = search_query::parse(query)
        .map_err(|e| ClientError::bad_input(format!("the search query is not valid: {e}")))?;
    let canonical = parsed.to_string();
    if encoded_len(&canonical) > MAX_QUERY_BYTES / 2 {
        return Err(ClientError::bad_input("the search query is too long"));
    }
    Ok(Some(canonical))
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
    fn many_members_make_several_bounded_queries() {
        let members: Vec<Arc<str>> = (0..250)
            .map(|i| Arc::from(format!("auth0|{i:024}")))
            .collect();
        let queries = restrict_to_members(Some("blocked:true"), members);
        assert_eq!(queries.len(), 3);
        assert!(queries.iter().all(|q| encoded_len(q) <= MAX_QUERY_BYTES));
        assert!(restrict_to_members(None, Vec::new()).is_empty());
    }
}
