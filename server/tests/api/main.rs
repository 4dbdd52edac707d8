//! Integration tests: each test starts a real server on a free port with a fresh SQLite file
//! and talks to it over HTTP.

mod anonymous;
mod bad_input;
mod binary;
mod custom_token;
mod helpers;
mod link;
mod session;
mod userpass;
