//! Refresh-token verification as a request meets it: `POST /auth/session` with the input as
//! the `Authorization` header (bearer parsing, hashing, the session look-up).
#![no_main]

use axum::http::Method;
use guestpass_server_fuzz::server;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let server = server();
    let Some(authorization) = server.authorization(data, &server.refresh_token) else { return };
    server.request(Method::POST, "/api/client/v2.0/auth/session", Some(authorization), Vec::new()).assert_well_formed();
});
