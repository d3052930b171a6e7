//! The HTTP side: the router (Authentication API, Management API, control API), the layers every
//! API request passes (counting, URL length, faults, rate limit), and a hyper accept loop that can
//! drop a connection without answering, which `axum::serve` cannot.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::errors::ApiError;
use crate::faults::DropConnection;
use crate::layers;
use crate::state::SharedState;
use crate::{auth_api, control, mgmt, universal_login};

/// The longest request target (path and query) served; longer ones answer 414. Auth0 documents
/// a 414 without a figure; 8 kB is the common front-end default (nginx, many load balancers).
pub const MAX_REQUEST_TARGET: usize = 8192;

/// How long shutdown waits for requests in flight before cutting connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub fn router(state: SharedState) -> Router {
    let apis = auth_api::router()
        .merge(universal_login::router())
        .merge(mgmt::router(state.clone()))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            layers::inject,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), front));
    // Hapi, under Auth0's API, answers an unsupported method on a known path as an unknown path.
    apis.merge(control::http::router())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(state)
}

/// Counts the request under its route template, logs it, and enforces the URL length.
async fn front(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let template = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |m| m.as_str().to_owned(),
    );
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok());
    state.stats.count(method.as_str(), &template, request_id);
    let target_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    let response = if target_len > MAX_REQUEST_TARGET {
        ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            "Request-URI Too Large",
        )
        .into_response()
    } else {
        next.run(request).await
    };
    tracing::debug!(
        tenant = %state.tenant.name,
        %method,
        route = %template,
        status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros(),
        "request"
    );
    response
}

async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not Found").into_response()
}

/// Serves `app` on `listener` until `shutdown` flips (or its sender is dropped), then lets
/// requests in flight finish for a moment and closes every connection.
pub async fn serve(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection = serve_connection(stream, peer, app.clone(), shutdown.clone());
                    connections.spawn(connection);
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        connections.abort_all();
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    // Small JSON answers on keep-alive connections: Nagle would add 40 ms to each.
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let app = app.clone();
        request.extensions_mut().insert(ConnectInfo(peer));
        async move {
            let response = match app.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            // A service error makes hyper close the connection without writing anything.
            if response.extensions().get::<DropConnection>().is_some() {
                return Err(DropConnection);
            }
            Ok::<_, DropConnection>(response)
        }
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::trace!(%error, "connection closed");
            }
        }
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
