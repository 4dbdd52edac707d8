//! Integration tests: each test starts a real server on a free port with a fresh SQLite file
//! and talks to it over HTTP.

mod admin;
mod admin_paging;
mod anonymous;
mod bad_input;
mod binary;
mod blog;
mod comment_names;
mod custom_jwt_claims;
mod custom_token;
mod email_forms;
mod expiry;
mod helpers;
mod link;
mod logged_binary;
mod panic_guard;
mod rate_limit;
mod session;
mod storage;
mod userpass;
