//! The admin key: given by the operator or generated on first start and kept beside the data.
//! Only its SHA-256 is held in memory; presented keys are compared by digest.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};

use crate::{config::Config, ids};

/// The shortest key accepted: 256 bits of a random byte string, or 32 characters of text.
/// The generated key is 32 random bytes in base64 (43 characters).
pub const MIN_BYTES: usize = 32;

pub struct AdminKey {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminKey(<redacted>)")
    }
}

impl AdminKey {
    /// The configured key, or the one kept beside the data (generated the first time).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        if let Some(key) = &config.admin_key {
            anyhow::ensure!(
                key.expose().len() >= MIN_BYTES,
                "the admin key must be at least {MIN_BYTES} bytes long (e.g. `openssl rand -base64 32`)"
            );
            return Ok(Self::new(key.expose()));
        }
        let path = config.admin_key_path();
        let (key, created) =
            crate::secrets::load_or_generate(&path, || URL_SAFE_NO_PAD.encode(ids::random_bytes::<32>()))
                .map_err(|e| anyhow::anyhow!("admin key file {}: {e}", path.display()))?;
        // A key file written by hand (or by an older version) meets the same bound.
        anyhow::ensure!(
            key.len() >= MIN_BYTES,
            "the admin key in {} is shorter than {MIN_BYTES} bytes; delete the file to have one generated",
            path.display()
        );
        if created {
            tracing::info!(path = %path.display(), "generated an admin key for /admin; read it from this file");
        } else {
            tracing::info!(path = %path.display(), "admin key for /admin is in this file");
        }
        Ok(Self::new(&key))
    }

    pub fn new(key: &str) -> Self {
        AdminKey { digest: Sha256::digest(key.as_bytes()).into() }
    }

    /// Whether `presented` is the key. Comparing digests leaks nothing useful through timing.
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.iter().zip(self.digest.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}
