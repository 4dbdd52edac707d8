//! `guestpass-server backup --data FILE --to FILE`: a consistent copy of a SQLite database,
//! live or not, through SQLite's online backup API.
//!
//! The copy is made in one step, inside one read transaction of the source: under WAL a reader
//! never blocks the server's writer, and what it reads is the database as of one commit, so
//! the copy holds every write answered before the backup began and no half of any later one.
//! It is written beside its destination, checked (`PRAGMA integrity_check`), synced, and only
//! then renamed into place: a failed or interrupted backup leaves no file that looks whole.

use std::{
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use rusqlite::{
    backup::{Backup, StepResult},
    Connection, OpenFlags,
};

#[derive(clap::Args, Debug, Clone)]
pub struct BackupArgs {
    /// The SQLite database to copy: the server's `--data`.
    #[arg(long, env = "GUESTPASS_DATA", hide_env_values = true)]
    pub data: PathBuf,

    /// Where the copy goes; refused if the file exists.
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("--data is a PostgreSQL URL: back it up with pg_dump (see README, Operating the server)")]
    Postgres,
    #[error("{0} does not exist")]
    NoSource(PathBuf),
    #[error("{0} exists already; choose another --to (a backup never overwrites)")]
    DestinationExists(PathBuf),
    #[error("{0} exists: another backup to this file is running, or one was interrupted (then remove it)")]
    PartialExists(PathBuf),
    #[error("{path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("the copy failed its integrity check: {0}")]
    Corrupt(String),
}

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub to: PathBuf,
    pub pages: u64,
    pub bytes: u64,
}

impl fmt::Display for Copied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backed up {} pages ({} bytes) to {}; integrity_check ok", self.pages, self.bytes, self.to.display())
    }
}

/// How long the backup waits for a lock the server holds (a checkpoint, a migration).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: &BackupArgs) -> Result<Copied, BackupError> {
    let data = args.data.to_string_lossy();
    if data.starts_with("postgres://") || data.starts_with("postgresql://") {
        return Err(BackupError::Postgres);
    }
    if !args.data.is_file() {
        return Err(BackupError::NoSource(args.data.clone()));
    }
    if args.to.exists() {
        return Err(BackupError::DestinationExists(args.to.clone()));
    }
    let partial = partial_path(&args.to);
    create_private(&partial)?;
    let result = copy(&args.data, &partial).and_then(|pages| {
        std::fs::rename(&partial, &args.to).map_err(|source| BackupError::File { path: args.to.clone(), source })?;
        sync_parent(&args.to);
        let bytes = std::fs::metadata(&args.to).map(|m| m.len()).unwrap_or(0);
        Ok(Copied { to: args.to.clone(), pages, bytes })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// `<to>.partial`: the copy while it is being made.
fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    to.with_file_name(name)
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> BackupError + '_ {
    move |source| BackupError::Sqlite { path: path.to_owned(), source }
}

/// Copies `source` into the new, empty file `to`; returns the pages copied.
fn copy(source: &Path, to: &Path) -> Result<u64, BackupError> {
    // Read-write without create: a WAL database's reader may need to write its -shm file.
    let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(sqlite(source))?;
    src.busy_timeout(BUSY_TIMEOUT).map_err(sqlite(source))?;
    let mut dst = Connection::open(to).map_err(sqlite(to))?;
    {
        let backup = Backup::new(&src, &mut dst).map_err(sqlite(to))?;
        let started = std::time::Instant::now();
        // -1: every page in one step, so in one read transaction of the source.
        loop {
            match backup.step(-1).map_err(sqlite(source))? {
                StepResult::Done => break,
                StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                // `More` cannot follow a step of every page; a lock held past the timeout can.
                _ => {
                    return Err(BackupError::Sqlite {
                        path: source.to_owned(),
                        source: rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("the database stayed locked; try again".into()),
                        ),
                    })
                }
            }
        }
    }
    let pages: i64 = dst.query_row("PRAGMA page_count", [], |r| r.get(0)).map_err(sqlite(to))?;
    let check: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(sqlite(to))?;
    if check != "ok" {
        return Err(BackupError::Corrupt(check));
    }
    dst.close().map_err(|(_, e)| sqlite(to)(e))?;
    let file = std::fs::File::open(to).map_err(|source| BackupError::File { path: to.to_owned(), source })?;
    file.sync_all().map_err(|source| BackupError::File { path: to.to_owned(), source })?;
    Ok(pages as u64)
}

/// The copy holds password hashes: readable by its owner only, as the database is.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::PartialExists(path.to_owned()),
        _ => BackupError::File { path: path.to_owned(), source },
    })
}

/// Makes the rename durable (best effort: not every filesystem syncs directories).
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(parent) {
            let _ = dir.sync_all();
        }
    }
}
