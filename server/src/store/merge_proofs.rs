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

pub trait MergeProofStore: Send + Sync + 'static {
    /// Records an issued proof.
    fn record_merge_proof(&self, proof: &MergeProofRecord) -> StoreResult<()>;

    /// Marks a proof redeemed at `now` if no one has yet, in one statement: of calls racing
    /// on one id, exactly one gets `Redeemed`.
    fn redeem_merge_proof(&self, jti: &str, now: u64) -> StoreResult<Redemption>;

    /// Deletes up to `limit` proofs that expired before `now`; returns how many.
    fn delete_expired_merge_proofs(&self, now: u64, limit: usize) -> StoreResult<usize>;
}
