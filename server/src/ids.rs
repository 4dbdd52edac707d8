//! Identifiers and random secrets.

use rand::RngCore;

/// A 24-hex-digit id shaped like a MongoDB ObjectId: 4 bytes of Unix seconds, then 8 random
/// bytes. Time-ordered ids keep inserts at the right edge of the B-tree.
pub fn object_id(now_secs: u64) -> String {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&(now_secs as u32).to_be_bytes());
    rand::rng().fill_bytes(&mut bytes[4..]);
    hex::encode(bytes)
}

/// `n` random bytes from the OS-seeded CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Whether `s` is a 24-hex-digit id (lowercase or uppercase) that is not all zeros.
pub fn is_device_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

/// Seconds since the Unix epoch.
/// Milliseconds since the epoch: the signing keys' times, so that a rotation within the same
/// second as the previous key still orders after it.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_hex_and_time_ordered() {
        let a = object_id(1_700_000_000);
        let b = object_id(1_700_000_001);
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(a < b);
        assert_ne!(object_id(1), object_id(1));
    }

    #[test]
    fn device_ids_must_be_24_hex_and_not_zero() {
        assert!(is_device_id("650000000000000000000001"));
        assert!(!is_device_id("000000000000000000000000"));
        assert!(!is_device_id("65000000000000000000000"));
        assert!(!is_device_id("65000000000000000000000g"));
    }
}
