//! Integration tests: each test starts a real server on a free port with a fresh SQLite file
//! and talks to it over HTTP.

mod admin;
mod admin_paging;
mod admin_surface;
mod anonymous;
mod bad_input;
mod binary;
mod blog;
mod client_addr;
mod comment_names;
mod concurrent_start;
mod credential_races;
mod custom_jwt_claims;
mod custom_token;
mod edge;
mod email_forms;
mod expiry;
mod helpers;
mod link;
mod logged_binary;
mod mail_limits;
mod panic_guard;
mod postgres;
mod rate_limit;
mod session;
mod session_lifetimes;
mod shared_limits;
mod startup_log;
mod storage;
mod throttle;
mod userpass;
mod wire_shapes;
