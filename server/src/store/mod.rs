//! The store: users, their identities, their sessions, and the providers' switches.
//!
//! It is a trait so that a PostgreSQL store can stand beside the SQLite one; the methods are
//! synchronous and each is one transaction (routes call them through `spawn_blocking`).

mod sqlite;

pub use sqlite::SqliteStore;

use crate::tokens::RefreshHash;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database file {path}: {message}")]
    Open { path: String, message: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A session to create: the refresh token's hash and the device it was issued to.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub refresh_hash: RefreshHash,
    pub device_id: String,
}

/// Everything an anonymous login writes, in one transaction.
#[derive(Debug, Clone)]
pub struct NewAnonymousUser {
    pub user_id: String,
    pub identity_id: String,
    pub session: NewSession,
    pub now: u64,
}

/// A live session and what tokens minted from it need to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub session_id: String,
    pub user_id: String,
    pub device_id: String,
    pub is_anonymous: bool,
}

/// What `end_session` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSession {
    pub user_id: String,
    /// True when the user was anonymous and so was deleted with its only way back in.
    pub user_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    pub id: String,
    pub provider_type: String,
    /// JSON object with provider metadata (e.g. `{"email": ...}`).
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub is_anonymous: bool,
    pub identities: Vec<IdentityRecord>,
    /// JSON object of profile metadata.
    pub data: String,
    pub created_at: u64,
    pub last_active_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub name: String,
    pub provider_type: String,
    pub enabled: bool,
}

pub trait Store: Send + Sync + 'static {
    /// Creates the user, its `anon-user` identity and its first session.
    fn create_anonymous_user(&self, new: &NewAnonymousUser) -> StoreResult<()>;

    /// The live session a refresh token belongs to; records the use as activity.
    fn use_refresh_token(&self, hash: &RefreshHash, now: u64)
        -> StoreResult<Option<SessionRecord>>;

    /// Revokes the session of a refresh token; an anonymous user goes with it.
    fn end_session(&self, hash: &RefreshHash) -> StoreResult<Option<EndedSession>>;

    /// The user behind a live session, or `None` if the session was revoked or the user deleted.
    fn user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<UserRecord>>;

    /// Deletes a user with its identities and sessions, if `session_id` is still one of its
    /// live sessions. Returns whether a user was deleted.
    fn delete_user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<bool>;

    /// Every known provider with its switch.
    fn providers(&self) -> StoreResult<Vec<ProviderRecord>>;
}
