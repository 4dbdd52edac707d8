//! The SQLite store: one file, WAL, `synchronous=FULL` (a lost session row is a lost anonymous
//! account, so an answered login must survive even a power loss).

use std::{path::Path, sync::Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::*;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE users (
        id             TEXT PRIMARY KEY,
        is_anonymous   INTEGER NOT NULL,
        disabled       INTEGER NOT NULL DEFAULT 0,
        data           TEXT NOT NULL DEFAULT '{}',
        created_at     INTEGER NOT NULL,
        last_active_at INTEGER NOT NULL
    );
    -- One identity per (provider, external id): the unique key that makes linking races safe.
    CREATE TABLE identities (
        provider_type  TEXT NOT NULL,
        provider_uid   TEXT NOT NULL,
        user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        data           TEXT NOT NULL DEFAULT '{}',
        created_at     INTEGER NOT NULL,
        PRIMARY KEY (provider_type, provider_uid)
    ) WITHOUT ROWID;
    CREATE INDEX identities_by_user ON identities(user_id);
    -- Only the SHA-256 of a refresh token is kept.
    CREATE TABLE sessions (
        id             TEXT PRIMARY KEY,
        user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        refresh_hash   BLOB NOT NULL UNIQUE,
        device_id      TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        last_used_at   INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE providers (
        name           TEXT PRIMARY KEY,
        type           TEXT NOT NULL,
        enabled        INTEGER NOT NULL
    );
    INSERT INTO providers (name, type, enabled) VALUES ('anon-user', 'anon-user', 1);
"#];

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let store = SqliteStore {
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if done > MIGRATIONS.len() {
            return Err(StoreError::Corrupt(format!(
                "schema version {done} is newer than this server knows ({}); upgrade the server",
                MIGRATIONS.len()
            )));
        }
        for sql in &MIGRATIONS[done..] {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
        tx.commit()?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (rusqlite rolls back on drop), so a poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn identities_of(conn: &Connection, user_id: &str) -> StoreResult<Vec<IdentityRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider_uid, provider_type, data FROM identities WHERE user_id = ?1 ORDER BY created_at, provider_type",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(IdentityRecord {
            id: r.get(0)?,
            provider_type: r.get(1)?,
            data: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store for SqliteStore {
    fn create_anonymous_user(&self, new: &NewAnonymousUser) -> StoreResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = new.now as i64;
        tx.prepare_cached("INSERT INTO users (id, is_anonymous, created_at, last_active_at) VALUES (?1, 1, ?2, ?2)")?
            .execute(params![new.user_id, now])?;
        tx.prepare_cached(
            "INSERT INTO identities (provider_type, provider_uid, user_id, created_at) VALUES ('anon-user', ?1, ?2, ?3)",
        )?
        .execute(params![new.identity_id, new.user_id, now])?;
        tx.prepare_cached(
            "INSERT INTO sessions (id, user_id, refresh_hash, device_id, created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?
        .execute(params![new.session.id, new.user_id, &new.session.refresh_hash[..], new.session.device_id, now])?;
        tx.commit()?;
        Ok(())
    }

    fn use_refresh_token(
        &self,
        hash: &RefreshHash,
        now: u64,
    ) -> StoreResult<Option<SessionRecord>> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = tx
            .prepare_cached(
                "SELECT s.id, s.user_id, s.device_id, u.is_anonymous FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.refresh_hash = ?1 AND u.disabled = 0",
            )?
            .query_row([&hash[..]], |r| {
                Ok(SessionRecord {
                    session_id: r.get(0)?,
                    user_id: r.get(1)?,
                    device_id: r.get(2)?,
                    is_anonymous: r.get(3)?,
                })
            })
            .optional()?;
        if let Some(session) = &found {
            let now = now as i64;
            tx.prepare_cached("UPDATE sessions SET last_used_at = ?2 WHERE id = ?1")?
                .execute(params![session.session_id, now])?;
            tx.prepare_cached("UPDATE users SET last_active_at = ?2 WHERE id = ?1")?
                .execute(params![session.user_id, now])?;
        }
        tx.commit()?;
        Ok(found)
    }

    fn end_session(&self, hash: &RefreshHash) -> StoreResult<Option<EndedSession>> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, String, bool)> = tx
            .prepare_cached(
                "SELECT s.id, s.user_id, u.is_anonymous FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.refresh_hash = ?1",
            )?
            .query_row([&hash[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((session_id, user_id, is_anonymous)) = found else {
            return Ok(None);
        };
        if is_anonymous {
            // Nothing can ever log back in to an anonymous user whose session ended (the seed:
            // "once a user logs out, the user cannot retrieve any previous user data").
            tx.prepare_cached("DELETE FROM users WHERE id = ?1")?
                .execute([&user_id])?;
        } else {
            tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
                .execute([&session_id])?;
        }
        tx.commit()?;
        Ok(Some(EndedSession {
            user_id,
            user_deleted: is_anonymous,
        }))
    }

    fn user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<UserRecord>> {
        let conn = self.lock();
        let user = conn
            .prepare_cached(
                "SELECT u.is_anonymous, u.data, u.created_at, u.last_active_at FROM users u JOIN sessions s ON s.user_id = u.id
                 WHERE u.id = ?1 AND s.id = ?2 AND u.disabled = 0",
            )?
            .query_row([user_id, session_id], |r| {
                Ok((r.get::<_, bool>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
            })
            .optional()?;
        let Some((is_anonymous, data, created_at, last_active_at)) = user else {
            return Ok(None);
        };
        Ok(Some(UserRecord {
            id: user_id.to_owned(),
            is_anonymous,
            identities: identities_of(&conn, user_id)?,
            data,
            created_at: created_at as u64,
            last_active_at: last_active_at as u64,
        }))
    }

    fn delete_user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = tx
            .prepare_cached("DELETE FROM users WHERE id = ?1 AND EXISTS (SELECT 1 FROM sessions WHERE id = ?2 AND user_id = ?1)")?
            .execute([user_id, session_id])?;
        tx.commit()?;
        Ok(deleted > 0)
    }

    fn providers(&self) -> StoreResult<Vec<ProviderRecord>> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare_cached("SELECT name, type, enabled FROM providers ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(ProviderRecord {
                name: r.get(0)?,
                provider_type: r.get(1)?,
                enabled: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
