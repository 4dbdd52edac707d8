//! The signing keys' table in the SQLite file.

use rusqlite::{params, Connection, Row};

use super::SqliteStore;
use crate::store::*;

const SELECT: &str = "SELECT kid, algorithm, private_key, public_jwk, created_at_ms, signs_from_ms FROM signing_keys \
     ORDER BY signs_from_ms, created_at_ms, kid";

fn key_row(r: &Row<'_>) -> rusqlite::Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: r.get(0)?,
        algorithm: r.get(1)?,
        private_key: r.get(2)?,
        public_jwk: r.get(3)?,
        created_at: r.get::<_, i64>(4)? as u64,
        signs_from: r.get::<_, i64>(5)? as u64,
    })
}

fn all_keys(conn: &Connection) -> StoreResult<Vec<SigningKeyRecord>> {
    let mut stmt = conn.prepare_cached(SELECT)?;
    let rows = stmt.query_map([], key_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn insert(conn: &Connection, key: &SigningKeyRecord, only_if_empty: bool) -> StoreResult<()> {
    let sql = if only_if_empty {
        "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at_ms, signs_from_ms) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)"
    } else {
        "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at_ms, signs_from_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    };
    conn.prepare_cached(sql)?.execute(params![
        key.kid,
        key.algorithm,
        key.private_key,
        key.public_jwk,
        key.created_at as i64,
        key.signs_from as i64
    ])?;
    Ok(())
}

impl SigningKeyStore for SqliteStore {
    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        all_keys(&self.reader())
    }

    fn add_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<Vec<SigningKeyRecord>> {
        let key = key.clone();
        // The writer's batch is a `BEGIN IMMEDIATE` transaction: another process's check and
        // insert cannot come between this one's.
        self.write(move |tx| {
            insert(tx, &key, true)?;
            all_keys(tx)
        })
    }

    fn add_signing_key(&self, key: &SigningKeyRecord, expired: &[String]) -> StoreResult<()> {
        let (key, expired) = (key.clone(), expired.to_vec());
        self.write(move |tx| {
            insert(tx, &key, false)?;
            for kid in &expired {
                tx.prepare_cached("DELETE FROM signing_keys WHERE kid = ?1")?.execute([kid])?;
            }
            Ok(())
        })
    }
}
