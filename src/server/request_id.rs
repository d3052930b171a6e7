//! Request ids: an incoming `x-request-id` is kept when it is sane (else one is made), returned
//! on the response, recorded on the request's tracing span, and carried by the request's task
//! (`crate::request`) to every upstream call made for it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::request::{self, HEADER, RequestTag};

pub(crate) async fn middleware(request: Request, next: Next) -> Response {
    let id = request::choose_id(request.headers().get(HEADER).and_then(|v| v.to_str().ok()));
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let started = std::time::Instant::now();
    let tag = RequestTag {
        id: id.clone(),
        caller: None,
    };
    let mut response = request::scope(tag, next.run(request))
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
