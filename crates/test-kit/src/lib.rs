//! The harness of tenantgraph's tests, shared by every test binary: emulated tenants, the
//! emulated operator issuer and gateways on free ports ([`TestApp`], [`start_gateway`]), a small
//! GraphQL client ([`post`], [`data`], [`error_codes`]), a real `redis-server` ([`RedisServer`]),
//! a real browser ([`Browser`]: headless Chromium through chromedriver), a browser at the HTTP
//! level for the portal's tests ([`HttpBrowser`]), an OTLP trace receiver ([`OtlpReceiver`]), a
//! proxy recording what a tenant is sent ([`RecordingProxy`]), and the rule for system programs a
//! test needs ([`require`]).
//!
//! # System programs
//! Some tests run real programs: `redis-server`, `chromium` and `chromedriver`, `node` (and
//! Node packages installed by `npm ci`). On a machine without one, [`require`] (or
//! [`require_file`], for what an install step leaves on disk) says loudly what is missing and
//! the command that installs it, and the test stops there, passing (it was skipped). With `TENANTGRAPH_CI=1` (set by
//! `.ci/run`, which installs them all) a missing program fails the test instead, so CI always
//! runs every test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
mod browser;
mod gateway;
mod http_browser;
mod otlp;
mod programs;
mod proxy;
mod redis_server;

pub use app::{Options, TestApp, data, error_codes, post, spawn, spawn_with};
pub use browser::{Browser, By};
/// The WebDriver client under [`Browser`] (its keys, elements and locators).
pub use fantoccini;
pub use gateway::{
    RunningGateway, fast_failing, start_gateway, start_gateway_on, start_gateway_with,
};
pub use http_browser::{HttpBrowser, Page};
pub use otlp::{OtlpReceiver, ReceivedSpan};
pub use programs::{require, require_file};
pub use proxy::{Recorded, RecordingProxy};
pub use redis_server::RedisServer;
