//! Email normalisation: never a panic; a canonical form is its own canonical form, within
//! the length limit, with no whitespace or control characters.
#![no_main]

use guestpass_server::emails::canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(email) = canonical(raw) {
        assert!(email.len() <= 254);
        assert!(!email.chars().any(|c| c.is_whitespace() || c.is_control()), "{email:?}");
        assert_eq!(canonical(&email).as_deref(), Ok(email.as_str()), "canonical form of {raw:?} is not stable");
    }
});
