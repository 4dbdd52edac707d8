//! `custom-token` JWT verification on its own: any input is refused with 401 AuthError or
//! yields an identity with a sub of 1 to 255 bytes.
#![no_main]

use guestpass_server::{config::Config, external_jwt::ExternalJwt};
use guestpass_server_fuzz::CUSTOM_JWT_SECRET;
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static ExternalJwt {
    static VERIFIER: std::sync::OnceLock<ExternalJwt> = std::sync::OnceLock::new();
    VERIFIER.get_or_init(|| {
        let mut config = Config::for_data("unused.db");
        config.custom_jwt_secret = Some(CUSTOM_JWT_SECRET.into());
        config.custom_jwt_issuer = Some("https://backend.example".into());
        // the corpus's JWTs expire in 2100
        config.custom_jwt_max_lifetime = std::time::Duration::from_secs(100 * 365 * 86400);
        ExternalJwt::from_config(&config).unwrap().unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    match verifier().verify(token) {
        Ok(identity) => assert!(!identity.sub.is_empty() && identity.sub.len() <= 255),
        Err(e) => assert_eq!((e.status.as_u16(), e.code), (401, "AuthError")),
    }
});
