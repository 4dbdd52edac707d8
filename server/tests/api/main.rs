//! Integration tests: each test starts a real server on a free port with a fresh SQLite file
//! and talks to it over HTTP.

mod admin;
mod admin_surface;
mod anonymous;
mod bad_input;
mod binary;
mod blog;
mod client_addr;
mod credential_races;
mod custom_token;
mod edge;
mod expiry;
mod helpers;
mod link;
mod mail_limits;
mod rate_limit;
mod session;
mod session_lifetimes;
mod startup_log;
mod throttle;
mod userpass;
