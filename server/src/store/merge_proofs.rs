//! Merge proofs' ids (`jti`), so that each proof is redeemed once (issue 14).

use super::StoreResult;

/// A merge proof as the store keeps it: its id and what it names, never the signed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeProofRecord {
    pub jti: String,
    /// The anonymous user whose data moves.
    pub from_user: String,
    /// The account it moves into.
    pub into_user: String,
    pub issued_at: u64,
    pub expires_at: u64,
}

/// What redeeming a proof's id did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redemption {
    /// Marked redeemed now, by this call.
    Redeemed,
    /// Redeemed before (by an earlier call, or one racing this one).
    AlreadyRedeemed,
    /// No proof with this id was issued here (or it expired and was swept).
    Unknown,
}

/// A webhook delivery to attempt: the proof's id and the body to POST.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub jti: String,
    /// JSON text; it holds the proof, so it is never printed.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

impl std::fmt::Debug for WebhookDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDelivery").field("jti", &self.jti).field("attempts", &self.attempts).finish()
    }
}

/// What one attempt at a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// The receiver's HTTP status; `None` when no answer came.
    pub status: Option<u16>,
    pub delivered: bool,
    /// When to try again; `None` once delivered, or given up.
    pub retry_at: Option<u64>,
}

pub trait MergeProofStore: Send + Sync + 'static {
    /// Records an issued proof, and with `webhook` (the body to POST) its delivery, due now,
    /// in the same transaction.
    fn record_merge_proof(&self, proof: &MergeProofRecord, webhook: Option<&str>) -> StoreResult<()>;

    /// Takes up to `limit` deliveries due at `now`, each put off to `now + lease` in the same
    /// write, so another process (or a slow attempt) does not take it meanwhile.
    fn claim_merge_webhooks(&self, now: u64, lease: u64, limit: usize) -> StoreResult<Vec<WebhookDelivery>>;

    /// Records an attempt at a delivery.
    fn record_merge_webhook_attempt(&self, jti: &str, now: u64, attempt: WebhookAttempt) -> StoreResult<()>;

    /// Marks a proof redeemed at `now` if no one has yet, in one statement: of calls racing
    /// on one id, exactly one gets `Redeemed`.
    fn redeem_merge_proof(&self, jti: &str, now: u64) -> StoreResult<Redemption>;

    /// Deletes up to `limit` proofs that expired before `now`; returns how many.
    fn delete_expired_merge_proofs(&self, now: u64, limit: usize) -> StoreResult<usize>;
}
