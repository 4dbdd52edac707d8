//! The admin API's paging parameters (`?page=N&per_page=M`), read from an untrusted query.

use crate::error::ApiError;

/// Most users one page holds.
pub const MAX_PER_PAGE: u64 = 100;

/// A page of a list: `page` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
    /// Rows before this page; always fits SQLite's signed 64-bit OFFSET.
    pub offset: u64,
}

impl Paging {
    /// `page` (from 1) and `per_page` (1 to 100, default 25) from the query string. A page
    /// whose offset would not fit in 63 bits is refused with 400, not computed with overflow.
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let (mut page, mut per_page) = (1u64, 25u64);
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number = || value.parse::<u64>().map_err(|_| ApiError::bad_request(format!("{key} must be a number")));
            match key {
                "page" => page = number()?,
                "per_page" => per_page = number()?,
                _ => {}
            }
        }
        if page == 0 || !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::bad_request("page starts at 1; per_page is 1 to 100"));
        }
        let offset = (page - 1)
            .checked_mul(per_page)
            .filter(|offset| i64::try_from(*offset).is_ok())
            .ok_or_else(|| ApiError::bad_request("page is too large"))?;
        Ok(Paging { page, per_page, offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_from_one() {
        assert_eq!(Paging::from_query(None).unwrap(), Paging { page: 1, per_page: 25, offset: 0 });
        assert_eq!(Paging::from_query(Some("page=3&per_page=10")).unwrap().offset, 20);
    }

    #[test]
    fn out_of_range_pages_are_refused_without_overflow() {
        for bad in ["page=0", "per_page=0", "per_page=101", "page=x", "page=-1", "page=18446744073709551615"] {
            assert!(Paging::from_query(Some(bad)).is_err(), "{bad}");
        }
        // the largest page whose offset fits in an i64
        let last = i64::MAX as u64 / 100 + 1;
        assert!(Paging::from_query(Some(&format!("page={last}&per_page=100"))).is_ok());
        assert!(Paging::from_query(Some(&format!("page={}&per_page=100", last + 1))).is_err());
    }
}
