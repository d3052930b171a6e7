//! Search queries naming many values of one field, `field:("a" OR "b" …)`, and how to cut a
//! list of values into such queries that fit one page of Auth0's answer and a query string
//! Auth0 accepts.

use crate::tenant::client::MAX_PER_PAGE;

/// Longest `q` parameter, percent-encoded, that a batch may send. Auth0 answers 414 to long
/// query strings; 4 kB keeps far from any limit a proxy or Auth0 may apply.
pub(crate) const MAX_QUERY_BYTES: usize = 4096;

/// Room for `field:(` … `)`, encoded, for the fields batched here (`user_id`, `email`).
pub(crate) const FIELD_OVERHEAD: usize = 20;

/// Encoded length of the ` OR ` between two values (spaces encode as `+`).
const SEPARATOR: usize = 4;

/// `field:("a" OR "b" …)` with every value quoted, so no value can change the query's meaning.
pub(crate) fn any_of<T: AsRef<str>>(field: &str, values: &[T]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|value| search_query::quote(value.as_ref()))
        .collect();
    format!("{field}:({})", quoted.join(" OR "))
}

/// `user_id:("a" OR "b" …)`: the batch query for profiles, and the member filter of a delegated
/// administrator's searches.
pub fn user_id_query<T: AsRef<str>>(ids: &[T]) -> String {
    any_of("user_id", ids)
}

/// The length of `value` once form-urlencoded, as it will travel in the query string.
pub(crate) fn encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._* ".contains(&b) {
                1
            } else {
                3
            }
        })
        .sum()
}

/// Cuts `items` into runs of at most `max_items` (and never more than a page, 100) whose values,
/// quoted and joined by ` OR `, take at most `budget` encoded bytes. A value longer than the
/// budget still gets a run of its own.
pub(crate) fn chunk_by_length<T>(
    items: &[T],
    value: impl Fn(&T) -> &str,
    max_items: usize,
    budget: usize,
) -> Vec<&[T]> {
    let max_items = max_items.min(MAX_PER_PAGE as usize);
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut length = 0;
    for (i, item) in items.iter().enumerate() {
        let cost = encoded_len(&search_query::quote(value(item))) + SEPARATOR;
        if i > start && (i - start == max_items || length + cost > budget) {
            chunks.push(&items[start..i]);
            start = i;
            length = 0;
        }
        length += cost;
    }
    if start < items.len() {
        chunks.push(&items[start..]);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn ids(n: usize, id_len: usize) -> Vec<Arc<str>> {
        (0..n)
            .map(|i| Arc::from(format!("auth0|{i:0id_len$}")))
            .collect()
    }

    fn batches(ids: &[Arc<str>], max_items: usize) -> Vec<&[Arc<str>]> {
        chunk_by_length(ids, |id| id, max_items, MAX_QUERY_BYTES - FIELD_OVERHEAD)
    }

    #[test]
    fn batches_hold_at_most_a_page_of_ids() {
        let ids = ids(250, 8);
        let chunks = batches(&ids, 1000);
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        assert_eq!(batches(&ids, 30)[0].len(), 30);
    }

    #[test]
    fn long_ids_make_smaller_batches_under_the_length_bound() {
        let ids = ids(100, 200);
        let chunks = batches(&ids, 100);
        assert!(chunks.len() > 1);
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 100);
        for chunk in chunks {
            assert!(encoded_len(&user_id_query(chunk)) <= MAX_QUERY_BYTES);
        }
    }

    #[test]
    fn a_value_longer_than_the_budget_is_sent_alone() {
        let ids = ids(3, 10);
        let chunks = chunk_by_length(&ids, |id| id, 100, 5);
        assert_eq!(chunks.len(), 3);
        assert!(chunk_by_length(&ids[..0], |id| id, 100, 5).is_empty());
    }

    #[test]
    fn values_are_quoted_in_the_batch_query() {
        assert_eq!(
            user_id_query(&["auth0|a", "x\" OR user_id:*"]),
            r#"user_id:("auth0|a" OR "x\" OR user_id:*")"#
        );
        assert_eq!(any_of("email", &["a@b.c"]), r#"email:("a@b.c")"#);
    }
}
