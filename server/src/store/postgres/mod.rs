//! The PostgreSQL store (`--data postgres://...`): the same tables and the same guarantees as
//! the SQLite store, for several server processes on one database.
//!
//! The driver is the synchronous `postgres` crate with an r2d2 pool. The `Store` trait is
//! synchronous and its callers already run it on tokio's blocking pool (`AppState::store`), so
//! a blocking client fits it as it is; an async driver (sqlx, tokio-postgres with deadpool)
//! would need either an async trait, which changes every route and the SQLite store, or a
//! `block_on` inside each blocking call, which buys nothing.
//!
//! SQLite serialises every write on one writer thread; here transactions run at once (READ
//! COMMITTED), so each write that must not interleave with another takes a lock first:
//! - the identity being logged in with or linked: a transaction-scoped advisory lock on its
//!   `(provider, uid)`, so two first logins or two links of one identity go one after the other;
//! - the user and the session of a link (`FOR UPDATE`), so links racing to one user, a logout
//!   and a deletion are ordered;
//! - the email account whose password a login or link verified (`FOR SHARE`): a reset or a
//!   deletion of that account waits for the login to commit, then ends the session it made; a
//!   login that waited for a reset reads the new hash and is refused.

use std::{collections::HashMap, time::Duration};

use ::postgres::{error::SqlState, types::ToSql, GenericClient, NoTls, Row, Statement};

use super::*;

mod buckets;
mod passkeys;
mod schema;
mod signing_keys;

use schema::{MIGRATIONS, MIGRATION_LOCK};
pub use schema::{SWEEP_LOCK, VERSION as SCHEMA_VERSION};

/// How long a request waits for a pooled connection (or for a new one to connect) before it
/// is answered 503: while the database is down, clients hear so quickly.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts of a transaction that PostgreSQL rolled back to break a deadlock.
const ATTEMPTS: usize = 3;
/// Advisory-lock class of identities (the two-key form, apart from `MIGRATION_LOCK`'s key).
const IDENTITY_LOCK_CLASS: i32 = 1;

pub struct PostgresStore {
    pool: r2d2::Pool<ConnectionManager>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

/// A pooled connection with the statements it has prepared, so a query is parsed once per
/// connection rather than on every call (each parse is a round trip).
pub struct Connection {
    client: Option<::postgres::Client>,
    statements: HashMap<&'static str, Statement>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // The client closes itself by blocking on its own small runtime, which tokio forbids
        // on a thread that drives async tasks (the pool may be dropped on one).
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new().name("postgres-close".into()).spawn(move || drop(client));
            } else {
                drop(client);
            }
        }
    }
}

pub struct ConnectionManager {
    config: ::postgres::Config,
}

/// Why a connection could not be made or checked, with its cause (the pool reports only an
/// error's `Display`, and the client's says just "error connecting to server").
#[derive(Debug)]
pub struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = Connection;
    type Error = ConnectError;

    fn connect(&self) -> Result<Connection, ConnectError> {
        let client = self.config.connect(NoTls).map_err(|e| ConnectError(describe(&e)))?;
        Ok(Connection { client: Some(client), statements: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), ConnectError> {
        conn.client_mut().simple_query("").map(|_| ()).map_err(|e| ConnectError(describe(&e)))
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.as_ref().is_none_or(|c| c.is_closed())
    }
}

impl Connection {
    fn client_mut(&mut self) -> &mut ::postgres::Client {
        self.client.as_mut().expect("a pooled connection has its client until dropped")
    }
}

/// Statements run through a connection or a transaction, prepared once per connection.
pub(super) struct Sql<'a, C: GenericClient> {
    conn: &'a mut C,
    statements: &'a mut HashMap<&'static str, Statement>,
}

impl<C: GenericClient> Sql<'_, C> {
    fn statement(&mut self, sql: &'static str) -> StoreResult<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.conn.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(super) fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let statement = self.statement(sql)?;
        Ok(self.conn.execute(&statement, params)?)
    }

    pub(super) fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.conn.query(&statement, params)?)
    }

    pub(super) fn query_opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.conn.query_opt(&statement, params)?)
    }

    pub(super) fn query_one(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Row> {
        let statement = self.statement(sql)?;
        Ok(self.conn.query_one(&statement, params)?)
    }
}

type Tx<'s, 't> = Sql<'s, ::postgres::Transaction<'t>>;
type Read<'s> = Sql<'s, ::postgres::Client>;

/// Whether a failure is the database's availability (down, restarting, refusing connections,
/// the connection lost) rather than a fault in the request or the store.
fn is_unavailable(e: &::postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            code.code().starts_with("08")
                || [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW].contains(code)
                || *code == SqlState::TOO_MANY_CONNECTIONS
        }
        // No answer from the server at all: the socket failed.
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// What went wrong, for the log: the server's SQLSTATE and message (never its detail, which
/// may quote the values of a row), or the client's own error and its cause.
pub(crate) fn describe(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}", db.code().code(), db.message()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// PostgreSQL rolled the transaction back and it can simply run again.
fn is_retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Postgres(e)
        if e.code().is_some_and(|c| *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE))
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> Self {
        if is_unavailable(&e) {
            StoreError::Unavailable(describe(&e))
        } else {
            StoreError::Postgres(e)
        }
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and migrates it. Must not be called on a thread that
    /// drives async tasks (the client blocks).
    pub fn open(url: &str, pool_size: u32) -> StoreResult<Self> {
        let mut config: ::postgres::Config = url
            .parse()
            .map_err(|e: ::postgres::Error| StoreError::Connect { url: redacted(url), message: describe(&e) })?;
        config.connect_timeout(CHECKOUT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("guestpass-server");
        }
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            // Connections are opened as requests need them, not all at start.
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            // A checkout test is a round trip on every call; a dead connection is found by its
            // first statement instead (`Sql::begin` takes another then).
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build_unchecked(ConnectionManager { config });
        let store = PostgresStore { pool };
        store.migrate().map_err(|e| match e {
            StoreError::Unavailable(message) => StoreError::Connect { url: redacted(url), message },
            other => other,
        })?;
        Ok(store)
    }

    fn checkout(&self) -> StoreResult<r2d2::PooledConnection<ConnectionManager>> {
        self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs `f` in one transaction and commits it. A connection found dead at `BEGIN` (the
    /// database restarted since it was last used) is replaced, and a transaction rolled back
    /// to break a deadlock runs again: in both cases nothing of it was written.
    pub(super) fn write<T>(&self, mut f: impl FnMut(&mut Tx<'_, '_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.checkout()?;
            let Connection { client, statements } = &mut *conn;
            let client = client.as_mut().expect("a pooled connection has its client until dropped");
            let mut tx = match client.transaction() {
                Ok(tx) => tx,
                Err(e) if e.is_closed() && attempt < ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            };
            let result = f(&mut Sql { conn: &mut tx, statements }).and_then(|value| {
                tx.commit()?;
                Ok(value)
            });
            match result {
                Err(e) if is_retryable(&e) && attempt < ATTEMPTS => continue,
                other => return other,
            }
        }
    }

    /// Runs one statement on its own (PostgreSQL makes it a transaction): one round trip where
    /// `write` needs three more (BEGIN, the statement's own, COMMIT).
    fn write_statement(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let mut conn = self.checkout()?;
        let Connection { client, statements } = &mut *conn;
        let client = client.as_mut().expect("a pooled connection has its client until dropped");
        Sql { conn: client, statements }.execute(sql, params)
    }

    /// Runs the reads of `f` on one connection (outside a transaction); reads are retried once
    /// on a connection found dead.
    pub(super) fn read<T>(&self, mut f: impl FnMut(&mut Read<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.checkout()?;
            let Connection { client, statements } = &mut *conn;
            let client = client.as_mut().expect("a pooled connection has its client until dropped");
            let closed = client.is_closed();
            let mut sql = Sql { conn: client, statements };
            match f(&mut sql) {
                Err(StoreError::Unavailable(_)) if attempt < 2 && !closed => continue,
                other => return other,
            }
        }
    }

    /// Applies the migrations this database lacks, under an advisory lock so that servers
    /// starting at once migrate one after the other; refuses a database newer than this server.
    fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.checkout()?;
        let mut tx = conn.client_mut().transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS guestpass_schema (version integer NOT NULL)")?;
        let done = match tx.query_opt("SELECT version FROM guestpass_schema", &[])? {
            Some(row) => row.get::<_, i32>(0) as usize,
            None => {
                tx.execute("INSERT INTO guestpass_schema (version) VALUES (0)", &[])?;
                0
            }
        };
        if done > MIGRATIONS.len() {
            return Err(StoreError::Corrupt(format!(
                "the database's schema version {done} is newer than this server knows ({}); upgrade guestpass-server",
                MIGRATIONS.len()
            )));
        }
        for sql in &MIGRATIONS[done..] {
            tx.batch_execute(sql)?;
        }
        tx.execute("UPDATE guestpass_schema SET version = $1", &[&(MIGRATIONS.len() as i32)])?;
        tx.commit()?;
        Ok(())
    }
}

/// A database URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:<redacted>{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn secs(t: u64) -> i64 {
    t as i64
}

/// Takes the sweep's lock until the transaction ends, if no other process holds it.
fn try_lock_sweep(tx: &mut Tx<'_, '_>) -> StoreResult<bool> {
    Ok(tx.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&SWEEP_LOCK])?.get(0))
}

/// Holds the identity's advisory lock until the transaction ends.
fn lock_identity(tx: &mut Tx<'_, '_>, identity: &NewIdentity) -> StoreResult<()> {
    let key = format!("{}\n{}", identity.provider_type, identity.uid);
    tx.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&IDENTITY_LOCK_CLASS, &key])?;
    Ok(())
}

fn identities_of<C: GenericClient>(db: &mut Sql<'_, C>, user_id: &str) -> StoreResult<Vec<IdentityRecord>> {
    let rows = db.query(
        "SELECT provider_uid, provider_type, data FROM identities WHERE user_id = $1 ORDER BY created_at, provider_type",
        &[&user_id],
    )?;
    Ok(rows.iter().map(|r| IdentityRecord { id: r.get(0), provider_type: r.get(1), data: r.get(2) }).collect())
}

fn user_record<C: GenericClient>(db: &mut Sql<'_, C>, user_id: &str) -> StoreResult<Option<UserRecord>> {
    let Some(row) = db.query_opt(
        "SELECT is_anonymous, data, created_at, last_active_at, disabled FROM users WHERE id = $1",
        &[&user_id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(UserRecord {
        id: user_id.to_owned(),
        is_anonymous: row.get(0),
        identities: identities_of(db, user_id)?,
        data: row.get(1),
        created_at: row.get::<_, i64>(2) as u64,
        last_active_at: row.get::<_, i64>(3) as u64,
        disabled: row.get(4),
    }))
}

/// Deletes a user with its identities and sessions (by cascade) and the email/password
/// accounts linked to it.
fn delete_user(tx: &mut Tx<'_, '_>, user_id: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM userpass_accounts WHERE email IN
         (SELECT provider_uid FROM identities WHERE user_id = $1 AND provider_type = 'local-userpass')",
        &[&user_id],
    )?;
    tx.execute("DELETE FROM users WHERE id = $1", &[&user_id])?;
    Ok(())
}

/// The user's profile data with the identity's metadata laid over it.
fn merged_data(user_data: &str, identity_data: &str) -> StoreResult<String> {
    let parse = |text: &str| match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(StoreError::Corrupt("profile data is not a JSON object".into())),
    };
    let mut data = parse(user_data)?;
    data.extend(parse(identity_data)?);
    Ok(serde_json::Value::Object(data).to_string())
}

fn insert_session(tx: &mut Tx<'_, '_>, user_id: &str, session: &NewSession, now: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sessions (id, user_id, refresh_hash, device_id, created_at, last_used_at, authenticated_at)
         VALUES ($1, $2, $3, $4, $5, $5, $5)",
        &[&session.id, &user_id, &&session.refresh_hash[..], &session.device_id, &now],
    )?;
    Ok(())
}

/// Whether the credential a login or link was verified against is still the account's. The
/// account's row stays share-locked until the transaction ends, so a reset or deletion of it
/// is ordered after this write (and then ends the session it made) or before it (and then
/// this reads the new state).
fn credential_is_current(tx: &mut Tx<'_, '_>, identity: &NewIdentity) -> StoreResult<bool> {
    let Some(VerifiedHash(verified)) = &identity.verified_hash else {
        return Ok(true);
    };
    let current = tx.query_opt(
        "SELECT password_hash, confirmed FROM userpass_accounts WHERE email = $1 FOR SHARE",
        &[&identity.uid],
    )?;
    Ok(current.is_some_and(|r| r.get::<_, bool>(1) && r.get::<_, &str>(0) == verified))
}

fn insert_token(tx: &mut Tx<'_, '_>, email: &str, token: &NewUserpassToken) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO userpass_tokens (id, email, purpose, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[&token.id, &email, &token.purpose.as_str(), &&token.hash[..], &secs(token.expires_at)],
    )?;
    Ok(())
}

/// Attaches an identity to the user of a live session, inside the caller's transaction (see
/// `Store::link_identity`).
fn link_in(
    tx: &mut Tx<'_, '_>,
    user_id: &str,
    session_id: &str,
    identity: &NewIdentity,
    now: u64,
    lifetimes: SessionLifetimes,
) -> StoreResult<LinkOutcome> {
    let now_i = secs(now);
    lock_identity(tx, identity)?;
    // The user and the linking session stay locked to the end: links racing to this
    // user, its logout, deletion or disabling wait for this one.
    let Some(row) = tx.query_opt(
        "SELECT u.data, u.is_anonymous FROM users u JOIN sessions s ON s.user_id = u.id
             WHERE u.id = $1 AND s.id = $2 AND NOT u.disabled FOR UPDATE",
        &[&user_id, &session_id],
    )?
    else {
        return Ok(LinkOutcome::SessionEnded);
    };
    let (user_data, was_anonymous): (String, bool) = (row.get(0), row.get(1));
    if !credential_is_current(tx, identity)? {
        return Ok(LinkOutcome::CredentialChanged);
    }
    let owner = tx.query_opt(
        "SELECT user_id FROM identities WHERE provider_type = $1 AND provider_uid = $2",
        &[&identity.provider_type, &identity.uid],
    )?;
    match owner.map(|r| r.get::<_, String>(0)) {
        Some(owner) if owner == user_id => {}
        Some(_) => return Ok(LinkOutcome::OwnedByAnotherUser),
        None => {
            // Passkeys are the exception to one identity per provider: one per device.
            let has_one = identity.provider_type != PASSKEY
                && tx
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM identities WHERE user_id = $1 AND provider_type = $2)",
                        &[&user_id, &identity.provider_type],
                    )?
                    .get::<_, bool>(0);
            if has_one {
                return Ok(LinkOutcome::ProviderAlreadyLinked);
            }
            if was_anonymous {
                // The absolute lifetime starts with the credential just proved.
                tx.execute(
                    "UPDATE sessions SET authenticated_at = $2, last_used_at = $2 WHERE id = $1",
                    &[&session_id, &now_i],
                )?;
            }
            tx.execute(
                    "INSERT INTO identities (provider_type, provider_uid, user_id, data, created_at) VALUES ($1, $2, $3, $4, $5)",
                    &[&identity.provider_type, &identity.uid, &user_id, &identity.data, &now_i],
                )?;
            tx.execute(
                "UPDATE users SET is_anonymous = false, data = $2, last_active_at = $3 WHERE id = $1",
                &[&user_id, &merged_data(&user_data, &identity.data)?, &now_i],
            )?;
        }
    }
    let user = user_record(tx, user_id)?.ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
    let session_ends_at = if user.is_anonymous {
        None
    } else {
        let row = tx.query_one("SELECT authenticated_at, last_used_at FROM sessions WHERE id = $1", &[&session_id])?;
        Some(lifetimes.end(row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64))
    };
    Ok(LinkOutcome::Linked { user, session_ends_at })
}

impl Store for PostgresStore {
    fn create_anonymous_user(&self, new: &NewAnonymousUser) -> StoreResult<()> {
        // The hottest write, so one statement: its three inserts commit together or not at all,
        // and the foreign keys are checked at its end, when all three rows are there.
        let now = secs(new.now);
        let session = &new.session;
        self.write_statement(
            "WITH new_user AS (
                 INSERT INTO users (id, is_anonymous, created_at, last_active_at) VALUES ($1, true, $2, $2)
             ), new_identity AS (
                 INSERT INTO identities (provider_type, provider_uid, user_id, created_at) VALUES ('anon-user', $3, $1, $2)
             )
             INSERT INTO sessions (id, user_id, refresh_hash, device_id, created_at, last_used_at, authenticated_at)
             VALUES ($4, $1, $5, $6, $2, $2, $2)",
            &[&new.user_id, &now, &new.identity_id, &session.id, &&session.refresh_hash[..], &session.device_id],
        )?;
        Ok(())
    }

    fn use_refresh_token(
        &self,
        hash: &RefreshHash,
        now: u64,
        granularity: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<Option<SessionRecord>> {
        let found = self.read(|db| {
            db.query_opt(
                "SELECT s.id, s.user_id, s.device_id, u.is_anonymous, least(s.last_used_at, u.last_active_at),
                        s.authenticated_at, s.last_used_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.refresh_hash = $1 AND NOT u.disabled",
                &[&&hash[..]],
            )
        })?;
        let Some(row) = found else { return Ok(None) };
        let mut session = SessionRecord {
            session_id: row.get(0),
            user_id: row.get(1),
            device_id: row.get(2),
            is_anonymous: row.get(3),
            ends_at: None,
        };
        let (last_seen, authenticated_at, last_used_at) =
            (row.get::<_, i64>(4) as u64, row.get::<_, i64>(5) as u64, row.get::<_, i64>(6) as u64);
        // As in the SQLite store: the lifetimes are checked against what is recorded, so a
        // refresh stays a read; the activity it proves is written at most once per granularity.
        if !session.is_anonymous && lifetimes.end(authenticated_at, last_used_at) <= now {
            return Ok(None);
        }
        let recorded = last_seen + granularity <= now;
        if !session.is_anonymous {
            session.ends_at = Some(lifetimes.end(authenticated_at, if recorded { now } else { last_used_at }));
        }
        if recorded {
            self.write(|tx| {
                tx.execute("UPDATE sessions SET last_used_at = $2 WHERE id = $1", &[&session.session_id, &secs(now)])?;
                tx.execute("UPDATE users SET last_active_at = $2 WHERE id = $1", &[&session.user_id, &secs(now)])?;
                Ok(())
            })?;
        }
        Ok(Some(session))
    }

    fn delete_expired_sessions(&self, now: u64, lifetimes: SessionLifetimes, limit: usize) -> StoreResult<usize> {
        let authenticated_before = secs(now.saturating_sub(lifetimes.absolute));
        let used_before = secs(now.saturating_sub(lifetimes.idle));
        self.write(|tx| {
            if !try_lock_sweep(tx)? {
                return Ok(0); // another process is sweeping
            }
            let deleted = tx.execute(
                "DELETE FROM sessions WHERE id IN
                 (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id
                  WHERE s.authenticated_at <= $1 AND NOT u.is_anonymous LIMIT $2)",
                &[&authenticated_before, &(limit as i64)],
            )?;
            let more = tx.execute(
                "DELETE FROM sessions WHERE id IN
                 (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id
                  WHERE s.last_used_at <= $1 AND NOT u.is_anonymous LIMIT $2)",
                &[&used_before, &(limit.saturating_sub(deleted as usize) as i64)],
            )?;
            Ok((deleted + more) as usize)
        })
    }

    fn end_session(&self, hash: &RefreshHash) -> StoreResult<Option<EndedSession>> {
        self.write(|tx| {
            // Locks the session and its user: a link in flight on this user finishes first, so
            // whether the user is still anonymous is read after it.
            let Some(row) = tx.query_opt(
                "SELECT s.id, s.user_id, u.is_anonymous FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.refresh_hash = $1 FOR UPDATE",
                &[&&hash[..]],
            )?
            else {
                return Ok(None);
            };
            let (session_id, user_id, is_anonymous): (String, String, bool) = (row.get(0), row.get(1), row.get(2));
            if is_anonymous {
                // Nothing can ever log back in to an anonymous user whose session ended.
                tx.execute("DELETE FROM users WHERE id = $1", &[&user_id])?;
            } else {
                tx.execute("DELETE FROM sessions WHERE id = $1", &[&session_id])?;
            }
            Ok(Some(EndedSession { user_id, user_deleted: is_anonymous }))
        })
    }

    fn user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<UserRecord>> {
        self.read(|db| {
            let live = db.query_one(
                "SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE u.id = $1 AND s.id = $2 AND NOT u.disabled)",
                &[&user_id, &session_id],
            )?;
            if !live.get::<_, bool>(0) {
                return Ok(None);
            }
            user_record(db, user_id)
        })
    }

    fn delete_user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<bool> {
        self.write(|tx| {
            let live = tx
                .query_opt(
                    "SELECT 1 FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.id = $1 AND s.id = $2 FOR UPDATE",
                    &[&user_id, &session_id],
                )?
                .is_some();
            if live {
                delete_user(tx, user_id)?;
            }
            Ok(live)
        })
    }

    fn providers(&self) -> StoreResult<Vec<ProviderRecord>> {
        self.read(|db| {
            let rows = db.query("SELECT name, type, enabled FROM providers ORDER BY name", &[])?;
            Ok(rows
                .iter()
                .map(|r| ProviderRecord { name: r.get(0), provider_type: r.get(1), enabled: r.get(2) })
                .collect())
        })
    }

    fn login_identity(
        &self,
        identity: &NewIdentity,
        session: &NewSession,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<LoginOutcome> {
        let now_i = secs(now);
        self.write(|tx| {
            // One login or link of this identity at a time: two first logins would otherwise
            // both create a user for it.
            lock_identity(tx, identity)?;
            if !credential_is_current(tx, identity)? {
                return Ok(LoginOutcome::CredentialChanged);
            }
            // The owner's row is share-locked so that a disable (which ends every session)
            // is ordered before or after this login, never beside it.
            let owner = tx.query_opt(
                "SELECT u.id, u.disabled FROM identities i JOIN users u ON u.id = i.user_id
                 WHERE i.provider_type = $1 AND i.provider_uid = $2 FOR SHARE OF u",
                &[&identity.provider_type, &identity.uid],
            )?;
            let (user_id, disabled, created_user) = match owner {
                Some(row) => (row.get::<_, String>(0), row.get::<_, bool>(1), false),
                None => {
                    let user_id = crate::ids::object_id(now);
                    tx.execute(
                        "INSERT INTO users (id, is_anonymous, data, created_at, last_active_at) VALUES ($1, false, $2, $3, $3)",
                        &[&user_id, &merged_data("{}", &identity.data)?, &now_i],
                    )?;
                    tx.execute(
                        "INSERT INTO identities (provider_type, provider_uid, user_id, data, created_at) VALUES ($1, $2, $3, $4, $5)",
                        &[&identity.provider_type, &identity.uid, &user_id, &identity.data, &now_i],
                    )?;
                    (user_id, false, true)
                }
            };
            if disabled {
                return Ok(LoginOutcome::UserDisabled);
            }
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
            Ok(LoginOutcome::LoggedIn(IdentityLogin { user, session, created_user }))
        })
    }

    fn link_identity(
        &self,
        user_id: &str,
        session_id: &str,
        identity: &NewIdentity,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<LinkOutcome> {
        self.write(|tx| link_in(tx, user_id, session_id, identity, now, lifetimes))
    }

    fn register_userpass(
        &self,
        account: &UserpassAccount,
        token: Option<&NewUserpassToken>,
        now: u64,
    ) -> StoreResult<RegisterOutcome> {
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT INTO userpass_accounts (email, password_hash, confirmed, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (email) DO NOTHING",
                &[&account.email, &account.password_hash, &account.confirmed, &secs(now)],
            )?;
            if inserted == 0 {
                return Ok(RegisterOutcome::EmailInUse);
            }
            if let Some(token) = token {
                insert_token(tx, &account.email, token)?;
            }
            Ok(RegisterOutcome::Registered)
        })
    }

    fn userpass_account(&self, email: &str) -> StoreResult<Option<UserpassAccount>> {
        self.read(|db| {
            let row = db.query_opt(
                "SELECT email, password_hash, confirmed FROM userpass_accounts WHERE email = $1",
                &[&email],
            )?;
            Ok(row.map(|r| UserpassAccount { email: r.get(0), password_hash: r.get(1), confirmed: r.get(2) }))
        })
    }

    fn add_userpass_token(&self, email: &str, token: &NewUserpassToken) -> StoreResult<()> {
        self.write(|tx| insert_token(tx, email, token))
    }

    fn use_userpass_token(
        &self,
        token_id: &str,
        hash: &[u8; 32],
        purpose: TokenPurpose,
        new_password_hash: Option<&str>,
        now: u64,
    ) -> StoreResult<Option<String>> {
        self.write(|tx| {
            // Locked: of two uses of one token, the second waits and then finds it gone.
            let Some(row) = tx.query_opt(
                "SELECT email, purpose, token_hash, expires_at FROM userpass_tokens WHERE id = $1 FOR UPDATE",
                &[&token_id],
            )?
            else {
                return Ok(None);
            };
            let (email, stored_purpose, stored_hash, expires_at): (String, String, Vec<u8>, i64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            if stored_purpose != purpose.as_str() || stored_hash != hash[..] || (expires_at as u64) < now {
                return Ok(None);
            }
            tx.execute("DELETE FROM userpass_tokens WHERE id = $1", &[&token_id])?;
            match purpose {
                TokenPurpose::Confirm => {
                    tx.execute("UPDATE userpass_accounts SET confirmed = true WHERE email = $1", &[&email])?;
                }
                TokenPurpose::Reset => {
                    let Some(new_hash) = new_password_hash else {
                        return Ok(None);
                    };
                    // Updating the account's row first waits for the logins and links that
                    // verified the old password (they hold it share-locked); the statements
                    // below then see the sessions they made.
                    tx.execute(
                        "UPDATE userpass_accounts SET password_hash = $2 WHERE email = $1",
                        &[&email, &new_hash],
                    )?;
                    tx.execute("DELETE FROM userpass_tokens WHERE email = $1 AND purpose = 'reset'", &[&email])?;
                    tx.execute(
                        "DELETE FROM sessions WHERE user_id IN
                         (SELECT user_id FROM identities WHERE provider_type = 'local-userpass' AND provider_uid = $1)",
                        &[&email],
                    )?;
                }
            }
            Ok(Some(email))
        })
    }

    fn record_activity(&self, user_id: &str, now: u64, granularity: u64) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE users SET last_active_at = $2 WHERE id = $1 AND last_active_at <= $3",
                &[&user_id, &secs(now), &secs(now.saturating_sub(granularity))],
            )?;
            Ok(())
        })
    }

    fn delete_inactive_anonymous(&self, cutoff: u64, limit: usize) -> StoreResult<usize> {
        self.write(|tx| {
            if !try_lock_sweep(tx)? {
                return Ok(0); // another process is sweeping
            }
            // Users a link holds locked are skipped (the link makes them permanent or finds
            // them gone); identities and sessions go by cascade.
            let deleted = tx.execute(
                "DELETE FROM users WHERE id IN
                 (SELECT id FROM users WHERE is_anonymous AND last_active_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                &[&secs(cutoff), &(limit as i64)],
            )?;
            Ok(deleted as usize)
        })
    }

    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<UserPage> {
        self.read(|db| {
            let total: i64 = db.query_one("SELECT count(*) FROM users", &[])?.get(0);
            let ids: Vec<String> = db
                .query(
                    "SELECT id FROM users ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
                    &[&(limit.min(i64::MAX as u64) as i64), &(offset.min(i64::MAX as u64) as i64)],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut users = Vec::with_capacity(ids.len());
            for id in ids {
                users.extend(user_record(db, &id)?);
            }
            Ok(UserPage { users, total: total as u64 })
        })
    }

    fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        self.write(|tx| {
            let exists = tx.query_opt("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", &[&user_id])?.is_some();
            if exists {
                delete_user(tx, user_id)?;
            }
            Ok(exists)
        })
    }

    fn set_user_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<bool> {
        self.write(|tx| {
            let changed = tx.execute("UPDATE users SET disabled = $2 WHERE id = $1", &[&user_id, &disabled])?;
            if disabled {
                // Disabling blocks login and ends every session at once.
                tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])?;
            }
            Ok(changed > 0)
        })
    }

    fn set_provider_enabled(&self, name: &str, enabled: bool) -> StoreResult<Option<ProviderRecord>> {
        self.write(|tx| {
            let row = tx.query_opt(
                "UPDATE providers SET enabled = $2 WHERE name = $1 RETURNING name, type, enabled",
                &[&name, &enabled],
            )?;
            Ok(row.map(|r| ProviderRecord { name: r.get(0), provider_type: r.get(1), enabled: r.get(2) }))
        })
    }

    fn delete_expired_userpass_tokens(&self, now: u64) -> StoreResult<usize> {
        // One statement: its own transaction. A token being used holds its row locked; the
        // delete waits for that use and then finds the row gone or still expired.
        let deleted = self.write_statement("DELETE FROM userpass_tokens WHERE expires_at < $1", &[&secs(now)])?;
        Ok(deleted as usize)
    }

    fn ping(&self) -> StoreResult<()> {
        // Not through `read`: a dead connection must make the probe fail, not be retried.
        let mut conn = self.checkout()?;
        conn.client_mut().simple_query("SELECT 1")?;
        Ok(())
    }

    fn count_users(&self) -> StoreResult<UserCounts> {
        self.read(|db| {
            let row = db.query_one("SELECT count(*) FILTER (WHERE is_anonymous), count(*) FROM users", &[])?;
            let (anonymous, total): (i64, i64) = (row.get(0), row.get(1));
            Ok(UserCounts { anonymous: anonymous as u64, signed_in: (total - anonymous) as u64 })
        })
    }

    fn find_user(&self, id: &str, email: Option<&str>) -> StoreResult<Option<UserRecord>> {
        self.read(|db| {
            if let Some(user) = user_record(db, id)? {
                return Ok(Some(user));
            }
            let Some(email) = email else { return Ok(None) };
            let owner = db.query_opt(
                "SELECT user_id FROM identities WHERE provider_type = 'local-userpass' AND provider_uid = $1",
                &[&email],
            )?;
            match owner {
                Some(row) => user_record(db, row.get::<_, &str>(0)),
                None => Ok(None),
            }
        })
    }

    fn sessions_of(&self, user_id: &str) -> StoreResult<Vec<SessionInfo>> {
        self.read(|db| {
            let rows = db.query(
                "SELECT id, device_id, created_at, last_used_at FROM sessions WHERE user_id = $1
                 ORDER BY last_used_at DESC, id",
                &[&user_id],
            )?;
            Ok(rows
                .iter()
                .map(|r| SessionInfo {
                    id: r.get(0),
                    device_id: r.get(1),
                    created_at: r.get::<_, i64>(2) as u64,
                    last_used_at: r.get::<_, i64>(3) as u64,
                })
                .collect())
        })
    }

    fn revoke_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<EndedSession>> {
        self.write(|tx| {
            // Locks the session and its user, as `end_session` does.
            let Some(row) = tx.query_opt(
                "SELECT u.is_anonymous FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id = $1 AND s.user_id = $2 FOR UPDATE",
                &[&session_id, &user_id],
            )?
            else {
                return Ok(None);
            };
            let is_anonymous: bool = row.get(0);
            if is_anonymous {
                tx.execute("DELETE FROM users WHERE id = $1", &[&user_id])?;
            } else {
                tx.execute("DELETE FROM sessions WHERE id = $1", &[&session_id])?;
            }
            Ok(Some(EndedSession { user_id: user_id.to_owned(), user_deleted: is_anonymous }))
        })
    }

    fn shared_buckets(self: std::sync::Arc<Self>) -> Option<std::sync::Arc<dyn SharedBuckets>> {
        Some(self)
    }
}
