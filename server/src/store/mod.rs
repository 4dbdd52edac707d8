//! The store: users, their identities, their sessions, and the providers' switches.
//!
//! It is a trait so that a PostgreSQL store can stand beside the SQLite one; the methods are
//! synchronous and each is one transaction (routes call them through `spawn_blocking`).

mod passkeys;
mod postgres;
mod signing_keys;
mod sqlite;

pub use passkeys::{
    counter_advances, Ceremony, ChallengeRecord, PasskeyLoginOutcome, PasskeyRecord, PasskeyStore, PasskeyUse, PASSKEY,
};
pub use postgres::{
    redacted as redacted_url, PostgresStore, SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION,
    SWEEP_LOCK as POSTGRES_SWEEP_LOCK,
};
pub use signing_keys::{SigningKeyRecord, SigningKeyStore};
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
    #[error("the database writer stopped")]
    WriterStopped,
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("database error: {}", postgres::describe(.0))]
    Postgres(::postgres::Error),
    /// The database cannot be reached or refuses connections now (down, restarting); nothing
    /// was written, or, if the connection was lost at the commit, what was is unknown.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("cannot use the PostgreSQL database {url}: {message}")]
    Connect { url: String, message: String },
    #[error("the database is locked by another connection: {0}")]
    Busy(String),
}

impl StoreError {
    /// Whether another connection (another process: a backup, a `sqlite3` shell) held a lock
    /// past the busy timeout. Retrying later can succeed; nothing is wrong with the request.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Busy(_) => true,
            StoreError::Sqlite(e) => is_lock_error(e),
            _ => false,
        }
    }
}

fn is_lock_error(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A session to create: the refresh token's hash and the device it was issued to.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub refresh_hash: RefreshHash,
    pub device_id: String,
}

/// An identity to find or attach: `(provider_type, uid)` is unique across all users, and a
/// user has at most one identity per provider.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub provider_type: String,
    pub uid: String,
    /// JSON object of provider metadata (e.g. `{"email": ...}`), also merged into the user's data.
    pub data: String,
    /// For `local-userpass` (where `uid` is the email): the account's password hash that the
    /// password was verified against. The write that logs in or links re-reads the account and
    /// refuses if this is no longer its hash (a reset came between) or the account is gone (its
    /// user was deleted), so a credential checked outside the write cannot outlive its change.
    pub verified_hash: Option<VerifiedHash>,
}

/// A password hash a login was checked against. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedHash(pub String);

impl std::fmt::Debug for VerifiedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedHash(<redacted>)")
    }
}

/// How long the session of a user that is not anonymous lives, in seconds. An anonymous user's
/// session lasts as long as the user (`--anonymous-inactivity`): ending it would end the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// Counted from the login, or the link that ended the user's anonymity; never extended.
    pub absolute: u64,
    /// Counted from the last recorded use (login or refresh).
    pub idle: u64,
}

impl SessionLifetimes {
    /// When a session authenticated at `authenticated_at` and last used at `last_used_at`
    /// ends, unless it is used again before (which moves only the idle end).
    pub fn end(&self, authenticated_at: u64, last_used_at: u64) -> u64 {
        authenticated_at.saturating_add(self.absolute).min(last_used_at.saturating_add(self.idle))
    }
}

/// What a login with a non-anonymous identity did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    LoggedIn(IdentityLogin),
    UserDisabled,
    /// The verified credential is no longer current (reset, or the account deleted); nothing
    /// was written.
    CredentialChanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLogin {
    pub user: UserRecord,
    pub session: SessionRecord,
    pub created_user: bool,
}

/// What linking an identity to a user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Attached (or already attached to this same user); `session_ends_at` as in
    /// `SessionRecord::ends_at`, for the linking session.
    Linked { user: UserRecord, session_ends_at: Option<u64> },
    /// The identity belongs to another user; nothing was changed.
    OwnedByAnotherUser,
    /// The user already has another identity of this provider; nothing was changed.
    ProviderAlreadyLinked,
    /// The verified credential is no longer current; nothing was changed.
    CredentialChanged,
    /// The linking session was revoked or its user deleted.
    SessionEnded,
}

/// An email/password account as registered (it becomes an identity at first login or link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserpassAccount {
    pub email: String,
    pub password_hash: String,
    pub confirmed: bool,
}

/// A one-time token mailed for confirmation or reset; only its hash is kept.
#[derive(Debug, Clone)]
pub struct NewUserpassToken {
    pub id: String,
    pub hash: [u8; 32],
    pub purpose: TokenPurpose,
    pub expires_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Confirm,
    Reset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Confirm => "confirm",
            TokenPurpose::Reset => "reset",
        }
    }
}

/// Why registering failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutcome {
    Registered,
    EmailInUse,
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
    /// When the session ends unless it is used again first (`SessionLifetimes::end`); `None`
    /// for an anonymous user's session.
    pub ends_at: Option<u64>,
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
    pub disabled: bool,
}

/// A session as the admin console shows it: never its refresh token (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub device_id: String,
    pub created_at: u64,
    pub last_used_at: u64,
}

/// How many users there are of each kind (the metrics' gauge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserCounts {
    pub anonymous: u64,
    pub signed_in: u64,
}

/// A page of users, newest first, for the admin console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub name: String,
    pub provider_type: String,
    pub enabled: bool,
}

pub trait Store: SigningKeyStore + PasskeyStore {
    /// Creates the user, its `anon-user` identity and its first session.
    fn create_anonymous_user(&self, new: &NewAnonymousUser) -> StoreResult<()>;

    /// The live session a refresh token belongs to; records the use as activity, at most once
    /// per `granularity` seconds. `None` also when a non-anonymous session has outlived
    /// `lifetimes` (nothing is written then; the sweep removes it).
    fn use_refresh_token(
        &self,
        hash: &RefreshHash,
        now: u64,
        granularity: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<Option<SessionRecord>>;

    /// Deletes up to `limit` sessions of non-anonymous users that outlived `lifetimes`;
    /// returns how many (0 also when another process on a shared database is sweeping).
    fn delete_expired_sessions(&self, now: u64, lifetimes: SessionLifetimes, limit: usize) -> StoreResult<usize>;

    /// Revokes the session of a refresh token; an anonymous user goes with it.
    fn end_session(&self, hash: &RefreshHash) -> StoreResult<Option<EndedSession>>;

    /// The user behind a live session, or `None` if the session was revoked or the user deleted.
    fn user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<UserRecord>>;

    /// Deletes a user with its identities and sessions, if `session_id` is still one of its
    /// live sessions. Returns whether a user was deleted.
    fn delete_user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<bool>;

    /// Every known provider with its switch.
    fn providers(&self) -> StoreResult<Vec<ProviderRecord>>;

    /// Logs in with an identity: the user it belongs to, or a new user created with it, and a
    /// new session for that user, if the identity's verified credential is still current.
    fn login_identity(
        &self,
        identity: &NewIdentity,
        session: &NewSession,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<LoginOutcome>;

    /// Attaches an identity to the user of a live session, atomically: either the identity is
    /// the user's afterwards and the user is no longer anonymous, or nothing changed. A user
    /// has at most one identity per provider. The link that ends a user's anonymity starts the
    /// absolute lifetime of its session.
    fn link_identity(
        &self,
        user_id: &str,
        session_id: &str,
        identity: &NewIdentity,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<LinkOutcome>;

    /// Registers an email/password account, with a confirmation token if it starts pending.
    fn register_userpass(
        &self,
        account: &UserpassAccount,
        token: Option<&NewUserpassToken>,
        now: u64,
    ) -> StoreResult<RegisterOutcome>;

    fn userpass_account(&self, email: &str) -> StoreResult<Option<UserpassAccount>>;

    /// Stores a new confirmation or reset token for an account.
    fn add_userpass_token(&self, email: &str, token: &NewUserpassToken) -> StoreResult<()>;

    /// Records activity, at most once per `granularity` seconds per user (activity extends an
    /// anonymous user's life; writing on every request would cost a write per read).
    fn record_activity(&self, user_id: &str, now: u64, granularity: u64) -> StoreResult<()>;

    /// Deletes up to `limit` anonymous users inactive since before `cutoff`; returns how many.
    /// On a database several processes share, 0 also when another process is sweeping.
    fn delete_inactive_anonymous(&self, cutoff: u64, limit: usize) -> StoreResult<usize>;

    // --- the admin console ---

    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<UserPage>;

    /// Deletes a user (identities, sessions and email accounts); what it wrote stays.
    fn delete_user(&self, user_id: &str) -> StoreResult<bool>;

    /// Disables (ending every session) or re-enables a user. Returns whether the user exists.
    fn set_user_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<bool>;

    /// Switches a provider on or off; `None` if there is no such provider.
    fn set_provider_enabled(&self, name: &str, enabled: bool) -> StoreResult<Option<ProviderRecord>>;

    /// Uses up a token: the account's email if the token was valid, unexpired and for `purpose`.
    /// A confirm token confirms the account; a reset token sets `new_password_hash`, revokes
    /// every session of the user the account is linked to and ends the account's other reset
    /// tokens.
    fn use_userpass_token(
        &self,
        token_id: &str,
        hash: &[u8; 32],
        purpose: TokenPurpose,
        new_password_hash: Option<&str>,
        now: u64,
    ) -> StoreResult<Option<String>>;

    /// Deletes confirmation and reset tokens that expired before `now`; returns how many.
    fn delete_expired_userpass_tokens(&self, now: u64) -> StoreResult<usize>;

    // --- operating the server (issue 12) ---

    /// Whether the database answers now: one trivial query (`/readyz`).
    fn ping(&self) -> StoreResult<()>;

    /// Returns once every write queued before the call is committed (at shutdown).
    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Writes waiting for the writer (SQLite's group commit); 0 where writes do not queue.
    fn write_queue_depth(&self) -> usize {
        0
    }

    fn count_users(&self) -> StoreResult<UserCounts>;

    /// The user with this id, or else the one whose email/password identity is `email`.
    fn find_user(&self, id: &str, email: Option<&str>) -> StoreResult<Option<UserRecord>>;

    /// A user's live sessions, most recently used first.
    fn sessions_of(&self, user_id: &str) -> StoreResult<Vec<SessionInfo>>;

    /// Revokes one session of a user (its refresh token is refused from then on); an
    /// anonymous user goes with it, as at logout. `None` if the user has no such session.
    fn revoke_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<EndedSession>>;

    /// The rate limits' buckets kept in the database, where several processes share it
    /// (PostgreSQL); `None` where one process has the database (SQLite), whose limits stay in
    /// that process's memory.
    fn shared_buckets(self: std::sync::Arc<Self>) -> Option<std::sync::Arc<dyn SharedBuckets>> {
        None
    }
}

/// A bucket's rate: `count` events, refilled evenly over `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketRate {
    pub count: u32,
    pub period: std::time::Duration,
}

/// Token buckets (GCRA) every process on one database takes from, each `(bucket, key)` one
/// row updated in one statement, so that N processes do not multiply a limit by N. Keys are
/// kept as their SHA-256 (they are client addresses and emails).
pub trait SharedBuckets: std::fmt::Debug + Send + Sync + 'static {
    /// Takes a token from `key`'s bucket; if it has none, records the refusal and returns
    /// how long until it has one.
    fn take(&self, bucket: &str, key: &str, rate: BucketRate) -> StoreResult<Option<std::time::Duration>>;

    /// How long `key` stays refused since its last refused `take`, if it still is.
    fn refused_for(&self, bucket: &str, key: &str) -> StoreResult<Option<std::time::Duration>>;

    /// Deletes the buckets that are full again and refuse nobody; returns how many.
    fn forget_full(&self) -> StoreResult<usize>;
}
