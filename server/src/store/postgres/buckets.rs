//! The rate limits' buckets in PostgreSQL, shared by every process on the database: GCRA, one
//! row per `(bucket, key)` read and written by one `INSERT … ON CONFLICT DO UPDATE` on the
//! database's clock, so that concurrent takes from several processes are ordered by the row's
//! lock and no two of them spend the same token.

use sha2::{Digest, Sha256};

use super::*;

/// Times are microseconds of the database's clock, one clock for every process.
/// Takes a token: with `T` the time one token takes to come back ($3) and `limit` the
/// bucket's whole capacity in time ($4 = T * count), a take at `now` is allowed when
/// `max(tat, now) + T - now <= limit`, and then moves `tat` on by `T`. A refused take leaves
/// `tat` and records when a token is free again (`tat + T - limit`), which is after `now`;
/// an allowed one leaves `refused_until` at or before `now` (`tat` never goes back). So the
/// answer is `refused_until - checked_at`: positive, the wait; otherwise taken.
const TAKE: &str = "WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now)
    INSERT INTO rate_buckets AS b (bucket, key, tat, refused_until, checked_at)
    SELECT $1, $2, clock.now + $3, 0, clock.now FROM clock
    ON CONFLICT (bucket, key) DO UPDATE SET
        checked_at = EXCLUDED.checked_at,
        tat = CASE WHEN GREATEST(b.tat, EXCLUDED.checked_at) + $3 - EXCLUDED.checked_at <= $4
                   THEN GREATEST(b.tat, EXCLUDED.checked_at) + $3 ELSE b.tat END,
        refused_until = CASE WHEN GREATEST(b.tat, EXCLUDED.checked_at) + $3 - EXCLUDED.checked_at <= $4
                   THEN b.refused_until ELSE b.tat + $3 - $4 END
    RETURNING refused_until - checked_at";

fn key_digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

fn positive_micros(micros: i64) -> Option<Duration> {
    (micros > 0).then(|| Duration::from_micros(micros as u64))
}

impl SharedBuckets for PostgresStore {
    fn take(&self, bucket: &str, key: &str, rate: BucketRate) -> StoreResult<Option<Duration>> {
        let count = rate.count.max(1);
        let per_token = ((rate.period.as_micros() / u128::from(count)) as i64).max(1);
        let limit = per_token.saturating_mul(i64::from(count));
        let digest = key_digest(key);
        // `read` runs it again on a connection found dead at its first try: at worst a take
        // counted twice, which errs on the side of the limit.
        let wait: i64 = self.read(|db| db.query_one(TAKE, &[&bucket, &digest, &per_token, &limit]))?.get(0);
        Ok(positive_micros(wait))
    }

    fn refused_for(&self, bucket: &str, key: &str) -> StoreResult<Option<Duration>> {
        const SQL: &str = "SELECT refused_until - (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
             FROM rate_buckets WHERE bucket = $1 AND key = $2";
        let digest = key_digest(key);
        let wait = self.read(|db| db.query_opt(SQL, &[&bucket, &digest]))?;
        Ok(wait.and_then(|row| positive_micros(row.get(0))))
    }

    fn forget_full(&self) -> StoreResult<usize> {
        const SQL: &str = "DELETE FROM rate_buckets
             WHERE tat < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
               AND refused_until < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint";
        Ok(self.write_statement(SQL, &[])? as usize)
    }
}
