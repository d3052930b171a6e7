//! Integration tests: emulated tenants, an emulated operator issuer and the gateway on free
//! ports, driven over HTTP as clients would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod batching;
mod explorer;
mod faults;
mod gdpr;
mod hardening;
mod holes;
mod matrix;
mod mutations;
mod observability;
mod partial;
mod read_matrix;
mod reads;
mod schema;
mod scope;
mod search;
mod telemetry;
mod write_safety;
