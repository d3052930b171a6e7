//! What the task serving one request carries down to the calls it makes upstream: the request
//! id (sent to Auth0 as `x-request-id`, recorded in logs) and, once the caller is known, the
//! key of the caller's share of each tenant's budget. Tasks spawned for the request (the
//! dataloader's batches) enter the same [`RequestTag`] again.

use std::sync::Arc;

use rand::Rng;

/// The header carrying a request's id, in and out, and to Auth0.
pub(crate) const HEADER: &str = "x-request-id";

/// The request a task works for.
#[derive(Debug, Clone)]
pub(crate) struct RequestTag {
    pub(crate) id: Arc<str>,
    /// A hash of the caller's issuer and subject, once authenticated.
    pub(crate) caller: Option<u64>,
}

tokio::task_local! {
    static CURRENT: RequestTag;
}

/// The request being served by this task, if any.
pub(crate) fn current() -> Option<RequestTag> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The id of the request being served by this task, if any.
pub(crate) fn current_id() -> Option<Arc<str>> {
    CURRENT.try_with(|tag| tag.id.clone()).ok()
}

/// Runs `future` as part of the request `tag`.
pub(crate) async fn scope<F: Future>(tag: RequestTag, future: F) -> F::Output {
    CURRENT.scope(tag, future).await
}

/// The id for a request: the caller's if it is 1 to 128 of `[A-Za-z0-9._:-]`, else a new one.
pub(crate) fn choose_id(incoming: Option<&str>) -> Arc<str> {
    let sane = incoming.filter(|v| {
        (1..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
    });
    match sane {
        Some(id) => Arc::from(id),
        None => Arc::from(format!("{:032x}", rand::thread_rng().r#gen::<u128>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert_eq!(&*choose_id(Some("abc-123.x:y_z")), "abc-123.x:y_z");
        for bad in ["", "has space", "new\"line", &"x".repeat(129)] {
            let made = choose_id(Some(bad));
            assert_eq!(made.len(), 32, "{bad:?} → {made}");
        }
        assert_ne!(choose_id(None), choose_id(None));
    }
}
