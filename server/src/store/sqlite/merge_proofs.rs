//! The merge proofs' table in the SQLite file.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::*;

impl MergeProofStore for SqliteStore {
    fn record_merge_proof(&self, proof: &MergeProofRecord, webhook: Option<&str>) -> StoreResult<()> {
        let (proof, webhook) = (proof.clone(), webhook.map(str::to_owned));
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO merge_proofs (jti, from_user, into_user, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![proof.jti, proof.from_user, proof.into_user, proof.issued_at as i64, proof.expires_at as i64])?;
            if let Some(body) = webhook {
                tx.prepare_cached("INSERT INTO merge_webhooks (jti, body, next_attempt_at) VALUES (?1, ?2, ?3)")?
                    .execute(params![proof.jti, body, proof.issued_at as i64])?;
            }
            Ok(())
        })
    }

    fn claim_merge_webhooks(&self, now: u64, lease: u64, limit: usize) -> StoreResult<Vec<WebhookDelivery>> {
        // One writer: the select and the update see no other claim between them.
        self.write(move |tx| {
            let due: Vec<WebhookDelivery> = tx
                .prepare_cached(
                    "SELECT jti, body, attempts FROM merge_webhooks WHERE next_attempt_at <= ?1 \
                     ORDER BY next_attempt_at LIMIT ?2",
                )?
                .query_map(params![now as i64, limit as i64], |r| {
                    Ok(WebhookDelivery { jti: r.get(0)?, body: r.get(1)?, attempts: r.get(2)? })
                })?
                .collect::<Result<_, _>>()?;
            for delivery in &due {
                tx.prepare_cached("UPDATE merge_webhooks SET next_attempt_at = ?2 WHERE jti = ?1")?
                    .execute(params![delivery.jti, (now + lease) as i64])?;
            }
            Ok(due)
        })
    }

    fn record_merge_webhook_attempt(&self, jti: &str, now: u64, attempt: WebhookAttempt) -> StoreResult<()> {
        let jti = jti.to_owned();
        self.write(move |tx| {
            tx.prepare_cached(
                "UPDATE merge_webhooks SET attempts = attempts + 1, last_status = ?2, next_attempt_at = ?3, \
                 delivered_at = CASE WHEN ?4 THEN ?5 ELSE delivered_at END WHERE jti = ?1",
            )?
            .execute(params![
                jti,
                attempt.status.map(i64::from),
                attempt.retry_at.map(|t| t as i64),
                attempt.delivered,
                now as i64
            ])?;
            Ok(())
        })
    }

    fn redeem_merge_proof(&self, jti: &str, now: u64) -> StoreResult<Redemption> {
        let jti = jti.to_owned();
        // One writer thread runs the writes one after another: the update and, if it changed
        // nothing, the look-up see no other redemption between them.
        self.write(move |tx| {
            let changed = tx
                .prepare_cached("UPDATE merge_proofs SET redeemed_at = ?2 WHERE jti = ?1 AND redeemed_at IS NULL")?
                .execute(params![jti, now as i64])?;
            if changed == 1 {
                return Ok(Redemption::Redeemed);
            }
            let known = tx
                .prepare_cached("SELECT 1 FROM merge_proofs WHERE jti = ?1")?
                .query_row([&jti], |_| Ok(()))
                .optional()?;
            Ok(if known.is_some() { Redemption::AlreadyRedeemed } else { Redemption::Unknown })
        })
    }

    fn delete_expired_merge_proofs(&self, now: u64, limit: usize) -> StoreResult<usize> {
        self.write(move |tx| {
            Ok(tx
                .prepare_cached(
                    "DELETE FROM merge_proofs WHERE jti IN \
                     (SELECT jti FROM merge_proofs WHERE expires_at < ?1 LIMIT ?2)",
                )?
                .execute(params![now as i64, limit as i64])?)
        })
    }
}
