//! Integration tests: each test starts a real server on a free port with a fresh SQLite file
//! and talks to it over HTTP.

mod admin;
mod anonymous;
mod bad_input;
mod binary;
mod blog;
mod credential_races;
mod custom_token;
mod expiry;
mod helpers;
mod link;
mod postgres;
mod rate_limit;
mod session;
mod session_lifetimes;
mod userpass;
