//! The merge proofs' table in PostgreSQL, shared by every process on the database.

use super::{secs, PostgresStore};
use crate::store::*;

impl MergeProofStore for PostgresStore {
    fn record_merge_proof(&self, proof: &MergeProofRecord, webhook: Option<&str>) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO merge_proofs (jti, from_user, into_user, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&proof.jti, &proof.from_user, &proof.into_user, &secs(proof.issued_at), &secs(proof.expires_at)],
            )?;
            if let Some(body) = webhook {
                tx.execute(
                    "INSERT INTO merge_webhooks (jti, body, next_attempt_at) VALUES ($1, $2, $3)",
                    &[&proof.jti, &body, &secs(proof.issued_at)],
                )?;
            }
            Ok(())
        })
    }

    fn claim_merge_webhooks(&self, now: u64, lease: u64, limit: usize) -> StoreResult<Vec<WebhookDelivery>> {
        self.write(|tx| {
            // SKIP LOCKED: processes claiming at once take different rows, none waits.
            let rows = tx.query(
                "UPDATE merge_webhooks SET next_attempt_at = $2 WHERE jti IN \
                 (SELECT jti FROM merge_webhooks WHERE next_attempt_at <= $1 ORDER BY next_attempt_at \
                  LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING jti, body, attempts",
                &[&secs(now), &secs(now + lease), &(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| WebhookDelivery { jti: r.get(0), body: r.get(1), attempts: r.get::<_, i32>(2) as u32 })
                .collect())
        })
    }

    fn record_merge_webhook_attempt(&self, jti: &str, now: u64, attempt: WebhookAttempt) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE merge_webhooks SET attempts = attempts + 1, last_status = $2, next_attempt_at = $3, \
                 delivered_at = CASE WHEN $4 THEN $5 ELSE delivered_at END WHERE jti = $1",
                &[&jti, &attempt.status.map(i32::from), &attempt.retry_at.map(secs), &attempt.delivered, &secs(now)],
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
