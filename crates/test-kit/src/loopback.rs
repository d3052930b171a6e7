//! A small axum server on a free loopback port, for the harness's stand-ins (the OTLP receiver,
//! the recording proxy): started in the background, stopped through the sender it returns.

use std::net::SocketAddr;

use axum::Router;
use tokio::sync::oneshot;

/// Serves `router` on `127.0.0.1` at a free port until the returned sender is used or dropped.
pub(crate) async fn serve(router: Router) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, stop)
}
