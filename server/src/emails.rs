//! Email addresses: a basic syntax check and the canonical form that uniqueness is keyed on.

use crate::error::ApiError;

/// Longest address accepted (RFC 5321's path limit less the angle brackets).
const MAX_LEN: usize = 254;

/// The canonical form of an address: trimmed and lowercased, so `Alice@Example.com` and
/// `alice@example.com` are one account. Sub-addresses (`+tag`) stay distinct.
pub fn canonical(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim();
    let invalid = || ApiError::bad_request("invalid email address");
    if email.is_empty() || email.len() > MAX_LEN {
        return Err(invalid());
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || local.len() > 64 || domain.is_empty() || local.contains('@') {
        return Err(invalid());
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Err(invalid());
    }
    Ok(email.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_addresses_are_trimmed_and_lowercased() {
        assert_eq!(canonical(" Alice@Example.COM ").unwrap(), "alice@example.com");
        assert_eq!(canonical("a@b").unwrap(), "a@b");
        assert_eq!(canonical("alice+news@example.com").unwrap(), "alice+news@example.com");
        assert_eq!(canonical("a@bücher.de").unwrap(), "a@bücher.de");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in ["", "alice", "@example.com", "alice@", "a b@c.d", "a\r\n@x.com", "a@@b", "a@.b", "a@b."] {
            assert!(canonical(bad).is_err(), "{bad:?}");
        }
        assert!(canonical(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
