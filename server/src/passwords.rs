//! Password rules and hashing: argon2id with OWASP's parameters (19 MiB, 2 passes), run on the
//! blocking pool and bounded, so a burst of logins cannot take all memory or all cores: one
//! hash per core at a time, a bounded number waiting, and 503 with Retry-After past that (a
//! queue without a bound turns a flood of bogus logins into seconds of latency for everyone).

use std::sync::Arc;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// App Services' limits (docs/wire.md). Counted in characters, checked before hashing.
pub const MIN_LEN: usize = 6;
pub const MAX_LEN: usize = 128;

/// A password as the client sent it. Never printed.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl AsRef<str> for Password {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks the length rule. Passwords are used exactly as received (no normalisation, no
    /// truncation).
    pub fn validate(&self) -> Result<(), ApiError> {
        let len = self.0.chars().count();
        if (MIN_LEN..=MAX_LEN).contains(&len) {
            Ok(())
        } else {
            Err(ApiError::bad_request(format!("password must be between {MIN_LEN} and {MAX_LEN} characters")))
        }
    }
}

#[derive(Clone)]
pub struct Passwords {
    /// One per core: the hashes running.
    permits: Arc<Semaphore>,
    /// The hashes running or waiting to run.
    admitted: Arc<Semaphore>,
    /// Verified against when an account does not exist, so that an unknown email costs as
    /// much time as a wrong password (no account enumeration by timing).
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords")
    }
}

impl Passwords {
    /// A hasher running one hash per core, with up to `queue` more waiting.
    pub fn new(queue: usize) -> Self {
        let dummy = hash_now("guestpass-dummy-password").unwrap_or_default();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Passwords {
            permits: Arc::new(Semaphore::new(cores)),
            admitted: Arc::new(Semaphore::new(cores + queue)),
            dummy_hash: Arc::new(dummy),
        }
    }

    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let password = password.0.clone();
        self.bounded(move || hash_now(&password).map_err(ApiError::internal)).await
    }

    /// Whether `password` matches `hash`; with no hash, spends the same time and says no.
    pub async fn verify(&self, password: &Password, hash: Option<String>) -> Result<bool, ApiError> {
        let password = password.0.clone();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let matches = self
            .bounded(move || {
                let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
                Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        // A hash takes tens of milliseconds: a full queue means the client should come back.
        let _admitted = self.admitted.try_acquire().map_err(|_| ApiError::overloaded("password checks", 1))?;
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(work).await.map_err(ApiError::internal)?
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new(16)
    }
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password(s.into())
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(pw("12345").validate().is_err());
        assert!(pw("123456").validate().is_ok());
        assert!(pw(&"é".repeat(128)).validate().is_ok(), "256 bytes but 128 characters");
        assert!(pw(&"a".repeat(129)).validate().is_err());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::default();
        let hash = passwords.hash(&pw("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify(&pw("correct horse"), Some(hash.clone())).await.unwrap());
        assert!(!passwords.verify(&pw("correct horsE"), Some(hash)).await.unwrap());
        assert!(!passwords.verify(&pw("guestpass-dummy-password"), None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_503_instead_of_waiting() {
        let passwords = Passwords::new(0);
        let hash = passwords.hash(&pw("correct horse")).await.unwrap();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let checks: Vec<_> = (0..cores * 4)
            .map(|_| {
                let (passwords, hash) = (passwords.clone(), hash.clone());
                tokio::spawn(async move { passwords.verify(&pw("wrong horse"), Some(hash)).await })
            })
            .collect();
        let mut refused = 0;
        for check in checks {
            match check.await.unwrap() {
                Ok(matches) => assert!(!matches),
                Err(e) => {
                    assert_eq!((e.status.as_u16(), e.retry_after), (503, Some(1)));
                    refused += 1;
                }
            }
        }
        assert!(refused > 0, "no queue: the surplus over one check per core is refused");
    }

    #[test]
    fn debug_hides_the_password() {
        assert!(!format!("{:?}", pw("hunter2")).contains("hunter2"));
    }
}
