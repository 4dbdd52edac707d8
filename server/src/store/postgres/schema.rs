//! The PostgreSQL schema: the SQLite store's tables with PostgreSQL's types, migrated on start.

/// Schema migrations, applied in order; `guestpass_schema.version` records how many ran.
/// Booleans are `boolean`, times are whole seconds since the epoch (`bigint`), as in SQLite.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE users (
        id             text PRIMARY KEY,
        is_anonymous   boolean NOT NULL,
        disabled       boolean NOT NULL DEFAULT false,
        data           text NOT NULL DEFAULT '{}',
        created_at     bigint NOT NULL,
        last_active_at bigint NOT NULL
    );
    CREATE INDEX users_anonymous_by_activity ON users (last_active_at) WHERE is_anonymous;
    CREATE INDEX users_by_creation ON users (created_at);
    -- One identity per (provider, external id): the key that makes racing links safe.
    CREATE TABLE identities (
        provider_type  text NOT NULL,
        provider_uid   text NOT NULL,
        user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        data           text NOT NULL DEFAULT '{}',
        created_at     bigint NOT NULL,
        PRIMARY KEY (provider_type, provider_uid)
    );
    -- A user has at most one identity per provider; the writes check it under the user's row
    -- lock, this index is the backstop.
    CREATE UNIQUE INDEX identities_one_per_provider ON identities (user_id, provider_type);
    -- Only the SHA-256 of a refresh token is kept.
    CREATE TABLE sessions (
        id               text PRIMARY KEY,
        user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        refresh_hash     bytea NOT NULL UNIQUE,
        device_id        text NOT NULL,
        created_at       bigint NOT NULL,
        last_used_at     bigint NOT NULL,
        authenticated_at bigint NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions (user_id);
    CREATE INDEX sessions_by_authentication ON sessions (authenticated_at);
    CREATE INDEX sessions_by_use ON sessions (last_used_at);
    CREATE TABLE providers (
        name           text PRIMARY KEY,
        type           text NOT NULL,
        enabled        boolean NOT NULL
    );
    INSERT INTO providers (name, type, enabled) VALUES
        ('anon-user', 'anon-user', true),
        ('local-userpass', 'local-userpass', true),
        ('custom-token', 'custom-token', true);
    CREATE TABLE userpass_accounts (
        email          text PRIMARY KEY,
        password_hash  text NOT NULL,
        confirmed      boolean NOT NULL,
        created_at     bigint NOT NULL
    );
    CREATE TABLE userpass_tokens (
        id             text PRIMARY KEY,
        email          text NOT NULL REFERENCES userpass_accounts (email) ON DELETE CASCADE,
        purpose        text NOT NULL,
        token_hash     bytea NOT NULL,
        expires_at     bigint NOT NULL
    );
    CREATE INDEX userpass_tokens_by_email ON userpass_tokens (email);
    -- The demo blog. Reading-list rows and comments do not cascade from users: what a deleted
    -- user wrote stays.
    CREATE TABLE articles (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        slug           text NOT NULL UNIQUE,
        title          text NOT NULL,
        author         text NOT NULL,
        published      text NOT NULL,
        summary        text NOT NULL,
        body           text NOT NULL,
        minutes        integer NOT NULL
    );
    CREATE TABLE reading (
        user_id        text NOT NULL,
        article_id     bigint NOT NULL REFERENCES articles (id),
        saved          boolean NOT NULL DEFAULT false,
        progress       double precision NOT NULL DEFAULT 0,
        updated_at     bigint NOT NULL,
        PRIMARY KEY (user_id, article_id)
    );
    CREATE TABLE comments (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        article_id     bigint NOT NULL REFERENCES articles (id),
        author_id      text NOT NULL,
        author_name    text NOT NULL,
        body           text NOT NULL,
        created_at     bigint NOT NULL
    );
    CREATE INDEX comments_by_article ON comments (article_id, created_at);
"#,
    r#"
    -- Access tokens' signing keys (issue 10), shared by every process on the database. A key
    -- signs from signs_from_ms until the next key's; private_key is PKCS#8 DER.
    CREATE TABLE signing_keys (
        kid            text PRIMARY KEY,
        algorithm      text NOT NULL,
        private_key    bytea NOT NULL,
        public_jwk     text NOT NULL,
        created_at_ms  bigint NOT NULL,
        signs_from_ms  bigint NOT NULL
    );
"#,
    // issue 9, shared limits: one row per rate-limit bucket (GCRA, times in microseconds of the
    // database's clock). UNLOGGED: a bucket's update then waits for no WAL flush, and a crash
    // of PostgreSQL empties the table, which refills every bucket (as a restart of a process
    // does for the in-memory limits).
    r#"
    CREATE UNLOGGED TABLE rate_buckets (
        bucket         text NOT NULL,
        key            bytea NOT NULL,
        -- The theoretical arrival time: the bucket is full again at tat.
        tat            bigint NOT NULL,
        -- Until when the last refused take refuses the key (the failure throttles).
        refused_until  bigint NOT NULL,
        checked_at     bigint NOT NULL,
        PRIMARY KEY (bucket, key)
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
    -- algorithm, counter, flags). It goes with its user. A user may hold several passkeys, so
    -- the one-identity-per-provider index now leaves passkeys out.
    DROP INDEX identities_one_per_provider;
    CREATE UNIQUE INDEX identities_one_per_provider ON identities (user_id, provider_type)
        WHERE provider_type <> 'passkey';
    CREATE INDEX identities_by_user ON identities (user_id);
    CREATE TABLE passkeys (
        credential_id   text PRIMARY KEY,
        user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        passkey         text NOT NULL,
        counter         bigint NOT NULL,
        backup_eligible boolean NOT NULL,
        backup_state    boolean NOT NULL,
        created_at      bigint NOT NULL,
        last_used_at    bigint
    );
    CREATE INDEX passkeys_by_user ON passkeys (user_id);
    -- Ceremonies in progress, shared by every process: single use (used flips once), bound to
    -- their ceremony and, for a registration, to the user.
    CREATE TABLE passkey_challenges (
        id              text PRIMARY KEY,
        ceremony        text NOT NULL,
        user_id         text,
        state           text NOT NULL,
        expires_at      bigint NOT NULL,
        used            boolean NOT NULL DEFAULT false
    );
    CREATE INDEX passkey_challenges_by_expiry ON passkey_challenges (expires_at);
    INSERT INTO providers (name, type, enabled) VALUES ('passkey', 'passkey', true);
"#,
];

/// The schema version this server migrates to (and the newest it accepts).
pub const VERSION: usize = MIGRATIONS.len();

/// The advisory lock every starting server takes around its migrations, so that of servers
/// starting at once on one database one migrates and the others then find it done. Any fixed
/// number works; this one is "guestpas" in ASCII.
pub(super) const MIGRATION_LOCK: i64 = 0x6775_6573_7470_6173;

/// The advisory lock a sweep's batch holds: of the processes on one database, one sweeps at a
/// time, the others find it taken and leave the work to it ("guestswp" in ASCII).
pub const SWEEP_LOCK: i64 = 0x6775_6573_7473_7770;

/// The advisory lock around creating the first signing key, so that of servers starting at
/// once on an empty table one creates it and the others sign with it ("guestkey" in ASCII).
pub(super) const SIGNING_KEY_LOCK: i64 = 0x6775_6573_746b_6579;
