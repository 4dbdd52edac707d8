//! The access tokens' signing keys, kept in the store so that every process on one database
//! signs and verifies with the same keys.

use super::StoreResult;

/// A signing key as the store keeps it. `private_key` is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The key's id (`kid`): its RFC 7638 thumbprint.
    pub kid: String,
    /// The JWS algorithm, e.g. `ES256`.
    pub algorithm: String,
    /// PKCS#8 DER.
    pub private_key: Vec<u8>,
    /// The public key as a JWK (JSON), as it is published.
    pub public_jwk: String,
    /// Milliseconds since the epoch, as `signs_from`.
    pub created_at: u64,
    /// When it starts signing (ms since the epoch); it signs until the next key starts.
    pub signs_from: u64,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("signs_from", &self.signs_from)
            .finish()
    }
}

pub trait SigningKeyStore: Send + Sync + 'static {
    /// Every key, ordered by `signs_from` then `created_at` then `kid`.
    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;

    /// Adds `key` only if the store holds no key yet (one transaction, serialized against
    /// other processes doing the same), then returns every key: of servers starting at once
    /// on an empty store, all end up with the one key that was added first.
    fn add_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<Vec<SigningKeyRecord>>;

    /// Adds `key` and deletes the keys named in `expired` (ones no longer published).
    fn add_signing_key(&self, key: &SigningKeyRecord, expired: &[String]) -> StoreResult<()>;
}
