//! Access-token verification as a request meets it: `GET /auth/profile` with the input as the
//! `Authorization` header (bearer parsing, JWT decoding, claim checks, the session look-up).
#![no_main]

use axum::http::Method;
use guestpass_server_fuzz::server;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let server = server();
    let Some(authorization) = server.authorization(data, &server.access_token) else { return };
    server.request(Method::GET, "/api/client/v2.0/auth/profile", Some(authorization), Vec::new()).assert_well_formed();
});
