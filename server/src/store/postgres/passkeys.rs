//! Passkeys and their ceremonies' challenges in PostgreSQL, shared by every process on the
//! database: a ceremony started on one process finishes on any other.

use ::postgres::{GenericClient, Row};

use super::{insert_session, link_in, lock_identity, secs, user_record, PostgresStore, Sql, Tx};
use crate::store::*;

fn passkey_row(r: &Row) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: r.get(0),
        user_id: r.get(1),
        passkey: r.get(2),
        counter: r.get::<_, i64>(3) as u32,
        backup_eligible: r.get(4),
        backup_state: r.get(5),
        created_at: r.get::<_, i64>(6) as u64,
        last_used_at: r.get::<_, Option<i64>>(7).map(|t| t as u64),
    }
}

fn passkey_by_id<C: GenericClient>(db: &mut Sql<'_, C>, credential_id: &str) -> StoreResult<Option<PasskeyRecord>> {
    Ok(db
        .query_opt(
            "SELECT credential_id, user_id, passkey, counter, backup_eligible, backup_state, created_at, last_used_at
             FROM passkeys WHERE credential_id = $1",
            &[&credential_id],
        )?
        .as_ref()
        .map(passkey_row))
}

fn passkey_identity(credential_id: &str) -> NewIdentity {
    NewIdentity { provider_type: PASSKEY.into(), uid: credential_id.to_owned(), data: "{}".into(), verified_hash: None }
}

impl PasskeyStore for PostgresStore {
    fn add_passkey_challenge(&self, c: &ChallengeRecord) -> StoreResult<()> {
        self.write_statement(
            "INSERT INTO passkey_challenges (id, ceremony, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&c.id, &c.ceremony.as_str(), &c.user_id, &c.state, &secs(c.expires_at)],
        )?;
        Ok(())
    }

    fn take_passkey_challenge(&self, id: &str, ceremony: Ceremony, now: u64) -> StoreResult<Option<ChallengeRecord>> {
        // One statement: under READ COMMITTED a second UPDATE of the row waits for the first
        // and then re-checks `NOT used`, which no longer holds.
        self.write(|tx| {
            let row = tx.query_opt(
                "UPDATE passkey_challenges SET used = true
                 WHERE id = $1 AND NOT used AND ceremony = $2 AND expires_at > $3
                 RETURNING user_id, state, expires_at",
                &[&id, &ceremony.as_str(), &secs(now)],
            )?;
            Ok(row.map(|r| ChallengeRecord {
                id: id.to_owned(),
                ceremony,
                user_id: r.get(0),
                state: r.get(1),
                expires_at: r.get::<_, i64>(2) as u64,
            }))
        })
    }

    fn delete_expired_passkey_challenges(&self, now: u64) -> StoreResult<usize> {
        Ok(self.write_statement("DELETE FROM passkey_challenges WHERE expires_at <= $1 OR used", &[&secs(now)])?
            as usize)
    }

    fn passkey(&self, credential_id: &str) -> StoreResult<Option<PasskeyRecord>> {
        self.read(|db| passkey_by_id(db, credential_id))
    }

    fn passkeys_of(&self, user_id: &str) -> StoreResult<Vec<PasskeyRecord>> {
        self.read(|db| {
            Ok(db
                .query(
                    "SELECT credential_id, user_id, passkey, counter, backup_eligible, backup_state, created_at,
                     last_used_at FROM passkeys WHERE user_id = $1 ORDER BY created_at, credential_id",
                    &[&user_id],
                )?
                .iter()
                .map(passkey_row)
                .collect())
        })
    }

    fn link_passkey(
        &self,
        session_id: &str,
        p: &PasskeyRecord,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<Option<LinkOutcome>> {
        let identity = passkey_identity(&p.credential_id);
        self.write(|tx| {
            // Taken before the check (link_in takes it again; advisory locks stack): two links
            // of one credential then check one after the other.
            lock_identity(tx, &identity)?;
            if passkey_by_id(tx, &p.credential_id)?.is_some() {
                return Ok(None);
            }
            let outcome = link_in(tx, &p.user_id, session_id, &identity, now, lifetimes)?;
            match outcome {
                LinkOutcome::Linked { .. } => {}
                LinkOutcome::OwnedByAnotherUser => return Ok(None),
                other => return Ok(Some(other)),
            }
            tx.execute(
                "INSERT INTO passkeys (credential_id, user_id, passkey, counter, backup_eligible, backup_state, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &p.credential_id,
                    &p.user_id,
                    &p.passkey,
                    &i64::from(p.counter),
                    &p.backup_eligible,
                    &p.backup_state,
                    &secs(now),
                ],
            )?;
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
        self.write(|tx| login(tx, used, session, now, lifetimes))
    }

    fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool> {
        self.write(|tx| {
            let deleted = tx.execute(
                "DELETE FROM passkeys WHERE credential_id = $1 AND user_id = $2",
                &[&credential_id, &user_id],
            )?;
            tx.execute(
                "DELETE FROM identities WHERE provider_type = $1 AND provider_uid = $2 AND user_id = $3",
                &[&PASSKEY, &credential_id, &user_id],
            )?;
            Ok(deleted > 0)
        })
    }
}

fn login(
    tx: &mut Tx<'_, '_>,
    used: &PasskeyUse,
    session: &NewSession,
    now: u64,
    lifetimes: SessionLifetimes,
) -> StoreResult<PasskeyLoginOutcome> {
    // The passkey's row is locked to the end, so of two logins with one counter value the
    // second reads the first one's counter; the owner is share-locked against a disable.
    let Some(row) = tx.query_opt(
        "SELECT p.user_id, p.counter, u.disabled FROM passkeys p JOIN users u ON u.id = p.user_id
         WHERE p.credential_id = $1 FOR UPDATE OF p FOR SHARE OF u",
        &[&used.credential_id],
    )?
    else {
        return Ok(PasskeyLoginOutcome::Unknown);
    };
    let (user_id, stored, disabled): (String, i64, bool) = (row.get(0), row.get(1), row.get(2));
    let stored = stored as u32;
    if !counter_advances(stored, used.counter) {
        return Ok(PasskeyLoginOutcome::CounterRegressed { stored });
    }
    if disabled {
        return Ok(PasskeyLoginOutcome::UserDisabled);
    }
    let now_i = secs(now);
    tx.execute(
        "UPDATE passkeys SET passkey = $2, counter = $3, backup_eligible = $4, backup_state = $5, last_used_at = $6
         WHERE credential_id = $1",
        &[
            &used.credential_id,
            &used.passkey,
            &i64::from(used.counter),
            &used.backup_eligible,
            &used.backup_state,
            &now_i,
        ],
    )?;
    insert_session(tx, &user_id, session, now_i)?;
    tx.execute("UPDATE users SET last_active_at = $2 WHERE id = $1", &[&user_id, &now_i])?;
    let user = user_record(tx, &user_id)?.ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
    let session = SessionRecord {
        session_id: session.id.clone(),
        user_id,
        device_id: session.device_id.clone(),
        is_anonymous: user.is_anonymous,
        ends_at: (!user.is_anonymous).then(|| lifetimes.end(now, now)),
    };
    Ok(PasskeyLoginOutcome::LoggedIn(IdentityLogin { user, session, created_user: false }))
}
