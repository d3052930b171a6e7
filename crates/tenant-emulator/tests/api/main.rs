//! The emulator driven over HTTP as an Auth0 client would, one behaviour per test.

mod browser;
mod helpers;

mod binary;
mod blocks;
mod code_grant;
mod conformance;
mod control;
mod custom_domain;
mod directory;
mod directory_writes;
mod faults;
mod lag;
mod login_sessions;
mod logs_stats;
mod ratelimit;
mod search;
mod seed;
mod tickets;
mod tokens;
mod universal_login;
mod users_read;
mod users_write;
