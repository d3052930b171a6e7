//! A recording proxy on a free loopback port, to see what the gateway sends a tenant without
//! changing the tenant: every request is forwarded as it came and answered with what the
//! tenant answered, and its method, path and headers are kept.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

/// A request the proxy forwarded.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    pub headers: HeaderMap,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct Shared {
    target: String,
    client: reqwest::Client,
    recorded: Mutex<Vec<Recorded>>,
}

/// The proxy; it stops when dropped.
pub struct RecordingProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Hop-by-hop and framing headers, which each side sets for itself.
const NOT_FORWARDED: [header::HeaderName; 4] = [
    header::HOST,
    header::CONTENT_LENGTH,
    header::CONNECTION,
    header::TRANSFER_ENCODING,
];

impl RecordingProxy {
    /// Forwards to `target`, a base URL such as `http://127.0.0.1:4101`.
    pub async fn start(target: &str) -> Self {
        let shared = Arc::new(Shared {
            target: target.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            recorded: Mutex::new(Vec::new()),
        });
        let router = Router::new().fallback(forward).with_state(shared.clone());
        let (addr, stop) = crate::loopback::serve(router).await;
        Self {
            addr,
            shared,
            stop: Some(stop),
        }
    }

    /// The proxy's base URL, to configure in the target's place.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request forwarded so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// Forgets the requests forwarded so far.
    pub fn clear(&self) {
        self.shared.recorded.lock().unwrap().clear();
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    shared.recorded.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers.clone(),
    });
    let mut headers = parts.headers;
    for name in NOT_FORWARDED {
        headers.remove(name);
    }
    let answer = shared
        .client
        .request(parts.method, format!("{}{path_and_query}", shared.target))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            return (axum::http::StatusCode::BAD_GATEWAY, error.to_string()).into_response();
        }
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    for name in NOT_FORWARDED {
        headers.remove(name);
    }
    let body = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
