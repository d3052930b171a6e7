//! The emulator driven over HTTP as an Auth0 client would, one behaviour per test.

mod helpers;

mod binary;
mod blocks;
mod conformance;
mod control;
mod custom_domain;
mod directory;
mod faults;
mod lag;
mod logs_stats;
mod ratelimit;
mod sdk;
mod search;
mod seed;
mod tickets;
mod tokens;
mod users_read;
mod users_write;
