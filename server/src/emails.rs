//! Email addresses: a basic syntax check and the canonical form that uniqueness is keyed on.

use icu_properties::{props::DefaultIgnorableCodePoint, CodePointSetData};
use unicode_normalization::UnicodeNormalization;

use crate::error::ApiError;

/// Longest address accepted (RFC 5321's path limit less the angle brackets), after normalising.
const MAX_LEN: usize = 254;
/// Longest input looked at: full-width letters take 3 bytes each before NFKC makes them 1.
const MAX_INPUT_LEN: usize = 4 * MAX_LEN;

/// The canonical form of an address, so that one mailbox is one account:
/// - trimmed, NFKC-normalised and lowercased (RFC 8265's width and case mapping), so
///   `Alice@Example.com` and `ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ` (full-width) are `alice@example.com`;
/// - refused if it holds a Default_Ignorable_Code_Point (zero-width space and joiner, soft
///   hyphen, bidi controls, variation selectors...): they render as nothing, so
///   `ali\u{200B}ce@example.com` would look like Alice's address while being another account.
///
/// Sub-addresses (`+tag`) stay distinct.
pub fn canonical(raw: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::bad_request("invalid email address");
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > MAX_INPUT_LEN {
        return Err(invalid());
    }
    if trimmed.chars().any(is_invisible) {
        return Err(ApiError::bad_request("invalid email address: it holds an invisible character"));
    }
    // NFKC again after lowercasing: a lowercase mapping need not be in normal form.
    let email: String = trimmed.nfkc().collect::<String>().to_lowercase().nfkc().collect();
    if email.len() > MAX_LEN {
        return Err(invalid());
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace() || is_invisible(c)) {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || local.len() > 64 || domain.is_empty() || local.contains('@') {
        return Err(invalid());
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Err(invalid());
    }
    Ok(email)
}

/// Characters that render as nothing (Unicode's Default_Ignorable_Code_Point property).
fn is_invisible(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
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
    fn compatibility_forms_are_one_address() {
        // full-width letters and at sign, a decomposed ü, a ligature
        assert_eq!(canonical("Ａｌｉｃｅ＠Ｅｘａｍｐｌｅ.com").unwrap(), "alice@example.com");
        assert_eq!(canonical("a@bu\u{308}cher.de").unwrap(), "a@bücher.de");
        assert_eq!(canonical("\u{FB01}sh@example.com").unwrap(), "fish@example.com");
    }

    #[test]
    fn a_canonical_form_is_its_own_canonical_form() {
        // case and compatibility mappings that interact: dotted capital I, title-case digraph,
        // final sigma, Kelvin sign, Roman numeral, squared unit
        for raw in ["\u{130}@x.de", "\u{1C5}@x.de", "ΑΣ@x.gr", "\u{212A}@x.de", "\u{216B}@x.de", "\u{33C2}@x.de"] {
            let once = canonical(raw).unwrap();
            assert_eq!(canonical(&once).as_deref(), Ok(once.as_str()), "{raw:?}");
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        for hidden in ['\u{200B}', '\u{200C}', '\u{200D}', '\u{00AD}', '\u{2060}', '\u{FEFF}', '\u{202E}', '\u{FE0F}'] {
            let email = format!("ali{hidden}ce@example.com");
            assert!(canonical(&email).is_err(), "{email:?}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in ["", "alice", "@example.com", "alice@", "a b@c.d", "a\r\n@x.com", "a@@b", "a@.b", "a@b."] {
            assert!(canonical(bad).is_err(), "{bad:?}");
        }
        assert!(canonical(&format!("{}@example.com", "a".repeat(250))).is_err());
        // U+3300 is one character (3 bytes) that NFKC makes four (12 bytes): the limit holds
        // after normalising
        assert!(canonical(&format!("a@{}", "\u{3300}".repeat(30))).is_err());
        assert!(canonical(&format!("a@{}", "\u{3300}".repeat(20))).is_ok());
    }
}
