//! `searchUsers`: one Auth0 search per tenant (per stream), merged into one ordered list with
//! an opaque cursor that resumes every stream where it stopped.
//!
//! A stream is one tenant, or for a delegated administrator one tenant restricted to a chunk of
//! its organization's member ids (`(<query>) AND user_id:("…" OR …)`), so the caller's query is
//! always AND-ed with its scope. The caller's query is parsed and re-printed in canonical form
//! before it is wrapped, so it cannot break out of its parentheses. Each tenant has one more
//! stream: the users this gateway wrote lately that match the query but that Auth0's lagging
//! index does not return yet (a user just created is found at once), within the caller's scope.
//!
//! Auth0 reaches only the first 1000 results of a search; a stream that would need more
//! is reported as BAD_USER_INPUT with advice to narrow the query. A stream whose tenant fails
//! is reported once and left out of the rest of that pagination, so the order stays right.

use std::cmp::Ordering;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::query::{canonical_query, check_fields, restrict_to_members};
use super::view::UserView;
use super::{Partial, Scope};
use crate::auth::Permission;
use crate::error::{ClientError, ClientResult};
use crate::store::{TenantRef, TenantResult};
use crate::tenant::{MAX_PER_PAGE, Profile, Timestamp};

/// Auth0 answers only the first 1000 results of a search.
const SEARCH_WINDOW: u32 = 1000;

/// The orders a search can be read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum UserOrder {
    #[default]
    CreatedAtDesc,
    CreatedAtAsc,
    LastLoginDesc,
    EmailAsc,
}

/// A timestamp's text, as a sort key.
fn boxed(at: Timestamp<'_>) -> Box<str> {
    at.to_string().into_boxed_str()
}

impl UserOrder {
    /// Auth0's `sort` parameter.
    fn auth0_sort(self) -> &'static str {
        match self {
            Self::CreatedAtDesc => "created_at:-1",
            Self::CreatedAtAsc => "created_at:1",
            Self::LastLoginDesc => "last_login:-1",
            Self::EmailAsc => "email:1",
        }
    }

    /// Two users of one tenant in this order: by sort key, then user id.
    fn compare_profiles(self, a: &Profile, b: &Profile) -> Ordering {
        self.compare_keys(&self.key(a), &self.key(b))
            .then_with(|| a.user_id().cmp(b.user_id()))
    }

    fn key(self, profile: &Profile) -> Option<Box<str>> {
        match self {
            Self::CreatedAtDesc | Self::CreatedAtAsc => profile.created_at().map(boxed),
            Self::LastLoginDesc => profile.last_login().map(boxed),
            Self::EmailAsc => profile.email_key().map(String::into_boxed_str),
        }
    }

    /// The order of merged results: the sort key (absent values last, as Auth0 sorts), then
    /// tenant, then user id.
    fn compare(self, a: &Candidate, b: &Candidate) -> Ordering {
        self.compare_keys(&a.key, &b.key)
            .then_with(|| a.tenant.id().cmp(b.tenant.id()))
            .then_with(|| a.profile.user_id().cmp(b.profile.user_id()))
    }

    fn compare_keys(self, a: &Option<Box<str>>, b: &Option<Box<str>>) -> Ordering {
        match (a, b) {
            (Some(x), Some(y)) => match self {
                Self::CreatedAtDesc | Self::LastLoginDesc => y.cmp(x),
                Self::CreatedAtAsc | Self::EmailAsc => x.cmp(y),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
}

/// One page of a search: the users with their cursors, and where the search stands.
#[derive(Debug)]
pub(crate) struct SearchPage {
    pub(crate) edges: Vec<(String, UserView)>,
    pub(crate) has_next_page: bool,
    pub(crate) end_cursor: Option<String>,
    /// The number of matching users in every searched tenant (the sum of their totals).
    pub(crate) total_count: i32,
}

/// One list of a tenant's users to page through.
struct Stream {
    tenant: TenantRef,
    source: Source,
}

enum Source {
    /// Auth0's search with this query (`None`: every user).
    Index(Option<String>),
    /// Users written here lately that match the query but that the index does not return for
    /// it yet, in the search's order.
    Unindexed(Vec<Profile>),
}

/// Where a stream is: how many results were consumed, and how many there are (`None` once it
/// failed: it is then left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    offset: u32,
    total: Option<u32>,
}

impl Position {
    fn exhausted(self) -> bool {
        self.total.is_none_or(|total| self.offset >= total)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    /// Fingerprint of the search the cursor belongs to.
    f: String,
    /// Per stream: [offset, total or -1].
    s: Vec<(u32, i64)>,
}

struct Candidate {
    tenant: TenantRef,
    profile: Profile,
    key: Option<Box<str>>,
    stream: usize,
    /// Zero-based position in its stream's results.
    position: u32,
}

pub(crate) struct SearchArgs {
    pub(crate) query: Option<String>,
    pub(crate) tenants: Option<Vec<String>>,
    pub(crate) first: i32,
    pub(crate) after: Option<String>,
    pub(crate) order: UserOrder,
}

impl Scope {
    /// Auth0's user search in every tenant in reach (or those named), restricted to the
    /// caller's scope, merged into one order and paged by an opaque cursor.
    pub(crate) async fn search(&self, args: SearchArgs) -> ClientResult<Partial<SearchPage>> {
        self.operator_with(Permission::ReadUsers)?;
        search_users(self, args).await
    }
}

async fn search_users(scope: &Scope, args: SearchArgs) -> ClientResult<Partial<SearchPage>> {
    let first = u32::try_from(args.first)
        .ok()
        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
        .ok_or_else(|| ClientError::bad_input("searchUsers(first:) must be between 1 and 100"))?;
    let query = canonical_query(args.query.as_deref())?;
    if let Some(query) = &query {
        check_fields(query, scope.sight())?;
    }
    let tenants = scope.select(args.tenants.as_deref())?;
    let mut failures = Vec::new();
    let streams = streams(scope, &tenants, query.as_deref(), args.order, &mut failures).await;
    let fingerprint = fingerprint(query.as_deref(), args.order, &streams);
    let mut positions = match &args.after {
        None => vec![
            Position {
                offset: 0,
                total: Some(u32::MAX)
            };
            streams.len()
        ],
        Some(cursor) => decode_cursor(cursor, &fingerprint, streams.len())?,
    };

    let fetches = streams.iter().zip(&positions).map(|(stream, position)| async move {
        if position.exhausted() {
            return Ok(None);
        }
        if matches!(stream.source, Source::Index(_)) && position.offset >= SEARCH_WINDOW {
            return Err(ClientError::bad_input(format!(
                "Auth0 search reaches only the first {SEARCH_WINDOW} results and tenant {} has more; narrow the query (for example with created_at:[2024-01-01 TO 2024-06-30]) or order differently",
                stream.tenant.id()
            ))
            .for_tenant(stream.tenant.id().to_string()));
        }
        Ok(Some(fetch_window(scope, stream, args.order, position.offset, first).await))
    });
    let fetched = join_all(fetches).await;

    let mut buffers: Vec<std::collections::VecDeque<Candidate>> = Vec::with_capacity(streams.len());
    for (index, result) in fetched.into_iter().enumerate() {
        let mut buffer = std::collections::VecDeque::new();
        match result? {
            None => {}
            Some(Err(error)) => {
                failures.push(error.to_client(streams[index].tenant.id()));
                positions[index].total = None;
            }
            Some(Ok((total, profiles))) => {
                positions[index].total = Some(total);
                buffer.extend(profiles.into_iter().map(|(position, profile)| Candidate {
                    tenant: streams[index].tenant.clone(),
                    key: args.order.key(&profile),
                    profile,
                    stream: index,
                    position,
                }));
            }
        }
        buffers.push(buffer);
    }

    let mut edges = Vec::with_capacity(first as usize);
    while edges.len() < first as usize {
        // A stream whose fetched window ran out but which has more (the 1000 window cut it)
        // cannot be compared any further: stop the page there.
        let starved = buffers
            .iter()
            .enumerate()
            .any(|(i, b)| b.is_empty() && !positions[i].exhausted());
        if starved {
            break;
        }
        let best = buffers
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.front().map(|c| (i, c)))
            .min_by(|(_, a), (_, b)| args.order.compare(a, b))
            .map(|(i, _)| i);
        let Some(stream) = best else { break };
        let Some(candidate) = buffers[stream].pop_front() else {
            break;
        };
        // Positions skipped over (users deleted here, still in the lagging index) are consumed too.
        positions[candidate.stream].offset = candidate.position + 1;
        edges.push((
            encode_cursor(&fingerprint, &positions),
            scope.view(candidate.tenant, candidate.profile),
        ));
    }

    let total: u64 = positions
        .iter()
        .filter_map(|p| p.total)
        .map(u64::from)
        .sum();
    Ok(Partial {
        value: SearchPage {
            has_next_page: positions.iter().any(|p| !p.exhausted()),
            end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
            edges,
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
        },
        failures,
    })
}

/// The searches to run: one per tenant, or per chunk of member ids for a delegated admin; and
/// per tenant, the users written lately that the index does not return yet.
async fn streams(
    scope: &Scope,
    tenants: &[TenantRef],
    query: Option<&str>,
    order: UserOrder,
    failures: &mut Vec<ClientError>,
) -> Vec<Stream> {
    let mut streams = Vec::new();
    for tenant in tenants {
        let members = match scope.members(tenant).await {
            Ok(members) => members,
            Err(error) => {
                failures.push(error.to_client(tenant.id()));
                continue;
            }
        };
        let index = |query: Option<String>| Stream {
            tenant: tenant.clone(),
            source: Source::Index(query),
        };
        match &members {
            None => streams.push(index(query.map(str::to_owned))),
            Some(members) => {
                let ids: Vec<Arc<str>> = members.iter().cloned().collect();
                streams.extend(
                    restrict_to_members(query, ids)
                        .into_iter()
                        .map(Some)
                        .map(index),
                );
            }
        }
        let mut unindexed = match scope.store.unindexed_writes(tenant, query).await {
            Ok(unindexed) => unindexed,
            Err(error) => {
                // The tenant's own search reports its failure.
                tracing::debug!(tenant = %tenant.id(), %error, "no recent writes beside the search");
                Vec::new()
            }
        };
        if let Some(members) = &members {
            unindexed.retain(|profile| members.contains(profile.user_id()));
        }
        unindexed.sort_by(|a, b| order.compare_profiles(a, b));
        streams.push(Stream {
            tenant: tenant.clone(),
            source: Source::Unindexed(unindexed),
        });
    }
    streams
}

/// Results `offset .. offset+count` of one stream (fewer near the 1000 window) with their
/// positions, and the stream's total.
async fn fetch_window(
    scope: &Scope,
    stream: &Stream,
    order: UserOrder,
    offset: u32,
    count: u32,
) -> TenantResult<(u32, Vec<(u32, Profile)>)> {
    let query = match &stream.source {
        Source::Index(query) => query.as_deref(),
        Source::Unindexed(users) => {
            let window = users
                .iter()
                .enumerate()
                .skip(offset as usize)
                .take(count as usize)
                .map(|(position, profile)| (position as u32, profile.clone()))
                .collect();
            return Ok((users.len() as u32, window));
        }
    };
    let count = count.min(SEARCH_WINDOW - offset);
    let mut profiles = Vec::with_capacity(count as usize);
    let mut total = 0;
    for (page, per_page) in plan_window(offset, count) {
        let answer = scope
            .store
            .search_page(&stream.tenant, query, order.auth0_sort(), page, per_page)
            .await?;
        total = u32::try_from(answer.total).unwrap_or(u32::MAX);
        let page_start = page * per_page;
        for (i, profile) in answer.users.iter().enumerate() {
            let position = page_start + i as u32;
            if let (true, Some(profile)) =
                (position >= offset && position < offset + count, profile)
            {
                profiles.push((position, profile.clone()));
            }
        }
    }
    Ok((total, profiles))
}

/// Auth0 pages (page, per_page) covering `offset .. offset+count` within the 1000 window: one
/// page when some page size between `count` and 100 covers the range, else two pages of 100.
fn plan_window(offset: u32, count: u32) -> Vec<(u32, u32)> {
    if count == 0 {
        return Vec::new();
    }
    let end = offset + count;
    for per_page in count..=MAX_PER_PAGE {
        let page = offset / per_page;
        let page_end = (page + 1) * per_page;
        if page_end >= end && page_end <= SEARCH_WINDOW {
            return vec![(page, per_page)];
        }
    }
    let page = offset / MAX_PER_PAGE;
    let mut pages = vec![(page, MAX_PER_PAGE)];
    if (page + 2) * MAX_PER_PAGE <= SEARCH_WINDOW {
        pages.push((page + 1, MAX_PER_PAGE));
    }
    pages
}

fn fingerprint(query: Option<&str>, order: UserOrder, streams: &[Stream]) -> String {
    let mut hash = Sha256::new();
    hash.update(query.unwrap_or("").as_bytes());
    hash.update([0, order.auth0_sort().len() as u8]);
    hash.update(order.auth0_sort().as_bytes());
    for stream in streams {
        hash.update([0]);
        hash.update(stream.tenant.id().as_bytes());
        // What the index has not caught up with changes from page to page: only its place counts.
        match &stream.source {
            Source::Index(query) => {
                hash.update([0]);
                hash.update(query.as_deref().unwrap_or("").as_bytes());
            }
            Source::Unindexed(_) => hash.update([1]),
        }
    }
    URL_SAFE_NO_PAD.encode(&hash.finalize()[..12])
}

fn encode_cursor(fingerprint: &str, positions: &[Position]) -> String {
    let cursor = Cursor {
        f: fingerprint.to_owned(),
        s: positions
            .iter()
            .map(|p| (p.offset, p.total.map_or(-1, i64::from)))
            .collect(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

fn decode_cursor(cursor: &str, fingerprint: &str, streams: usize) -> ClientResult<Vec<Position>> {
    let invalid = || ClientError::bad_input("`after` is not a cursor of this search");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.f != fingerprint || cursor.s.len() != streams {
        return Err(ClientError::bad_input(
            "`after` belongs to another search (query, order, tenants or organization changed); start again without it",
        ));
    }
    Ok(cursor
        .s
        .into_iter()
        .map(|(offset, total)| Position {
            offset,
            total: u32::try_from(total).ok(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_one_page_when_a_page_size_covers_it() {
        assert_eq!(plan_window(0, 20), vec![(0, 20)]);
        assert_eq!(
            plan_window(37, 20),
            vec![(1, 29)],
            "the smallest page covering 37..57"
        );
        for offset in 0..980 {
            let pages = plan_window(offset, 20);
            assert_eq!(pages.len(), 1, "offset {offset}: {pages:?}");
            let (page, per_page) = pages[0];
            assert!(page * per_page <= offset && (page + 1) * per_page >= offset + 20);
            assert!((page + 1) * per_page <= SEARCH_WINDOW);
        }
    }

    #[test]
    fn a_full_page_at_an_odd_offset_takes_two_pages() {
        assert_eq!(plan_window(150, 100), vec![(1, 100), (2, 100)]);
        assert_eq!(plan_window(200, 100), vec![(2, 100)]);
    }

    #[test]
    fn cursors_round_trip_and_refuse_other_searches() {
        let positions = vec![
            Position {
                offset: 3,
                total: Some(10),
            },
            Position {
                offset: 0,
                total: None,
            },
        ];
        let cursor = encode_cursor("abc", &positions);
        assert_eq!(decode_cursor(&cursor, "abc", 2).unwrap(), positions);
        assert!(decode_cursor(&cursor, "xyz", 2).is_err());
        assert!(decode_cursor("garbage!", "abc", 2).is_err());
    }
}
