//! Command line and environment. Every option can also be set as `GUESTPASS_<NAME>`.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;

/// The server's configuration.
#[derive(Parser, Clone)]
#[command(
    name = "guestpass-server",
    version,
    args_override_self = true,
    about = "Anonymous sign-in a user can keep: an App Services-compatible auth server"
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "GUESTPASS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// SQLite database file; created and migrated on first start. The access tokens' signing
    /// keys are kept in it unless GUESTPASS_SIGNING_KEY is set. A URL
    /// `postgres://user:password@host:port/db` selects a PostgreSQL database instead.
    #[arg(long, env = "GUESTPASS_DATA", default_value = "./guestpass.db", hide_env_values = true)]
    pub data: PathBuf,

    // PostgreSQL store (issue 9)
    /// Connections to PostgreSQL this process keeps at most (with a `postgres://` --data).
    #[arg(long, env = "GUESTPASS_DATABASE_POOL_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: u32,

    /// With a `postgres://` --data: the directory of the files otherwise kept beside the SQLite
    /// file (`guestpass.admin-key`, `guestpass.outbox`, and an old `guestpass.signing-key`).
    #[arg(long, env = "GUESTPASS_FILES_DIR", default_value = ".")]
    pub files_dir: PathBuf,

    /// The client app id that pages pass to `new App({ id })`.
    #[arg(long, env = "GUESTPASS_APP_ID", default_value = "guestpass-demo")]
    pub app_id: String,

    /// Lifetime of access tokens, e.g. 30m, 2s, 1h, 1d.
    #[arg(long, env = "GUESTPASS_ACCESS_TOKEN_TTL", default_value = "30m", value_parser = parse_duration)]
    pub access_token_ttl: Duration,

    // Session lifetimes (issue 16: 3)
    /// Absolute lifetime of a signed-in (not anonymous) user's session and its refresh token,
    /// counted from the login (or the link that ended the user's anonymity); refreshing does not
    /// extend it. App Services' default is 60 days.
    #[arg(long, env = "GUESTPASS_REFRESH_TOKEN_TTL", default_value = "60d", value_parser = parse_duration)]
    pub refresh_token_ttl: Duration,

    /// A signed-in user's session not refreshed for this long ends (idle lifetime). Clients
    /// refresh whenever their access token expires, so only an unused session reaches it.
    #[arg(long, env = "GUESTPASS_REFRESH_TOKEN_IDLE", default_value = "30d", value_parser = parse_duration)]
    pub refresh_token_idle: Duration,

    /// Directory served as static files at `/` (the demo blog reader).
    #[arg(long, env = "GUESTPASS_WWW")]
    pub www: Option<PathBuf>,

    /// The SDK package (wasm-pack output) served at `/pkg/`. Default: `pkg` beside `--www`.
    #[arg(long, env = "GUESTPASS_PKG")]
    pub pkg: Option<PathBuf>,

    /// Public origin of this server, returned by the location route (default: from the Host header).
    #[arg(long, env = "GUESTPASS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How email/password accounts are confirmed: `auto` (at registration) or `email` (a link
    /// with `token` and `tokenId` is written to the outbox; pending accounts cannot log in).
    #[arg(long, env = "GUESTPASS_USERPASS_CONFIRM", value_enum, default_value = "auto")]
    pub userpass_confirm: ConfirmMode,

    /// File the confirmation and reset mails are appended to, one JSON object per line.
    /// Default: `<data>.outbox` beside the data file.
    #[arg(long, env = "GUESTPASS_OUTBOX")]
    pub outbox: Option<PathBuf>,

    /// Base URL of the links in confirmation and reset mails; `token` and `tokenId` are appended.
    /// Default: the public URL (or `http://<listen>`) + `/confirm` and `/reset`.
    #[arg(long, env = "GUESTPASS_EMAIL_LINK_BASE")]
    pub email_link_base: Option<String>,

    /// How long confirmation and reset links stay valid.
    #[arg(long, env = "GUESTPASS_USERPASS_TOKEN_TTL", default_value = "30m", value_parser = parse_duration)]
    pub userpass_token_ttl: Duration,

    /// HS256 secret that verifies `custom-token` logins (external JWTs), at least 32 bytes.
    #[arg(long, env = "GUESTPASS_CUSTOM_JWT_SECRET", hide_env_values = true)]
    pub custom_jwt_secret: Option<Secret>,

    /// PEM file with the RS256 public key that verifies `custom-token` logins.
    #[arg(long, env = "GUESTPASS_CUSTOM_JWT_PUBLIC_KEY")]
    pub custom_jwt_public_key: Option<PathBuf>,

    /// If set, external JWTs must carry this `aud`.
    #[arg(long, env = "GUESTPASS_CUSTOM_JWT_AUDIENCE")]
    pub custom_jwt_audience: Option<String>,

    // Parsers and storage hygiene (issue 16)
    /// If set, external JWTs must carry this `iss` (a single string).
    #[arg(long, env = "GUESTPASS_CUSTOM_JWT_ISSUER")]
    pub custom_jwt_issuer: Option<String>,

    /// Longest lifetime an external JWT may claim: `exp - iat`, or `exp - now` without `iat`.
    /// Tokens minted for a login are short-lived; one valid for years is a stolen-forever token.
    #[arg(long, env = "GUESTPASS_CUSTOM_JWT_MAX_LIFETIME", default_value = "1h", value_parser = parse_duration)]
    pub custom_jwt_max_lifetime: Duration,

    /// How long a database write waits for a lock another process holds (a backup, a `sqlite3`
    /// shell) before the request is answered 503 with Retry-After.
    #[arg(long, env = "GUESTPASS_DATABASE_BUSY_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub database_busy_timeout: Duration,

    /// For tests of the release build only: mounts `GET /api/test/panic`, whose handler
    /// panics, to show that a panic answers 500 and the server goes on. Never in production.
    #[arg(long, hide = true)]
    pub test_panic_route: bool,

    /// Key for the admin console and API (`Authorization: Bearer <key>`). Default: generated on
    /// first start and kept beside the data file (`<data>.admin-key`); its path is logged.
    #[arg(long, env = "GUESTPASS_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<Secret>,

    /// Anonymous users inactive this long are deleted (with their sessions and identity; what
    /// they wrote stays). Activity is any authenticated request or refresh.
    #[arg(long, env = "GUESTPASS_ANONYMOUS_INACTIVITY", default_value = "90d", value_parser = parse_duration)]
    pub anonymous_inactivity: Duration,

    /// How often the background task looks for inactive anonymous users.
    #[arg(long, env = "GUESTPASS_CLEANUP_INTERVAL", default_value = "1h", value_parser = parse_duration)]
    pub cleanup_interval: Duration,

    /// Anonymous sign-ups allowed per client address, as COUNT/PERIOD (a token bucket that
    /// holds COUNT and refills over PERIOD), e.g. 120/1h. Answered with 429 and Retry-After.
    #[arg(long, env = "GUESTPASS_ANONYMOUS_SIGNUP_LIMIT", default_value = "120/1h", value_parser = parse_rate)]
    pub anonymous_signup_limit: Rate,

    /// The access tokens' key, managed by the operator: a PKCS#8 PEM P-256 private key signs
    /// ES256 (published at /.well-known/jwks.json); any other value is an HS256 secret of at
    /// least 32 bytes (not published: app backends cannot verify its tokens). Default: ES256
    /// keys made and kept in the store, rotated with `guestpass-server keys rotate`.
    #[arg(long = "signing-key", env = "GUESTPASS_SIGNING_KEY", hide_env_values = true, hide = true)]
    pub signing_key: Option<Secret>,

    // Limits, timeouts and client addresses (issue 16)
    /// Failed password logins allowed per account (COUNT/PERIOD token bucket); past it, every
    /// login to the account gets 429 with Retry-After until the bucket refills one token.
    #[arg(long, env = "GUESTPASS_LOGIN_FAILURE_LIMIT", default_value = "10/15m", value_parser = parse_rate)]
    pub login_failure_limit: Rate,

    /// Failed password logins allowed per client address, whatever the account.
    #[arg(long, env = "GUESTPASS_LOGIN_FAILURE_LIMIT_PER_ADDRESS", default_value = "100/15m", value_parser = parse_rate)]
    pub login_failure_limit_per_address: Rate,

    /// Password hashes that may wait for a free core; past that, 503 with Retry-After.
    #[arg(long, env = "GUESTPASS_PASSWORD_QUEUE", default_value_t = 16)]
    pub password_queue: usize,

    /// Email/password registrations allowed per client address (COUNT/PERIOD).
    #[arg(long, env = "GUESTPASS_REGISTRATION_LIMIT", default_value = "30/1h", value_parser = parse_rate)]
    pub registration_limit: Rate,

    /// `confirm/send` and `reset/send` requests allowed per client address (COUNT/PERIOD).
    #[arg(long, env = "GUESTPASS_EMAIL_SEND_LIMIT", default_value = "20/1h", value_parser = parse_rate)]
    pub email_send_limit: Rate,

    /// `confirm/send` and `reset/send` requests allowed per email address, from any client.
    #[arg(long, env = "GUESTPASS_EMAIL_SEND_LIMIT_PER_RECIPIENT", default_value = "5/1h", value_parser = parse_rate)]
    pub email_send_limit_per_recipient: Rate,

    /// Wrong admin keys allowed per client address; past it the admin API answers 429.
    #[arg(long, env = "GUESTPASS_ADMIN_KEY_FAILURE_LIMIT", default_value = "10/10m", value_parser = parse_rate)]
    pub admin_key_failure_limit: Rate,

    /// Time a client has to send a request's headers; it also closes idle keep-alive connections.
    #[arg(long, env = "GUESTPASS_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,

    /// Time a request has from its headers to its answer, body upload included (then 408).
    #[arg(long, env = "GUESTPASS_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Requests served at once; more get 503 with Retry-After.
    #[arg(long, env = "GUESTPASS_CONCURRENCY_LIMIT", default_value_t = 512)]
    pub concurrency_limit: usize,

    /// Open connections at once; more wait in the listen backlog.
    #[arg(long, env = "GUESTPASS_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Reverse proxies (CIDR, e.g. 10.0.0.0/8, ::1/128) whose forwarding header names the client.
    /// Without one, forwarding headers are ignored and the socket's peer is the client.
    #[arg(long, env = "GUESTPASS_TRUSTED_PROXY", num_args = 1.., value_delimiter = ',')]
    pub trusted_proxy: Vec<ipnet::IpNet>,

    /// The header the trusted proxies set: `x-forwarded-for` or `forwarded` (RFC 7239).
    #[arg(long, env = "GUESTPASS_FORWARDED_HEADER", value_enum, default_value = "x-forwarded-for")]
    pub forwarded_header: ForwardedHeader,

    // Operating the server (issue 12)
    /// Serve Prometheus metrics at `/metrics` on this address, a listener of its own (off
    /// unless set; keep it off the public network).
    #[arg(long, env = "GUESTPASS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Log lines as `text` (for people) or `json` (one object a line, for log pipelines).
    #[arg(long, env = "GUESTPASS_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// After SIGTERM or Ctrl-C: how long requests in flight may take to finish before the
    /// server stops anyway.
    #[arg(long, env = "GUESTPASS_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    // Passkeys (issue 11)
    /// The WebAuthn relying party id passkeys are bound to: a domain (not an IP address), the
    /// pages' host or a parent of it. Default: the host of --public-url, else `localhost`.
    #[arg(long, env = "GUESTPASS_PASSKEY_RP_ID")]
    pub passkey_rp_id: Option<String>,

    /// An origin whose pages may create and use passkeys (repeatable), e.g.
    /// `https://blog.example`. Default: the origin of --public-url, else `http://localhost:<port>`.
    #[arg(long, env = "GUESTPASS_PASSKEY_ORIGIN", num_args = 1.., value_delimiter = ',')]
    pub passkey_origin: Vec<String>,

    /// The relying party's name the browser shows when a passkey is made.
    #[arg(long, env = "GUESTPASS_PASSKEY_RP_NAME", default_value = "guestpass")]
    pub passkey_rp_name: String,

    /// How long a passkey ceremony's challenge may be answered.
    #[arg(long, env = "GUESTPASS_PASSKEY_CHALLENGE_TTL", default_value = "60s", value_parser = parse_duration)]
    pub passkey_challenge_ttl: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// A configuration for tests and embedding: defaults everywhere but the data file.
    pub fn for_data(data: impl Into<PathBuf>) -> Self {
        let mut config = Config::parse_from(["guestpass-server"]);
        config.data = data.into();
        config
    }

    /// The PostgreSQL URL, when `--data` is one.
    pub fn postgres_url(&self) -> Option<&str> {
        let data = self.data.to_str()?;
        (data.starts_with("postgres://") || data.starts_with("postgresql://")).then_some(data)
    }

    /// A file kept beside the data: `<data><suffix>`, or `<files-dir>/guestpass<suffix>` with
    /// PostgreSQL.
    fn beside_data(&self, suffix: &str) -> PathBuf {
        if self.postgres_url().is_some() {
            return self.files_dir.join(format!("guestpass{suffix}"));
        }
        let mut name = self.data.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(suffix);
        self.data.with_file_name(name)
    }

    /// Where confirmation and reset mails are written.
    pub fn outbox_path(&self) -> PathBuf {
        self.outbox.clone().unwrap_or_else(|| self.beside_data(".outbox"))
    }

    /// Where the generated admin key lives.
    pub fn admin_key_path(&self) -> PathBuf {
        self.beside_data(".admin-key")
    }

    /// Where the generated signing key lives.
    pub fn signing_key_path(&self) -> PathBuf {
        self.beside_data(".signing-key")
    }

    /// `--data` as it may be shown: a PostgreSQL URL without its password.
    pub fn data_shown(&self) -> String {
        match self.postgres_url() {
            Some(url) => crate::store::redacted_url(url),
            None => self.data.display().to_string(),
        }
    }

    /// The directory served at `/pkg/`.
    pub fn pkg_dir(&self) -> Option<PathBuf> {
        self.pkg.clone().or_else(|| {
            let www = self.www.as_ref()?;
            let parent = www.canonicalize().ok()?.parent()?.to_path_buf();
            Some(parent.join("pkg"))
        })
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data", &self.data_shown())
            .field("database_pool_size", &self.database_pool_size)
            .field("files_dir", &self.files_dir)
            .field("app_id", &self.app_id)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("refresh_token_idle", &self.refresh_token_idle)
            .field("www", &self.www)
            .field("pkg", &self.pkg)
            .field("public_url", &self.public_url)
            .field("userpass_confirm", &self.userpass_confirm)
            .field("outbox", &self.outbox)
            .field("custom_jwt_secret", &self.custom_jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("custom_jwt_public_key", &self.custom_jwt_public_key)
            .field("custom_jwt_audience", &self.custom_jwt_audience)
            .field("custom_jwt_issuer", &self.custom_jwt_issuer)
            .field("custom_jwt_max_lifetime", &self.custom_jwt_max_lifetime)
            .field("database_busy_timeout", &self.database_busy_timeout)
            .field("test_panic_route", &self.test_panic_route)
            .field("admin_key", &self.admin_key.as_ref().map(|_| "<redacted>"))
            .field("anonymous_inactivity", &self.anonymous_inactivity)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("anonymous_signup_limit", &self.anonymous_signup_limit)
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<redacted>"))
            .field("login_failure_limit", &self.login_failure_limit)
            .field("login_failure_limit_per_address", &self.login_failure_limit_per_address)
            .field("password_queue", &self.password_queue)
            .field("registration_limit", &self.registration_limit)
            .field("email_send_limit", &self.email_send_limit)
            .field("email_send_limit_per_recipient", &self.email_send_limit_per_recipient)
            .field("admin_key_failure_limit", &self.admin_key_failure_limit)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("concurrency_limit", &self.concurrency_limit)
            .field("max_connections", &self.max_connections)
            .field("trusted_proxy", &self.trusted_proxy)
            .field("forwarded_header", &self.forwarded_header)
            .field("metrics_listen", &self.metrics_listen)
            .field("log_format", &self.log_format)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("passkey_rp_id", &self.passkey_rp_id)
            .field("passkey_origin", &self.passkey_origin)
            .field("passkey_rp_name", &self.passkey_rp_name)
            .field("passkey_challenge_ttl", &self.passkey_challenge_ttl)
            .finish()
    }
}

/// How new email/password accounts are confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfirmMode {
    /// Confirmed at registration.
    Auto,
    /// Pending until the link written to the outbox is followed.
    Email,
}

/// Which forwarding header a trusted proxy sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// A secret string that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// Durations like `30m`, `2s`, `12h`, `90d` (humantime's syntax).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| format!("{e} (use e.g. 30s, 30m, 12h, 90d)"))?;
    if d.is_zero() {
        return Err("a duration must be longer than zero".into());
    }
    Ok(d)
}

/// A rate: `count` events per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

/// Rates like `120/1h`, `30/1m` or `5/10s`.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let (count, period) = s.split_once('/').ok_or("use COUNT/PERIOD, e.g. 120/1h")?;
    let count: u32 = count.trim().parse().map_err(|_| "COUNT must be a whole number, e.g. 120/1h")?;
    if count == 0 {
        return Err("COUNT must be at least 1".into());
    }
    Ok(Rate { count, period: parse_duration(period)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_seconds_minutes_hours_days() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43200)));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn rates_are_count_per_period() {
        assert_eq!(parse_rate("120/1h"), Ok(Rate { count: 120, period: Duration::from_secs(3600) }));
        assert!(parse_rate("120").is_err());
        assert!(parse_rate("0/1h").is_err());
        assert!(parse_rate("x/1h").is_err());
    }

    #[test]
    fn debug_output_hides_the_signing_key() {
        let mut config = Config::for_data("x.db");
        config.signing_key = Some(Secret("super-secret-signing-key-0123456789".into()));
        let shown = format!("{config:?}");
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn a_postgres_url_is_selected_and_its_password_never_shown() {
        let mut config = Config::for_data("postgres://guestpass:hunter2-secret@db.internal:5432/guestpass");
        config.files_dir = PathBuf::from("/var/lib/guestpass");
        assert!(config.postgres_url().is_some());
        assert!(Config::for_data("./postgres.db").postgres_url().is_none());
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("guestpass:<redacted>@db.internal"), "{shown}");
        assert_eq!(config.signing_key_path(), PathBuf::from("/var/lib/guestpass/guestpass.signing-key"));
    }

    #[test]
    fn signing_key_lives_beside_the_data_file() {
        let config = Config::for_data("/var/lib/guestpass/app.db");
        assert_eq!(config.signing_key_path(), PathBuf::from("/var/lib/guestpass/app.db.signing-key"));
    }
}
