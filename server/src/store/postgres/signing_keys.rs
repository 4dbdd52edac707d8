//! The signing keys' table in PostgreSQL, shared by every process on the database.

use ::postgres::Row;

use super::{schema::SIGNING_KEY_LOCK, secs, PostgresStore, Sql};
use crate::store::*;

const SELECT: &str = "SELECT kid, algorithm, private_key, public_jwk, created_at_ms, signs_from_ms FROM signing_keys \
     ORDER BY signs_from_ms, created_at_ms, kid";

const INSERT: &str =
    "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at_ms, signs_from_ms) \
     VALUES ($1, $2, $3, $4, $5, $6)";

fn key_row(r: &Row) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: r.get(0),
        algorithm: r.get(1),
        private_key: r.get(2),
        public_jwk: r.get(3),
        created_at: r.get::<_, i64>(4) as u64,
        signs_from: r.get::<_, i64>(5) as u64,
    }
}

fn insert<C: ::postgres::GenericClient>(tx: &mut Sql<'_, C>, key: &SigningKeyRecord) -> StoreResult<u64> {
    tx.execute(
        INSERT,
        &[&key.kid, &key.algorithm, &key.private_key, &key.public_jwk, &secs(key.created_at), &secs(key.signs_from)],
    )
}

impl SigningKeyStore for PostgresStore {
    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        self.read(|db| Ok(db.query(SELECT, &[])?.iter().map(key_row).collect()))
    }

    fn add_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<Vec<SigningKeyRecord>> {
        self.write(|tx| {
            // Under READ COMMITTED two "insert if empty" could both see an empty table: the
            // lock makes the processes starting at once check one after the other.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SIGNING_KEY_LOCK])?;
            if tx.query_opt("SELECT 1 FROM signing_keys LIMIT 1", &[])?.is_none() {
                insert(tx, key)?;
            }
            Ok(tx.query(SELECT, &[])?.iter().map(key_row).collect())
        })
    }

    fn add_signing_key(&self, key: &SigningKeyRecord, expired: &[String]) -> StoreResult<()> {
        self.write(|tx| {
            insert(tx, key)?;
            for kid in expired {
                tx.execute("DELETE FROM signing_keys WHERE kid = $1", &[kid])?;
            }
            Ok(())
        })
    }
}
