//! The admin API's query parameters: refused with 400 or a page whose offset is exact.
#![no_main]

use guestpass_server::paging::{Paging, MAX_PER_PAGE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    match Paging::from_query(Some(query)) {
        Ok(p) => {
            assert!(p.page >= 1 && (1..=MAX_PER_PAGE).contains(&p.per_page));
            assert_eq!(u128::from(p.offset), u128::from(p.page - 1) * u128::from(p.per_page));
            assert!(i64::try_from(p.offset).is_ok());
        }
        Err(e) => assert_eq!((e.status.as_u16(), e.code), (400, "BadRequest")),
    }
});
