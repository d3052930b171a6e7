//! Integration tests: emulated tenants, an emulated operator issuer and the gateway on free
//! ports, driven over HTTP as clients would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_trail;
mod auth;
mod batching;
mod credentials;
mod directory;
mod explorer;
mod faults;
mod federation;
mod gdpr;
mod hardening;
mod holes;
mod matrix;
mod mutations;
mod observability;
mod partial;
mod plans;
mod portal;
mod read_matrix;
mod reads;
mod schema;
mod scope;
mod search;
mod self_service;
mod telemetry;
mod tenant_client;
mod unknown_tenant;
mod write_safety;
