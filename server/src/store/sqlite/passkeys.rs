//! Passkeys and their ceremonies' challenges in the SQLite file.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{insert_session, link_in, user_record, SqliteStore};
use crate::store::*;

const SELECT: &str = "SELECT credential_id, user_id, passkey, counter, backup_eligible, backup_state, created_at, \
     last_used_at FROM passkeys";

fn passkey_row(r: &Row<'_>) -> rusqlite::Result<PasskeyRecord> {
    Ok(PasskeyRecord {
        credential_id: r.get(0)?,
        user_id: r.get(1)?,
        passkey: r.get(2)?,
        counter: r.get::<_, i64>(3)? as u32,
        backup_eligible: r.get(4)?,
        backup_state: r.get(5)?,
        created_at: r.get::<_, i64>(6)? as u64,
        last_used_at: r.get::<_, Option<i64>>(7)?.map(|t| t as u64),
    })
}

fn passkey_by_id(conn: &Connection, credential_id: &str) -> StoreResult<Option<PasskeyRecord>> {
    const BY_ID: &str = "SELECT credential_id, user_id, passkey, counter, backup_eligible, backup_state, \
         created_at, last_used_at FROM passkeys WHERE credential_id = ?1";
    Ok(conn.prepare_cached(BY_ID)?.query_row([credential_id], passkey_row).optional()?)
}

impl PasskeyStore for SqliteStore {
    fn add_passkey_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()> {
        let c = challenge.clone();
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO passkey_challenges (id, ceremony, user_id, state, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![c.id, c.ceremony.as_str(), c.user_id, c.state, c.expires_at as i64])?;
            Ok(())
        })
    }

    fn take_passkey_challenge(&self, id: &str, ceremony: Ceremony, now: u64) -> StoreResult<Option<ChallengeRecord>> {
        let id = id.to_owned();
        self.write(move |tx| {
            // One statement flips `used` and returns the row: a second finish finds it used.
            let row = tx
                .prepare_cached(
                    "UPDATE passkey_challenges SET used = 1
                     WHERE id = ?1 AND used = 0 AND ceremony = ?2 AND expires_at > ?3
                     RETURNING user_id, state, expires_at",
                )?
                .query_row(params![id, ceremony.as_str(), now as i64], |r| {
                    Ok(ChallengeRecord {
                        id: id.clone(),
                        ceremony,
                        user_id: r.get(0)?,
                        state: r.get(1)?,
                        expires_at: r.get::<_, i64>(2)? as u64,
                    })
                })
                .optional()?;
            Ok(row)
        })
    }

    fn delete_expired_passkey_challenges(&self, now: u64) -> StoreResult<usize> {
        self.write(move |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM passkey_challenges WHERE expires_at <= ?1 OR used = 1")?
                .execute([now as i64])?)
        })
    }

    fn passkey(&self, credential_id: &str) -> StoreResult<Option<PasskeyRecord>> {
        passkey_by_id(&self.reader(), credential_id)
    }

    fn passkeys_of(&self, user_id: &str) -> StoreResult<Vec<PasskeyRecord>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached(&format!("{SELECT} WHERE user_id = ?1 ORDER BY created_at, credential_id"))?;
        let rows = stmt.query_map([user_id], passkey_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn link_passkey(
        &self,
        session_id: &str,
        passkey: &PasskeyRecord,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<Option<LinkOutcome>> {
        let (session_id, p) = (session_id.to_owned(), passkey.clone());
        self.write(move |tx| {
            if passkey_by_id(tx, &p.credential_id)?.is_some() {
                return Ok(None);
            }
            let identity = NewIdentity {
                provider_type: PASSKEY.into(),
                uid: p.credential_id.clone(),
                data: "{}".into(),
                verified_hash: None,
            };
            let outcome = link_in(tx, &p.user_id, &session_id, &identity, now, lifetimes)?;
            match outcome {
                LinkOutcome::Linked { .. } => {}
                LinkOutcome::OwnedByAnotherUser => return Ok(None),
                other => return Ok(Some(other)),
            }
            tx.prepare_cached(
                "INSERT INTO passkeys (credential_id, user_id, passkey, counter, backup_eligible, backup_state, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                p.credential_id,
                p.user_id,
                p.passkey,
                p.counter as i64,
                p.backup_eligible,
                p.backup_state,
                now as i64
            ])?;
            Ok(Some(outcome))
        })
    }

    fn login_passkey(
        &self,
        used: &PasskeyUse,
        session: &NewSession,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<PasskeyLoginOutcome> {
        let (used, session) = (used.clone(), session.clone());
        self.write(move |tx| {
            // Re-read in the write: the writer runs one write at a time, so of two logins with
            // one counter value only the first finds the stored counter below it.
            let Some(stored) = passkey_by_id(tx, &used.credential_id)? else {
                return Ok(PasskeyLoginOutcome::Unknown);
            };
            if !counter_advances(stored.counter, used.counter) {
                return Ok(PasskeyLoginOutcome::CounterRegressed { stored: stored.counter });
            }
            let Some(user) = user_record(tx, &stored.user_id)? else {
                return Ok(PasskeyLoginOutcome::Unknown);
            };
            if user.disabled {
                return Ok(PasskeyLoginOutcome::UserDisabled);
            }
            let now_i = now as i64;
            tx.prepare_cached(
                "UPDATE passkeys SET passkey = ?2, counter = ?3, backup_eligible = ?4, backup_state = ?5,
                 last_used_at = ?6 WHERE credential_id = ?1",
            )?
            .execute(params![
                used.credential_id,
                used.passkey,
                used.counter as i64,
                used.backup_eligible,
                used.backup_state,
                now_i
            ])?;
            insert_session(tx, &stored.user_id, &session, now_i)?;
            tx.prepare_cached("UPDATE users SET last_active_at = ?2 WHERE id = ?1")?
                .execute(params![stored.user_id, now_i])?;
            let user = user_record(tx, &stored.user_id)?.ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
            let session = SessionRecord {
                session_id: session.id.clone(),
                user_id: stored.user_id,
                device_id: session.device_id.clone(),
                is_anonymous: user.is_anonymous,
                ends_at: (!user.is_anonymous).then(|| lifetimes.end(now, now)),
            };
            Ok(PasskeyLoginOutcome::LoggedIn(IdentityLogin { user, session, created_user: false }))
        })
    }

    fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool> {
        let (user_id, credential_id) = (user_id.to_owned(), credential_id.to_owned());
        self.write(move |tx| {
            let deleted = tx
                .prepare_cached("DELETE FROM passkeys WHERE credential_id = ?1 AND user_id = ?2")?
                .execute([&credential_id, &user_id])?;
            tx.prepare_cached(
                "DELETE FROM identities WHERE provider_type = ?1 AND provider_uid = ?2 AND user_id = ?3",
            )?
            .execute([PASSKEY, &credential_id, &user_id])?;
            Ok(deleted > 0)
        })
    }
}
