//! The portal's one style sheet, one script and its icon, compiled into the binary and served from
//! `/assets/`, so that pages work with no network but this gateway. Their URLs carry a hash of
//! their content, so browsers may keep them for a year and still never use a stale copy.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const FILES: [(&str, &str, &str); 3] = [
    (
        "portal.css",
        "text/css; charset=utf-8",
        include_str!("assets/portal.css"),
    ),
    (
        "portal.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/portal.js"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("assets/icon.svg")),
];

/// Each file's name and the first hex digits of its SHA-256.
static VERSIONS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, _, body)| {
            let digest = format!("{:x}", Sha256::digest(body.as_bytes()));
            (*name, digest[..12].to_owned())
        })
        .collect()
});

/// The URL of an asset, with its version.
pub(crate) fn path(name: &str) -> String {
    let version = VERSIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, v)| v.as_str());
    format!("/assets/{name}?v={version}")
}

pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
