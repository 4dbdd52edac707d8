//! The merge proofs' table in PostgreSQL, shared by every process on the database.

use super::{secs, PostgresStore};
use crate::store::*;

impl MergeProofStore for PostgresStore {
    fn record_merge_proof(&self, proof: &MergeProofRecord) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO merge_proofs (jti, from_user, into_user, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&proof.jti, &proof.from_user, &proof.into_user, &secs(proof.issued_at), &secs(proof.expires_at)],
            )?;
            Ok(())
        })
    }

    fn redeem_merge_proof(&self, jti: &str, now: u64) -> StoreResult<Redemption> {
        self.write(|tx| {
            // The row lock the UPDATE takes makes a racing one wait, re-read the row and find
            // redeemed_at set (READ COMMITTED re-checks the WHERE): one of them changes it.
            let changed = tx.execute(
                "UPDATE merge_proofs SET redeemed_at = $2 WHERE jti = $1 AND redeemed_at IS NULL",
                &[&jti, &secs(now)],
            )?;
            if changed == 1 {
                return Ok(Redemption::Redeemed);
            }
            let known = tx.query_opt("SELECT 1 FROM merge_proofs WHERE jti = $1", &[&jti])?;
            Ok(if known.is_some() { Redemption::AlreadyRedeemed } else { Redemption::Unknown })
        })
    }

    fn delete_expired_merge_proofs(&self, now: u64, limit: usize) -> StoreResult<usize> {
        self.write(|tx| {
            let deleted = tx.execute(
                "DELETE FROM merge_proofs WHERE jti IN \
                 (SELECT jti FROM merge_proofs WHERE expires_at < $1 LIMIT $2)",
                &[&secs(now), &(limit as i64)],
            )?;
            Ok(deleted as usize)
        })
    }
}
