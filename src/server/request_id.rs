//! Request ids: an incoming `x-request-id` is kept when it is sane (else one is made), returned
//! on the response, recorded on the request's tracing span, and sent on every upstream call
//! made for the request (through a task-local, which loaders re-enter in their own tasks).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: Arc<str>;
}

/// The id of the request being served by this task, if any.
pub fn current() -> Option<Arc<str>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Runs `future` as part of the request `id`.
pub async fn scope<F: Future>(id: Arc<str>, future: F) -> F::Output {
    CURRENT.scope(id, future).await
}

/// The id for a request: the caller's if it is 1 to 128 of `[A-Za-z0-9._:-]`, else a new one.
fn choose(incoming: Option<&HeaderValue>) -> Arc<str> {
    let sane = incoming.and_then(|v| v.to_str().ok()).filter(|v| {
        (1..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
    });
    match sane {
        Some(id) => Arc::from(id),
        None => Arc::from(format!("{:032x}", rand::thread_rng().r#gen::<u128>())),
    }
}

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let id = choose(request.headers().get(HEADER));
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let started = std::time::Instant::now();
    let mut response = scope(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// The request's id, as an axum extension.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        assert_eq!(
            &*choose(Some(&HeaderValue::from_static("abc-123.x:y_z"))),
            "abc-123.x:y_z"
        );
        for bad in ["", "has space", "new\"line", &"x".repeat(129)] {
            let made = choose(HeaderValue::from_str(bad).ok().as_ref());
            assert_eq!(made.len(), 32, "{bad:?} → {made}");
        }
        assert_ne!(choose(None), choose(None));
    }
}
