//! The harness of tenantgraph's tests, shared by every test binary: emulated tenants, the
//! emulated operator issuer and gateways on free ports ([`TestApp`], [`start_gateway`]), a small
//! GraphQL client ([`post`], [`data`], [`error_codes`]), a real `redis-server` ([`RedisServer`]),
//! a real browser ([`Browser`]: headless Chromium through chromedriver), a browser at the HTTP
//! level for the portal's tests ([`HttpBrowser`]), an OTLP trace receiver ([`OtlpReceiver`]), a
//! proxy recording what a tenant is sent ([`RecordingProxy`]), and the runner of tests that need
//! system programs ([`system_tests`]).
//!
//! # System programs
//! Some tests run real programs: `redis-server`, `chromium` and `chromedriver`, `node` (and
//! Node packages installed by `npm ci`). They live in test binaries of their own, run by
//! [`system_tests!`]: on a machine without what they need, the binary says loudly what is
//! missing and the command that installs it, and its tests are counted as ignored. With
//! `TENANTGRAPH_CI=1` (set by `.ci/run`, which installs them all) they fail instead, so CI
//! always runs every test.
//!
//! # Features
//! `gateway` (default) is everything but [`system_tests`]; the emulator's tests, which need
//! only that runner, turn it off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod system_tests;

#[cfg(feature = "gateway")]
mod app;
#[cfg(feature = "gateway")]
mod browser;
#[cfg(feature = "gateway")]
mod gateway;
#[cfg(feature = "gateway")]
mod http_browser;
#[cfg(feature = "gateway")]
mod loopback;
#[cfg(feature = "gateway")]
mod otlp;
#[cfg(feature = "gateway")]
mod proxy;
#[cfg(feature = "gateway")]
mod redis_server;

#[cfg(feature = "gateway")]
pub use app::{Options, TestApp, data, error_codes, post, spawn, spawn_with};
#[cfg(feature = "gateway")]
pub use browser::{Browser, By};
/// The WebDriver client under [`Browser`] (its keys, elements and locators).
#[cfg(feature = "gateway")]
pub use fantoccini;
#[cfg(feature = "gateway")]
pub use gateway::{
    RunningGateway, fast_failing, start_gateway, start_gateway_on, start_gateway_with,
};
#[cfg(feature = "gateway")]
pub use http_browser::{HttpBrowser, Page};
#[cfg(feature = "gateway")]
pub use otlp::{OtlpReceiver, ReceivedSpan};
#[cfg(feature = "gateway")]
pub use proxy::{Recorded, RecordingProxy};
#[cfg(feature = "gateway")]
pub use redis_server::RedisServer;
