//! Integration tests: emulated tenants, an emulated operator issuer and the gateway on free
//! ports, driven over HTTP as clients would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_trail;
mod auth;
mod batching;
mod explorer;
mod faults;
mod gdpr;
mod hardening;
mod matrix;
mod mutations;
mod partial;
mod portal;
mod reads;
mod schema;
mod scope;
mod search;
mod self_service;
mod write_safety;
