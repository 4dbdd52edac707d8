//! The JSON login and link bodies through the real login route: the first byte picks the
//! provider and whether it is a link (with a live user's access token), the rest is the body.
#![no_main]

use axum::http::{HeaderValue, Method};
use guestpass_server_fuzz::{server, APP_ID};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let server = server();
    let provider = if selector & 1 == 0 { "custom-token" } else { "local-userpass" };
    let link = selector & 2 != 0;
    let mut uri = format!("/api/client/v2.0/app/{APP_ID}/auth/providers/{provider}/login");
    let mut authorization = None;
    if link {
        uri.push_str("?link=true");
        authorization = Some(HeaderValue::from_str(&format!("Bearer {}", server.access_token)).unwrap());
    }
    server.request(Method::POST, &uri, authorization, body.to_vec()).assert_well_formed();
});
