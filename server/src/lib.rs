//! guestpass-server: a self-hostable auth service that speaks the MongoDB App Services client
//! auth protocol (`/api/client/v2.0/...`), so the guestpass SDK and the official `realm-web`
//! package both have a backend. See `docs/wire.md` for the routes and the decisions behind them.

// No `unsafe` here: the fuzz stage counts on it (LeakSanitizer only, docs/security.md).
#![forbid(unsafe_code)]

pub mod admin_key;
pub mod answers;
pub mod backup;
pub mod cleanup;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod emails;
pub mod error;
pub mod external_jwt;
pub mod extract;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod logs;
pub mod merge_proofs;
pub mod merge_webhook;
pub mod metrics;
pub mod metrics_server;
pub mod outbox;
pub mod paging;
pub mod passkeys;
pub mod passwords;
pub mod request_log;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod signing_keys;
pub mod startup;
pub mod state;
pub mod store;
pub mod tokens;
