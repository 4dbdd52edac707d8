//! The SQLite store: one file, WAL, `synchronous=FULL` (a lost session row is a lost anonymous
//! account, so an answered login must survive even a power loss).

use std::{
    path::Path,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::*;

mod passkeys;
mod signing_keys;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    r#"
    -- Registered email/password accounts. An account becomes an identity of a user at its
    -- first login or when it is linked to an (anonymous) user.
    CREATE TABLE userpass_accounts (
        email          TEXT PRIMARY KEY,
        password_hash  TEXT NOT NULL,
        confirmed      INTEGER NOT NULL,
        created_at     INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- Confirmation and reset tokens; only their hash is kept.
    CREATE TABLE userpass_tokens (
        id             TEXT PRIMARY KEY,
        email          TEXT NOT NULL REFERENCES userpass_accounts(email) ON DELETE CASCADE,
        purpose        TEXT NOT NULL,
        token_hash     BLOB NOT NULL,
        expires_at     INTEGER NOT NULL
    );
    CREATE INDEX userpass_tokens_by_email ON userpass_tokens(email);
    INSERT INTO providers (name, type, enabled) VALUES
        ('local-userpass', 'local-userpass', 1),
        ('custom-token', 'custom-token', 1);
"#,
    r#"
    -- The inactivity sweep reads anonymous users by age of activity; the console pages by age.
    CREATE INDEX users_anonymous_by_activity ON users(last_active_at) WHERE is_anonymous = 1;
    CREATE INDEX users_by_creation ON users(created_at);
    -- The demo blog. Reading-list rows and comments do not cascade from users: when a user is
    -- deleted, what it wrote stays (the seed: "documents created or modified by the user remain").
    CREATE TABLE articles (
        id             INTEGER PRIMARY KEY,
        slug           TEXT NOT NULL UNIQUE,
        title          TEXT NOT NULL,
        author         TEXT NOT NULL,
        published      TEXT NOT NULL,
        summary        TEXT NOT NULL,
        body           TEXT NOT NULL,
        minutes        INTEGER NOT NULL
    );
    CREATE TABLE reading (
        user_id        TEXT NOT NULL,
        article_id     INTEGER NOT NULL REFERENCES articles(id),
        saved          INTEGER NOT NULL DEFAULT 0,
        progress       REAL NOT NULL DEFAULT 0,
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (user_id, article_id)
    ) WITHOUT ROWID;
    CREATE TABLE comments (
        id             INTEGER PRIMARY KEY,
        article_id     INTEGER NOT NULL REFERENCES articles(id),
        author_id      TEXT NOT NULL,
        author_name    TEXT NOT NULL,
        body           TEXT NOT NULL,
        created_at     INTEGER NOT NULL
    );
    CREATE INDEX comments_by_article ON comments(article_id, created_at);
"#,
    r#"
    -- When a session's credential was last proved: its login, or the link that ended its user's
    -- anonymity. The absolute lifetime of a signed-in session counts from here, the idle one
    -- from last_used_at; the sweep finds expired sessions by these two indexes.
    ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER NOT NULL DEFAULT 0;
    UPDATE sessions SET authenticated_at = created_at;
    CREATE INDEX sessions_by_authentication ON sessions(authenticated_at);
    CREATE INDEX sessions_by_use ON sessions(last_used_at);
"#,
    r#"
    -- Access tokens' signing keys (issue 10). A key signs from signs_from_ms (epoch ms) until the
    -- next key's; it stays published an access-token lifetime longer. private_key is PKCS#8 DER.
    CREATE TABLE signing_keys (
        kid            TEXT PRIMARY KEY,
        algorithm      TEXT NOT NULL,
        private_key    BLOB NOT NULL,
        public_jwk     TEXT NOT NULL,
        created_at_ms  INTEGER NOT NULL,
        signs_from_ms  INTEGER NOT NULL
    );
"#,
    r#"
    -- The demo blog moved to its own service with its own database (demo-backend/): the auth
    -- store no longer holds articles, reading lists or comments.
    DROP TABLE comments;
    DROP TABLE reading;
    DROP TABLE articles;
"#,
    r#"
    -- Passkeys (issue 11). Each is also a 'passkey' identity of its user (provider_uid = the
    -- credential id); the row here holds webauthn-rs's serialised credential (public key,
    -- algorithm, counter, flags). It goes with its user.
    CREATE TABLE passkeys (
        credential_id   TEXT PRIMARY KEY,
        user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        passkey         TEXT NOT NULL,
        counter         INTEGER NOT NULL,
        backup_eligible INTEGER NOT NULL,
        backup_state    INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        last_used_at    INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX passkeys_by_user ON passkeys(user_id);
    -- Ceremonies in progress: single use (used flips once), bound to their ceremony and, for a
    -- registration, to the user; state is the library's serialised ceremony state.
    CREATE TABLE passkey_challenges (
        id              TEXT PRIMARY KEY,
        ceremony        TEXT NOT NULL,
        user_id         TEXT,
        state           TEXT NOT NULL,
        expires_at      INTEGER NOT NULL,
        used            INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX passkey_challenges_by_expiry ON passkey_challenges(expires_at);
    INSERT INTO providers (name, type, enabled) VALUES ('passkey', 'passkey', 1);
"#,
];

/// Writes wait at most this many to a transaction (one fsync for the batch).
const MAX_BATCH: usize = 256;
/// Connections that serve reads beside the writer (WAL lets them read while it writes).
const READERS: usize = 4;

/// A write, run by the writer thread inside a savepoint of a batch's transaction. It reports
/// whether it succeeded (else its savepoint is rolled back) and a completion that answers the
/// caller once the batch is committed. Given no connection (the transaction could not begin),
/// it runs nothing and its completion answers the batch's failure.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Completion) + Send>;
type Completion = Box<dyn FnOnce(Result<(), BatchFailure>) + Send>;

/// Why a batch was not written, told to each of its writers.
#[derive(Debug, Clone)]
struct BatchFailure {
    busy: bool,
    message: String,
}

impl BatchFailure {
    fn of(e: &rusqlite::Error) -> Self {
        BatchFailure { busy: is_lock_error(e), message: e.to_string() }
    }
}

impl From<BatchFailure> for StoreError {
    fn from(f: BatchFailure) -> Self {
        if f.busy {
            StoreError::Busy(f.message)
        } else {
            StoreError::Commit(f.message)
        }
    }
}

/// How long a connection waits for a lock another process holds, unless configured.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite with group commit: one writer thread owns the write connection and commits every
/// write queued while the previous batch was being written in one transaction, each in its
/// own savepoint, so a failing write changes nothing and the others still commit. Callers are
/// answered only after the commit (with `synchronous=FULL`, after the fsync): an answered
/// login is on disk. Reads go to a small pool of reader connections.
pub struct SqliteStore {
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
    /// Writes sent to the writer and not yet taken into a batch (the metrics' queue depth).
    queued: Arc<AtomicUsize>,
    readers: Vec<Mutex<Connection>>,
    next_reader: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

fn open_connection(path: &Path, busy_timeout: Duration) -> StoreResult<Connection> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Open { path: path.display().to_string(), message: e.to_string() })?;
    conn.busy_timeout(busy_timeout)?;
    use_wal(&conn, busy_timeout)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Switches a new database to WAL (the mode is kept in the file). The switch needs the file to
/// itself, and SQLite refuses it at once, without the busy handler, when another process is
/// switching the same new file (each holds a read lock the other waits on): servers started
/// together on a new file retry until the busy timeout instead of failing to start.
fn use_wal(conn: &Connection, busy_timeout: Duration) -> StoreResult<()> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e) if is_lock_error(&e) && started.elapsed() < busy_timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Creates the database file readable by its owner only (it holds password hashes), before
/// SQLite opens it: SQLite gives the -wal and -shm files the database file's permissions.
/// An existing file keeps its mode; a warning says if others can read it.
fn create_private(path: &Path) -> StoreResult<()> {
    let failed = |e: std::io::Error| StoreError::Open { path: path.display().to_string(), message: e.to_string() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path).map_err(failed)?.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "the database file is readable by other users; chmod 600 it");
                }
            }
            Ok(())
        }
        Err(e) => Err(failed(e)),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// Like `open`, with how long each connection waits for another process's lock.
    pub fn open_with(path: &Path, busy_timeout: Duration) -> StoreResult<Self> {
        create_private(path)?;
        let mut writer = open_connection(path, busy_timeout)?;
        // The writer touches the newest pages of every table and index on each batch; keep
        // them in memory (64 MiB; the default is 2 MiB).
        writer.pragma_update(None, "cache_size", -65536)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = open_connection(path, busy_timeout)?;
                conn.pragma_update(None, "query_only", "ON")?;
                Ok(Mutex::new(conn))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queued = Arc::new(AtomicUsize::new(0));
        let taken = Arc::clone(&queued);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, queue, &taken))
            .map_err(|e| StoreError::Open { path: path.display().to_string(), message: e.to_string() })?;
        Ok(SqliteStore { jobs: Mutex::new(jobs), queued, readers, next_reader: Default::default() })
    }

    /// Runs `f` on the writer thread in the next batch; returns its result once committed.
    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = std::sync::mpsc::sync_channel::<StoreResult<T>>(1);
        let job: Job = Box::new(move |conn| {
            // Without a connection the batch failed to begin: the completion carries why.
            let result = conn.map_or(Err(StoreError::WriterStopped), f);
            let ok = result.is_ok();
            let done: Completion = Box::new(move |committed| {
                let _ = reply.send(committed.map_err(StoreError::from).and(result));
            });
            (ok, done)
        });
        self.queued.fetch_add(1, Ordering::Relaxed);
        let sent = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).send(job);
        sent.map_err(|_| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            StoreError::WriterStopped
        })?;
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// A reader connection: the first free one, else the next in turn.
    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(conn) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return conn;
            }
        }
        // A panic cannot leave a half-read connection behind, so a poisoned lock is still usable.
        self.readers[start % self.readers.len()].lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
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

/// The writer thread: takes every queued write (up to `MAX_BATCH`), runs each in a savepoint
/// of one transaction, commits once, then answers them all. Ends when the store is dropped.
fn run_writer(mut conn: Connection, queue: std::sync::mpsc::Receiver<Job>, queued: &AtomicUsize) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        queued.fetch_sub(batch.len(), Ordering::Relaxed);
        let mut answers: Vec<Completion> = Vec::with_capacity(batch.len());
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                // Typically another process's lock outlasting the busy timeout: every write of
                // the batch is answered with the cause (503 for a lock), none is lost silently.
                let failure = BatchFailure::of(&e);
                for job in batch.drain(..) {
                    let (_, done) = job(None);
                    done(Err(failure.clone()));
                }
                continue;
            }
        };
        let committed = (|| -> rusqlite::Result<()> {
            for job in batch.drain(..) {
                let savepoint = tx.savepoint()?;
                // A panicking write loses only itself: its caller sees the writer's answer
                // channel close, the savepoint rolls back, the batch goes on.
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Some(&savepoint)))) {
                    Ok((true, done)) => {
                        savepoint.commit()?;
                        answers.push(done);
                    }
                    Ok((false, done)) => answers.push(done), // dropped savepoint rolls back
                    Err(_) => {}
                }
            }
            Ok(())
        })()
        .and_then(|()| tx.commit())
        .map_err(|e| BatchFailure::of(&e));
        for done in answers {
            done(committed.clone());
        }
    }
}

fn identities_of(conn: &Connection, user_id: &str) -> StoreResult<Vec<IdentityRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider_uid, provider_type, data FROM identities WHERE user_id = ?1 ORDER BY created_at, provider_type",
    )?;
    let rows =
        stmt.query_map([user_id], |r| Ok(IdentityRecord { id: r.get(0)?, provider_type: r.get(1)?, data: r.get(2)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a user with its identities and sessions (by cascade) and the email/password
/// accounts linked to it, so the old email can neither log in nor come back to this user.
fn delete_user(tx: &Connection, user_id: &str) -> StoreResult<()> {
    tx.prepare_cached(
        "DELETE FROM userpass_accounts WHERE email IN
         (SELECT provider_uid FROM identities WHERE user_id = ?1 AND provider_type = 'local-userpass')",
    )?
    .execute([&user_id])?;
    tx.prepare_cached("DELETE FROM users WHERE id = ?1")?.execute([&user_id])?;
    Ok(())
}

fn user_record(conn: &Connection, user_id: &str) -> StoreResult<Option<UserRecord>> {
    let row = conn
        .prepare_cached("SELECT is_anonymous, data, created_at, last_active_at, disabled FROM users WHERE id = ?1")?
        .query_row([&user_id], |r| {
            Ok((
                r.get::<_, bool>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })
        .optional()?;
    let Some((is_anonymous, data, created_at, last_active_at, disabled)) = row else {
        return Ok(None);
    };
    Ok(Some(UserRecord {
        id: user_id.to_owned(),
        is_anonymous,
        identities: identities_of(conn, user_id)?,
        data,
        created_at: created_at as u64,
        last_active_at: last_active_at as u64,
        disabled,
    }))
}

/// Whether `session_id` is a live session of `user_id`, an enabled user.
fn session_is_live(conn: &Connection, user_id: &str, session_id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE u.id = ?1 AND s.id = ?2 AND u.disabled = 0)",
        )?
        .query_row([user_id, session_id], |r| r.get(0))?)
}

fn owner_of(conn: &Connection, identity: &NewIdentity) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT user_id FROM identities WHERE provider_type = ?1 AND provider_uid = ?2")?
        .query_row([&identity.provider_type, &identity.uid], |r| r.get(0))
        .optional()?)
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

fn insert_session(tx: &Connection, user_id: &str, session: &NewSession, now: i64) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO sessions (id, user_id, refresh_hash, device_id, created_at, last_used_at, authenticated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5)",
    )?
    .execute(params![session.id, user_id, &session.refresh_hash[..], session.device_id, now])?;
    Ok(())
}

/// Whether the credential a login or link was verified against is still the account's: the
/// account exists, is confirmed, and still has the hash the password matched. Identities with
/// nothing stored to re-check (external JWTs) are always current.
fn credential_is_current(tx: &Connection, identity: &NewIdentity) -> StoreResult<bool> {
    let Some(VerifiedHash(verified)) = &identity.verified_hash else {
        return Ok(true);
    };
    let current: Option<(String, bool)> = tx
        .prepare_cached("SELECT password_hash, confirmed FROM userpass_accounts WHERE email = ?1")?
        .query_row([&identity.uid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(current.is_some_and(|(hash, confirmed)| confirmed && hash == *verified))
}

fn insert_token(tx: &Connection, email: &str, token: &NewUserpassToken) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO userpass_tokens (id, email, purpose, token_hash, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![token.id, email, token.purpose.as_str(), &token.hash[..], token.expires_at as i64])?;
    Ok(())
}

/// Attaches an identity to the user of a live session, inside the caller's write (see
/// `Store::link_identity`).
fn link_in(
    tx: &Connection,
    user_id: &str,
    session_id: &str,
    identity: &NewIdentity,
    now: u64,
    lifetimes: SessionLifetimes,
) -> StoreResult<LinkOutcome> {
    if !session_is_live(tx, user_id, session_id)? {
        return Ok(LinkOutcome::SessionEnded);
    }
    if !credential_is_current(tx, identity)? {
        return Ok(LinkOutcome::CredentialChanged);
    }
    match owner_of(tx, identity)? {
        Some(owner) if owner == user_id => {}
        Some(_) => return Ok(LinkOutcome::OwnedByAnotherUser),
        None => {
            // One identity per provider per user; checked in the same write as the
            // insert, so of links racing to one user exactly one gets here first.
            // Passkeys are the exception: one per device (phone and laptop).
            let has_one: bool = identity.provider_type != PASSKEY
                && tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM identities WHERE user_id = ?1 AND provider_type = ?2)",
                    )?
                    .query_row([user_id, identity.provider_type.as_str()], |r| r.get(0))?;
            if has_one {
                return Ok(LinkOutcome::ProviderAlreadyLinked);
            }
            let (user_data, was_anonymous): (String, bool) = tx
                .prepare_cached("SELECT data, is_anonymous FROM users WHERE id = ?1")?
                .query_row([&user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if was_anonymous {
                // The session now signs in a user that is not anonymous: its absolute
                // lifetime starts with the credential just proved, not at the anonymous
                // login (which may be older than that lifetime).
                tx.prepare_cached("UPDATE sessions SET authenticated_at = ?2, last_used_at = ?2 WHERE id = ?1")?
                    .execute(params![session_id, now as i64])?;
            }
            tx.prepare_cached(
                    "INSERT INTO identities (provider_type, provider_uid, user_id, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![identity.provider_type, identity.uid, user_id, identity.data, now as i64])?;
            tx.prepare_cached("UPDATE users SET is_anonymous = 0, data = ?2, last_active_at = ?3 WHERE id = ?1")?
                .execute(params![user_id, merged_data(&user_data, &identity.data)?, now as i64])?;
        }
    }
    let user = user_record(tx, user_id)?.ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
    let session_ends_at = if user.is_anonymous {
        None
    } else {
        let (authenticated_at, last_used_at): (i64, i64) = tx
            .prepare_cached("SELECT authenticated_at, last_used_at FROM sessions WHERE id = ?1")?
            .query_row([&session_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Some(lifetimes.end(authenticated_at as u64, last_used_at as u64))
    };
    Ok(LinkOutcome::Linked { user, session_ends_at })
}

impl Store for SqliteStore {
    fn create_anonymous_user(&self, new: &NewAnonymousUser) -> StoreResult<()> {
        let new = new.clone();
        self.write(move |tx| {
            let now = new.now as i64;
            tx.prepare_cached("INSERT INTO users (id, is_anonymous, created_at, last_active_at) VALUES (?1, 1, ?2, ?2)")?
                .execute(params![new.user_id, now])?;
            tx.prepare_cached(
                "INSERT INTO identities (provider_type, provider_uid, user_id, created_at) VALUES ('anon-user', ?1, ?2, ?3)",
            )?
            .execute(params![new.identity_id, new.user_id, now])?;
            insert_session(tx, &new.user_id, &new.session, now)?;
            Ok(())
        })
    }

    fn use_refresh_token(
        &self,
        hash: &RefreshHash,
        now: u64,
        granularity: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<Option<SessionRecord>> {
        let found = self
            .reader()
            .prepare_cached(
                "SELECT s.id, s.user_id, s.device_id, u.is_anonymous, min(s.last_used_at, u.last_active_at),
                        s.authenticated_at, s.last_used_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.refresh_hash = ?1 AND u.disabled = 0",
            )?
            .query_row([&hash[..]], |r| {
                let session = SessionRecord {
                    session_id: r.get(0)?,
                    user_id: r.get(1)?,
                    device_id: r.get(2)?,
                    is_anonymous: r.get(3)?,
                    ends_at: None,
                };
                let times = (r.get::<_, i64>(4)? as u64, r.get::<_, i64>(5)? as u64, r.get::<_, i64>(6)? as u64);
                Ok((session, times))
            })
            .optional()?;
        let Some((mut session, (last_seen, authenticated_at, last_used_at))) = found else {
            return Ok(None);
        };
        // The lifetimes are checked against what is recorded, so checking them keeps a refresh
        // a read; an ended session is left to the sweep.
        if !session.is_anonymous && lifetimes.end(authenticated_at, last_used_at) <= now {
            return Ok(None);
        }
        // A refresh is a read; the activity it proves is written at most once per granularity.
        let recorded = last_seen + granularity <= now;
        if !session.is_anonymous {
            session.ends_at = Some(lifetimes.end(authenticated_at, if recorded { now } else { last_used_at }));
        }
        if recorded {
            let (session_id, user_id, now) = (session.session_id.clone(), session.user_id.clone(), now as i64);
            self.write(move |tx| {
                tx.prepare_cached("UPDATE sessions SET last_used_at = ?2 WHERE id = ?1")?
                    .execute(params![session_id, now])?;
                tx.prepare_cached("UPDATE users SET last_active_at = ?2 WHERE id = ?1")?
                    .execute(params![user_id, now])?;
                Ok(())
            })?;
        }
        Ok(Some(session))
    }

    fn delete_expired_sessions(&self, now: u64, lifetimes: SessionLifetimes, limit: usize) -> StoreResult<usize> {
        let authenticated_before = now.saturating_sub(lifetimes.absolute) as i64;
        let used_before = now.saturating_sub(lifetimes.idle) as i64;
        self.write(move |tx| {
            // One statement per lifetime, so each finds its sessions by its own index.
            let mut deleted = 0;
            for column in ["authenticated_at", "last_used_at"] {
                let cutoff = if column == "authenticated_at" { authenticated_before } else { used_before };
                deleted += tx
                    .prepare_cached(&format!(
                        "DELETE FROM sessions WHERE id IN
                         (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id
                          WHERE s.{column} <= ?1 AND u.is_anonymous = 0 LIMIT ?2)"
                    ))?
                    .execute(params![cutoff, limit.saturating_sub(deleted) as i64])?;
            }
            Ok(deleted)
        })
    }

    fn end_session(&self, hash: &RefreshHash) -> StoreResult<Option<EndedSession>> {
        let hash = *hash;
        self.write(move |tx| {
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
                tx.prepare_cached("DELETE FROM users WHERE id = ?1")?.execute([&user_id])?;
            } else {
                tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?.execute([&session_id])?;
            }
            Ok(Some(EndedSession { user_id, user_deleted: is_anonymous }))
        })
    }

    fn user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<UserRecord>> {
        let conn = self.reader();
        if !session_is_live(&conn, user_id, session_id)? {
            return Ok(None);
        }
        user_record(&conn, user_id)
    }

    fn delete_user_of_session(&self, user_id: &str, session_id: &str) -> StoreResult<bool> {
        let user_id = user_id.to_owned();
        let session_id = session_id.to_owned();
        self.write(move |tx| {
            let live: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?2 AND user_id = ?1)")?
                .query_row([&user_id, &session_id], |r| r.get(0))?;
            if live {
                delete_user(tx, &user_id)?;
            }
            Ok(live)
        })
    }

    fn providers(&self) -> StoreResult<Vec<ProviderRecord>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT name, type, enabled FROM providers ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| Ok(ProviderRecord { name: r.get(0)?, provider_type: r.get(1)?, enabled: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn login_identity(
        &self,
        identity: &NewIdentity,
        session: &NewSession,
        now: u64,
        lifetimes: SessionLifetimes,
    ) -> StoreResult<LoginOutcome> {
        let identity = identity.clone();
        let session = session.clone();
        self.write(move |tx| {
            let now_i = now as i64;
            // Checked here, in the write, not only when the password was verified: a reset or
            // a deletion in between would otherwise leave a session (or a new user) behind.
            if !credential_is_current(tx, &identity)? {
                return Ok(LoginOutcome::CredentialChanged);
            }
            let (user_id, created_user) = match owner_of(tx, &identity)? {
                Some(user_id) => (user_id, false),
                None => {
                    let user_id = crate::ids::object_id(now);
                    tx.prepare_cached(
                        "INSERT INTO users (id, is_anonymous, data, created_at, last_active_at) VALUES (?1, 0, ?2, ?3, ?3)",
                    )?
                    .execute(params![user_id, merged_data("{}", &identity.data)?, now_i])?;
                    tx.prepare_cached(
                        "INSERT INTO identities (provider_type, provider_uid, user_id, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![identity.provider_type, identity.uid, user_id, identity.data, now_i])?;
                    (user_id, true)
                }
            };
            let disabled: bool =
                tx.prepare_cached("SELECT disabled FROM users WHERE id = ?1")?.query_row([&user_id], |r| r.get(0))?;
            if disabled {
                return Ok(LoginOutcome::UserDisabled);
            }
            insert_session(tx, &user_id, &session, now_i)?;
            tx.prepare_cached("UPDATE users SET last_active_at = ?2 WHERE id = ?1")?.execute(params![user_id, now_i])?;
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
        // The check and the insert run in one write on the writer thread, so two links of one
        // identity cannot both see it free. The primary key on identities is the backstop.
        let user_id = user_id.to_owned();
        let session_id = session_id.to_owned();
        let identity = identity.clone();
        self.write(move |tx| link_in(tx, &user_id, &session_id, &identity, now, lifetimes))
    }

    fn register_userpass(
        &self,
        account: &UserpassAccount,
        token: Option<&NewUserpassToken>,
        now: u64,
    ) -> StoreResult<RegisterOutcome> {
        let account = account.clone();
        let token = token.cloned();
        self.write(move |tx| {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO userpass_accounts (email, password_hash, confirmed, created_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (email) DO NOTHING",
                )?
                .execute(params![account.email, account.password_hash, account.confirmed, now as i64])?;
            if inserted == 0 {
                return Ok(RegisterOutcome::EmailInUse);
            }
            if let Some(token) = token {
                insert_token(tx, &account.email, &token)?;
            }
            Ok(RegisterOutcome::Registered)
        })
    }

    fn userpass_account(&self, email: &str) -> StoreResult<Option<UserpassAccount>> {
        let conn = self.reader();
        let account = conn
            .prepare_cached("SELECT email, password_hash, confirmed FROM userpass_accounts WHERE email = ?1")?
            .query_row([email], |r| {
                Ok(UserpassAccount { email: r.get(0)?, password_hash: r.get(1)?, confirmed: r.get(2)? })
            })
            .optional()?;
        Ok(account)
    }

    fn add_userpass_token(&self, email: &str, token: &NewUserpassToken) -> StoreResult<()> {
        let email = email.to_owned();
        let token = token.clone();
        self.write(move |tx| {
            insert_token(tx, &email, &token)?;
            Ok(())
        })
    }

    fn use_userpass_token(
        &self,
        token_id: &str,
        hash: &[u8; 32],
        purpose: TokenPurpose,
        new_password_hash: Option<&str>,
        now: u64,
    ) -> StoreResult<Option<String>> {
        let token_id = token_id.to_owned();
        let hash = *hash;
        let new_password_hash = new_password_hash.map(str::to_owned);
        self.write(move |tx| {
            let row: Option<(String, String, Vec<u8>, i64)> = tx
                .prepare_cached("SELECT email, purpose, token_hash, expires_at FROM userpass_tokens WHERE id = ?1")?
                .query_row([&token_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            let Some((email, stored_purpose, stored_hash, expires_at)) = row else {
                return Ok(None);
            };
            if stored_purpose != purpose.as_str() || stored_hash != hash[..] || (expires_at as u64) < now {
                return Ok(None);
            }
            tx.prepare_cached("DELETE FROM userpass_tokens WHERE id = ?1")?.execute([&token_id])?;
            match purpose {
                TokenPurpose::Confirm => {
                    tx.prepare_cached("UPDATE userpass_accounts SET confirmed = 1 WHERE email = ?1")?
                        .execute([&email])?;
                }
                TokenPurpose::Reset => {
                    let Some(new_hash) = new_password_hash else {
                        return Ok(None);
                    };
                    tx.prepare_cached("UPDATE userpass_accounts SET password_hash = ?2 WHERE email = ?1")?
                        .execute(params![email, new_hash])?;
                    // The other reset links mailed for this account die with the old password.
                    tx.prepare_cached("DELETE FROM userpass_tokens WHERE email = ?1 AND purpose = 'reset'")?
                        .execute([&email])?;
                    // A reset ends every session of the account's user (docs/security.md): whoever
                    // knew the old password loses access at once.
                    tx.prepare_cached(
                        "DELETE FROM sessions WHERE user_id IN
                         (SELECT user_id FROM identities WHERE provider_type = 'local-userpass' AND provider_uid = ?1)",
                    )?
                    .execute([&email])?;
                }
            }
            Ok(Some(email))
        })
    }

    fn record_activity(&self, user_id: &str, now: u64, granularity: u64) -> StoreResult<()> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            tx.prepare_cached("UPDATE users SET last_active_at = ?2 WHERE id = ?1 AND last_active_at <= ?3")?
                .execute(params![user_id, now as i64, now.saturating_sub(granularity) as i64])?;
            Ok(())
        })
    }

    fn delete_inactive_anonymous(&self, cutoff: u64, limit: usize) -> StoreResult<usize> {
        self.write(move |tx| {
            // Identities and sessions go by cascade; anonymous users own no email accounts.
            let deleted = tx
                .prepare_cached(
                    "DELETE FROM users WHERE id IN
                     (SELECT id FROM users WHERE is_anonymous = 1 AND last_active_at < ?1 LIMIT ?2)",
                )?
                .execute(params![cutoff as i64, limit as i64])?;
            Ok(deleted)
        })
    }

    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<UserPage> {
        let conn = self.reader();
        let total: i64 = conn.prepare_cached("SELECT count(*) FROM users")?.query_row([], |r| r.get(0))?;
        let ids: Vec<String> = conn
            .prepare_cached("SELECT id FROM users ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2")?
            .query_map(params![limit as i64, offset as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            users.extend(user_record(&conn, &id)?);
        }
        Ok(UserPage { users, total: total as u64 })
    }

    fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)")?
                .query_row([&user_id], |r| r.get(0))?;
            if exists {
                delete_user(tx, &user_id)?;
            }
            Ok(exists)
        })
    }

    fn set_user_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<bool> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            let changed = tx
                .prepare_cached("UPDATE users SET disabled = ?2 WHERE id = ?1")?
                .execute(params![user_id, disabled])?;
            if disabled {
                // Disabling blocks login and ends every session at once (App Services: "invalidates
                // its tokens").
                tx.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?.execute([&user_id])?;
            }
            Ok(changed > 0)
        })
    }

    fn set_provider_enabled(&self, name: &str, enabled: bool) -> StoreResult<Option<ProviderRecord>> {
        let name = name.to_owned();
        self.write(move |tx| {
            tx.prepare_cached("UPDATE providers SET enabled = ?2 WHERE name = ?1")?.execute(params![name, enabled])?;
            let provider = tx
                .prepare_cached("SELECT name, type, enabled FROM providers WHERE name = ?1")?
                .query_row([name], |r| {
                    Ok(ProviderRecord { name: r.get(0)?, provider_type: r.get(1)?, enabled: r.get(2)? })
                })
                .optional()?;
            Ok(provider)
        })
    }

    fn delete_expired_userpass_tokens(&self, now: u64) -> StoreResult<usize> {
        self.write(move |tx| {
            Ok(tx.prepare_cached("DELETE FROM userpass_tokens WHERE expires_at < ?1")?.execute([now as i64])?)
        })
    }

    fn ping(&self) -> StoreResult<()> {
        self.reader().prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
        Ok(())
    }

    fn flush(&self) -> StoreResult<()> {
        // Batches are committed in order, so once this empty write is, every earlier one is.
        self.write(|_| Ok(()))
    }

    fn write_queue_depth(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    fn count_users(&self) -> StoreResult<UserCounts> {
        let conn = self.reader();
        let (anonymous, total): (i64, i64) = conn
            .prepare_cached("SELECT count(*) FILTER (WHERE is_anonymous = 1), count(*) FROM users")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(UserCounts { anonymous: anonymous as u64, signed_in: (total - anonymous) as u64 })
    }

    fn find_user(&self, id: &str, email: Option<&str>) -> StoreResult<Option<UserRecord>> {
        let conn = self.reader();
        if let Some(user) = user_record(&conn, id)? {
            return Ok(Some(user));
        }
        let Some(email) = email else { return Ok(None) };
        let owner: Option<String> = conn
            .prepare_cached(
                "SELECT user_id FROM identities WHERE provider_type = 'local-userpass' AND provider_uid = ?1",
            )?
            .query_row([email], |r| r.get(0))
            .optional()?;
        match owner {
            Some(owner) => user_record(&conn, &owner),
            None => Ok(None),
        }
    }

    fn sessions_of(&self, user_id: &str) -> StoreResult<Vec<SessionInfo>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, device_id, created_at, last_used_at FROM sessions WHERE user_id = ?1
             ORDER BY last_used_at DESC, id",
        )?;
        let rows = stmt.query_map([user_id], |r| {
            Ok(SessionInfo {
                id: r.get(0)?,
                device_id: r.get(1)?,
                created_at: r.get::<_, i64>(2)? as u64,
                last_used_at: r.get::<_, i64>(3)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_session(&self, user_id: &str, session_id: &str) -> StoreResult<Option<EndedSession>> {
        let (user_id, session_id) = (user_id.to_owned(), session_id.to_owned());
        self.write(move |tx| {
            let is_anonymous: Option<bool> = tx
                .prepare_cached(
                    "SELECT u.is_anonymous FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.id = ?1 AND s.user_id = ?2",
                )?
                .query_row([&session_id, &user_id], |r| r.get(0))
                .optional()?;
            let Some(is_anonymous) = is_anonymous else { return Ok(None) };
            if is_anonymous {
                // As at logout: nothing could ever sign in to this user again.
                delete_user(tx, &user_id)?;
            } else {
                tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?.execute([&session_id])?;
            }
            Ok(Some(EndedSession { user_id, user_deleted: is_anonymous }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anonymous(user_id: &str, n: u8) -> NewAnonymousUser {
        NewAnonymousUser {
            user_id: user_id.into(),
            identity_id: format!("identity-{user_id}-{n}"),
            session: NewSession { id: format!("session-{user_id}-{n}"), refresh_hash: [n; 32], device_id: "d".into() },
            now: 1,
        }
    }

    #[test]
    fn a_failing_write_in_a_batch_loses_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        store.create_anonymous_user(&anonymous("taken", 0)).unwrap();
        // Many writers at once, so they share batches; one of them reuses a taken user id.
        let handles: Vec<_> = (1..=40u8)
            .map(|n| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let id = if n == 20 { "taken".to_owned() } else { format!("user-{n}") };
                    store.create_anonymous_user(&anonymous(&id, n)).is_ok()
                })
            })
            .collect();
        let results: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|ok| !**ok).count(), 1, "only the duplicate failed");
        let conn = open_connection(&dir.path().join("t.db"), DEFAULT_BUSY_TIMEOUT).unwrap();
        let count = |table: &str| -> i64 {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
        };
        assert_eq!((count("users"), count("identities"), count("sessions")), (40, 40, 40), "no half-written rows");
    }

    #[test]
    fn stores_opened_at_once_on_a_new_file_all_open() {
        // Servers started together on a new file race to switch it to WAL; before the retry
        // some open failed with "database is locked" within these rounds in each of 3 runs.
        for round in 0..300 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            let opens: Vec<_> = (0..6)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || SqliteStore::open(&path).map(drop).map_err(|e| e.to_string()))
                })
                .collect();
            for open in opens {
                assert_eq!(open.join().unwrap(), Ok(()), "round {round}");
            }
        }
    }
}
