//! Passkeys (issue 11): the users' WebAuthn credentials and the ceremonies in progress. Both
//! live in the store, not in a process's memory, so that a ceremony started on one process
//! behind a load balancer can finish on another.

use super::{IdentityLogin, LinkOutcome, NewSession, SessionLifetimes, StoreResult};

/// The provider type of a passkey identity; the identity's uid is the credential id.
pub const PASSKEY: &str = "passkey";

/// Which ceremony a challenge was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Registration,
    Authentication,
}

impl Ceremony {
    pub fn as_str(self) -> &'static str {
        match self {
            Ceremony::Registration => "registration",
            Ceremony::Authentication => "authentication",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "registration" => Some(Ceremony::Registration),
            "authentication" => Some(Ceremony::Authentication),
            _ => None,
        }
    }
}

/// A ceremony's challenge as stored: the library's serialised state (which holds the random
/// challenge the client must sign) and what it is bound to.
#[derive(Clone, PartialEq, Eq)]
pub struct ChallengeRecord {
    pub id: String,
    pub ceremony: Ceremony,
    /// The user a registration links to; `None` for a login.
    pub user_id: Option<String>,
    /// JSON of webauthn-rs's `PasskeyRegistration` or `DiscoverableAuthentication`.
    pub state: String,
    /// Seconds since the epoch.
    pub expires_at: u64,
}

impl std::fmt::Debug for ChallengeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChallengeRecord")
            .field("id", &self.id)
            .field("ceremony", &self.ceremony)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A passkey as stored. `passkey` is the library's serialised credential: the public key, its
/// algorithm, the counter and the flags; the columns beside it repeat what the console shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// The credential id, base64url without padding (as the identity's id).
    pub credential_id: String,
    pub user_id: String,
    pub passkey: String,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
}

/// What an assertion that verified changes on its passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyUse {
    pub credential_id: String,
    /// The passkey updated with the assertion's counter and flags.
    pub passkey: String,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

/// What a login with a passkey did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyLoginOutcome {
    LoggedIn(IdentityLogin),
    /// No such credential (never registered, or removed since the assertion was checked).
    Unknown,
    UserDisabled,
    /// Another login stored a counter at least as high between the check and this write.
    CounterRegressed {
        stored: u32,
    },
}

pub trait PasskeyStore: Send + Sync + 'static {
    fn add_passkey_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()>;

    /// Uses up a challenge of `ceremony` that is unused and unexpired at `now`, in one
    /// statement: of two finishes of one challenge at once, one gets it, the other `None`.
    fn take_passkey_challenge(&self, id: &str, ceremony: Ceremony, now: u64) -> StoreResult<Option<ChallengeRecord>>;

    /// Deletes challenges expired or used before `now`; returns how many.
    fn delete_expired_passkey_challenges(&self, now: u64) -> StoreResult<usize>;

    fn passkey(&self, credential_id: &str) -> StoreResult<Option<PasskeyRecord>>;

    /// A user's passkeys, oldest first.
    fn passkeys_of(&self, user_id: &str) -> StoreResult<Vec<PasskeyRecord>>;

    /// Stores a passkey and links it as a `passkey` identity to the user of a live session,
    /// in one transaction (a user may hold several). `None` if the credential id is already
    /// stored, for this user or another; nothing is changed then.
    fn link_passkey(
        &self,
        session_id: &str,
        passkey: &PasskeyRecord,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<Option<LinkOutcome>>;

    /// Records a verified assertion on its passkey and opens a session for its owner, if the
    /// stored counter is still below the assertion's (or both are 0: passkeys that keep no
    /// counter, as synced ones do).
    fn login_passkey(
        &self,
        used: &PasskeyUse,
        session: &NewSession,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<PasskeyLoginOutcome>;

    /// Removes one passkey of a user (and its identity). Returns whether there was one.
    fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool>;
}

/// Whether an assertion's counter may follow the stored one (WebAuthn §7.2 step 21): a
/// counter that does not grow, where either is not 0, may be a cloned authenticator.
pub fn counter_advances(stored: u32, presented: u32) -> bool {
    (stored == 0 && presented == 0) || presented > stored
}
