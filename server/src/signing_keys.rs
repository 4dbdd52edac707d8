//! The keys that sign access tokens: ES256 keys made here and kept in the store (or one given
//! by the operator), which of them signs now, and which are published for verifiers.
//!
//! A key signs from its `signs_from` until the next key's `signs_from`, and stays published
//! (and accepted) an access-token lifetime after that, plus [`PUBLISH_MARGIN`]: no token it
//! signed can outlive it. Nothing is updated at a rotation but the new row, so processes that
//! read the table at different moments never disagree about a key's end. Times here are
//! milliseconds since the epoch.

use std::{fmt, time::Duration};

use jsonwebtoken::{
    jwk::{Jwk, PublicKeyUse, ThumbprintHash},
    Algorithm, DecodingKey, EncodingKey,
};
use p256::pkcs8::EncodePrivateKey;

use crate::{
    ids,
    store::{SigningKeyRecord, SigningKeyStore, StoreError},
};

/// How often a process re-reads the keys from the store, so a rotation made by another process
/// (or by `guestpass-server keys rotate`) reaches it.
pub const KEYS_REREAD: Duration = Duration::from_secs(2);

/// Slack beyond the access-token lifetime before a retired key leaves the set: a process that
/// has not yet re-read the keys may sign with the old key for up to [`KEYS_REREAD`] after the
/// new one started; twice that, plus a second of clock, covers it.
pub const PUBLISH_MARGIN: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the signing key must be at least {MIN_SECRET_BYTES} bytes long")]
    TooShort,
    #[error("GUESTPASS_SIGNING_KEY is a PEM but not a PKCS#8 P-256 private key (BEGIN PRIVATE KEY)")]
    BadPem,
    #[error("stored signing key {kid} cannot be used: {reason}")]
    BadRecord { kid: String, reason: String },
    #[error("cannot make a signing key: {0}")]
    Generate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Minimum length of an HMAC key: 256 bits (RFC 8725 §3.5).
pub const MIN_SECRET_BYTES: usize = 32;

/// One usable key. The private half is never printed.
#[derive(Clone)]
pub struct LoadedKey {
    /// `None` only for an HS256 secret, whose tokens carry no `kid` (as before keys had ids).
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    /// `None` for a key kept only to verify tokens it signed before (the old key file).
    pub encoding: Option<EncodingKey>,
    pub decoding: DecodingKey,
    /// The public JWK, for asymmetric keys; HS256 secrets are never published.
    pub public_jwk: Option<Jwk>,
    pub created_at: u64,
    pub signs_from: u64,
}

impl fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("signs_from", &self.signs_from)
            .finish_non_exhaustive()
    }
}

/// Makes a new ES256 key that starts signing at `signs_from`.
pub fn generate_es256(now: u64, signs_from: u64) -> Result<SigningKeyRecord, KeyError> {
    // 32 random bytes are a valid P-256 scalar but for a chance of about 2^-32; draw again then.
    let secret = loop {
        if let Ok(secret) = p256::SecretKey::from_slice(&ids::random_bytes::<32>()) {
            break secret;
        }
    };
    let der = secret.to_pkcs8_der().map_err(|e| KeyError::Generate(e.to_string()))?.as_bytes().to_vec();
    let (kid, jwk) = public_jwk(&EncodingKey::from_ec_der(&der)).map_err(|e| KeyError::Generate(e.to_string()))?;
    Ok(SigningKeyRecord {
        kid,
        algorithm: "ES256".into(),
        private_key: der,
        public_jwk: serde_json::to_string(&jwk).map_err(|e| KeyError::Generate(e.to_string()))?,
        created_at: now,
        signs_from,
    })
}

/// The public JWK of an ES256 private key, with its thumbprint as `kid`, `use: sig`, `alg`.
fn public_jwk(key: &EncodingKey) -> jsonwebtoken::errors::Result<(String, Jwk)> {
    let mut jwk = Jwk::from_encoding_key(key, Algorithm::ES256)?;
    let kid = jwk.thumbprint(ThumbprintHash::SHA256);
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok((kid, jwk))
}

impl LoadedKey {
    /// A key from the store.
    pub fn from_record(record: &SigningKeyRecord) -> Result<Self, KeyError> {
        let bad = |reason: String| KeyError::BadRecord { kid: record.kid.clone(), reason };
        if record.algorithm != "ES256" {
            return Err(bad(format!("algorithm {} is not one this server signs with", record.algorithm)));
        }
        let jwk: Jwk = serde_json::from_str(&record.public_jwk).map_err(|e| bad(e.to_string()))?;
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| bad(e.to_string()))?;
        Ok(LoadedKey {
            kid: Some(record.kid.clone()),
            algorithm: Algorithm::ES256,
            encoding: Some(EncodingKey::from_ec_der(&record.private_key)),
            decoding,
            public_jwk: Some(jwk),
            created_at: record.created_at,
            signs_from: record.signs_from,
        })
    }

    /// `GUESTPASS_SIGNING_KEY`: a PKCS#8 PEM P-256 private key signs ES256 (published, `kid` its
    /// thumbprint); anything else is an HS256 secret of at least 32 bytes, as before, whose
    /// tokens app backends cannot verify on their own.
    pub fn from_operator(value: &str) -> Result<Self, KeyError> {
        if value.trim_start().starts_with("-----BEGIN") {
            let encoding = EncodingKey::from_ec_pem(value.as_bytes()).map_err(|_| KeyError::BadPem)?;
            let (kid, jwk) = public_jwk(&encoding).map_err(|_| KeyError::BadPem)?;
            let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| KeyError::BadPem)?;
            return Ok(LoadedKey {
                kid: Some(kid),
                algorithm: Algorithm::ES256,
                encoding: Some(encoding),
                decoding,
                public_jwk: Some(jwk),
                created_at: 0,
                signs_from: 0,
            });
        }
        Self::hs256(value.as_bytes())
    }

    /// An HS256 secret whose tokens carry no `kid`.
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort);
        }
        Ok(LoadedKey {
            kid: None,
            algorithm: Algorithm::HS256,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public_jwk: None,
            created_at: 0,
            signs_from: 0,
        })
    }
}

/// A key of the set and until when it is accepted (`None`: no successor has started yet).
#[derive(Debug, Clone)]
pub struct RingEntry {
    pub key: LoadedKey,
    pub accepted_until: Option<u64>,
    /// When the next key starts signing (this one's last moment of signing).
    pub signs_until: Option<u64>,
}

/// Every key a process knows, ordered by `signs_from`.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    entries: Vec<RingEntry>,
}

impl KeyRing {
    /// `keys` in any order; `ttl` is the access tokens' lifetime.
    pub fn new(mut keys: Vec<LoadedKey>, ttl: Duration) -> Self {
        keys.sort_by(|a, b| (a.signs_from, a.created_at, &a.kid).cmp(&(b.signs_from, b.created_at, &b.kid)));
        let ends: Vec<Option<u64>> = (0..keys.len())
            .map(|i| keys.get(i + 1).filter(|_| keys[i].encoding.is_some()).map(|next| next.signs_from))
            .collect();
        let entries = keys
            .into_iter()
            .zip(ends)
            .map(|(key, signs_until)| RingEntry {
                accepted_until: signs_until
                    .map(|end| end + (ttl.as_millis() as u64).max(1000) + PUBLISH_MARGIN.as_millis() as u64),
                signs_until,
                key,
            })
            .collect();
        KeyRing { entries }
    }

    /// The ring of `records`, keeping this ring's verify-only keys (the old key file's).
    pub fn with_records(&self, records: &[SigningKeyRecord], ttl: Duration) -> Result<KeyRing, KeyError> {
        let mut ring = ring_from_records(records, ttl)?;
        let kept = self.entries.iter().filter(|e| e.key.encoding.is_none()).cloned();
        ring.entries.splice(0..0, kept);
        Ok(ring)
    }

    /// Adds a key kept only to verify what it signed before, until `until`.
    pub fn with_retired(mut self, key: LoadedKey, until: u64) -> Self {
        self.entries.insert(0, RingEntry { key, accepted_until: Some(until), signs_until: Some(0) });
        self
    }

    pub fn entries(&self) -> &[RingEntry] {
        &self.entries
    }

    /// The key that signs at `now`: of those that have started, the last to start.
    pub fn signing(&self, now: u64) -> Option<&LoadedKey> {
        self.entries
            .iter()
            .filter(|e| {
                e.key.encoding.is_some() && e.key.signs_from <= now && e.signs_until.is_none_or(|end| end > now)
            })
            .map(|e| &e.key)
            .next_back()
    }

    /// Whether `entry` is still accepted (and published) at `now`.
    pub fn live(entry: &RingEntry, now: u64) -> bool {
        entry.accepted_until.is_none_or(|until| until > now)
    }

    /// The key a token names (`kid`, or none for the HS256 secret), if still accepted.
    pub fn find(&self, kid: Option<&str>, now: u64) -> Option<&LoadedKey> {
        self.entries.iter().filter(|e| Self::live(e, now)).map(|e| &e.key).find(|k| k.kid.as_deref() == kid)
    }

    /// The public JWKs of every accepted asymmetric key: the ones signing, the retired ones
    /// whose tokens may still be live, and the next ones published before they sign.
    pub fn published(&self, now: u64) -> Vec<Jwk> {
        self.entries.iter().filter(|e| Self::live(e, now)).filter_map(|e| e.key.public_jwk.clone()).collect()
    }

    /// The kids of stored keys no longer accepted at `now`.
    pub fn expired(&self, now: u64) -> Vec<String> {
        self.entries.iter().filter(|e| !Self::live(e, now)).filter_map(|e| e.key.kid.clone()).collect()
    }

    /// Algorithms of the published keys (none with an operator's HS256 secret).
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let mut algs: Vec<Algorithm> =
            self.entries.iter().filter(|e| e.key.public_jwk.is_some()).map(|e| e.key.algorithm).collect();
        algs.dedup();
        algs
    }
}

/// Builds the ring from the store's records.
pub fn ring_from_records(records: &[SigningKeyRecord], ttl: Duration) -> Result<KeyRing, KeyError> {
    let keys = records.iter().map(LoadedKey::from_record).collect::<Result<Vec<_>, _>>()?;
    Ok(KeyRing::new(keys, ttl))
}

/// What a key is at `now`, as `keys list` and the admin API show it.
pub fn key_state(entry: &RingEntry, now: u64) -> &'static str {
    if !KeyRing::live(entry, now) {
        "expired"
    } else if entry.key.signs_from > now {
        "next"
    } else if entry.signs_until.is_some_and(|end| end <= now) {
        "retired"
    } else {
        "signing"
    }
}

/// Adds a new ES256 key to the store that signs from `signs_from`, and deletes the keys whose
/// tokens have all expired. Returns the new key.
pub fn rotate(
    store: &dyn SigningKeyStore,
    ttl: Duration,
    now: u64,
    signs_from: u64,
) -> Result<SigningKeyRecord, KeyError> {
    let expired = ring_from_records(&store.signing_keys()?, ttl)?.expired(now);
    let key = generate_es256(now, signs_from)?;
    store.add_signing_key(&key, &expired)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn ring(starts: &[u64]) -> (KeyRing, Vec<String>) {
        let records: Vec<_> = starts.iter().map(|&s| generate_es256(s, s).unwrap()).collect();
        let kids = records.iter().map(|r| r.kid.clone()).collect();
        (ring_from_records(&records, TTL).unwrap(), kids)
    }

    #[test]
    fn the_latest_started_key_signs_and_the_next_one_is_published_before_it_signs() {
        let (ring, kids) = ring(&[100, 200, 300]);
        assert_eq!(ring.signing(250).unwrap().kid.as_ref(), Some(&kids[1]));
        assert_eq!(ring.signing(300).unwrap().kid.as_ref(), Some(&kids[2]));
        let published: Vec<_> = ring.published(250).into_iter().map(|j| j.common.key_id.unwrap()).collect();
        assert_eq!(published, kids, "the first is still within its tokens' lifetime, the third comes next");
    }

    #[test]
    fn a_retired_key_leaves_once_its_last_token_expired() {
        let (ring, kids) = ring(&[100, 200]);
        let end = 200 + (TTL.as_millis() + PUBLISH_MARGIN.as_millis()) as u64;
        assert!(ring.find(kids[0].as_str().into(), end - 1).is_some());
        assert!(ring.find(kids[0].as_str().into(), end).is_none());
        assert_eq!(ring.published(end).len(), 1);
        assert_eq!(ring.expired(end), vec![kids[0].clone()]);
    }

    #[test]
    fn a_record_round_trips_and_its_kid_is_the_thumbprint() {
        let record = generate_es256(1, 1).unwrap();
        let key = LoadedKey::from_record(&record).unwrap();
        let jwk = key.public_jwk.unwrap();
        assert_eq!(jwk.thumbprint(ThumbprintHash::SHA256), record.kid);
        assert!(!record.public_jwk.contains("\"d\""), "no private part in the public JWK");
        assert!(!format!("{record:?}").contains(&format!("{:?}", &record.private_key[..8])));
    }

    #[test]
    fn an_operator_secret_that_is_not_a_pem_stays_hs256_and_short_ones_are_refused() {
        let key = LoadedKey::from_operator(&"k".repeat(32)).unwrap();
        assert_eq!((key.algorithm, key.kid, key.public_jwk.is_none()), (Algorithm::HS256, None, true));
        assert!(matches!(LoadedKey::from_operator("changeme"), Err(KeyError::TooShort)));
        assert!(matches!(LoadedKey::from_operator("-----BEGIN PRIVATE KEY-----\nAA==\n"), Err(KeyError::BadPem)));
    }
}
