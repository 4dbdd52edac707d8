//! The database file: created owner-only, and a lock held by another process answered as a
//! passing 503 (with the cause in the log), not a 500.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{assert_error, sqlite_pass},
    logged_binary::LoggedServer,
};

const BINARY: &str = env!("CARGO_BIN_EXE_guestpass-server");

fn anonymous_login_url(server: &LoggedServer) -> String {
    format!("{}/api/client/v2.0/app/storage/auth/providers/anon-user/login", server.url)
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_database_and_its_wal_files_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    if !sqlite_pass("a new database and its WAL files are readable by the owner only") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh.db");
    let server = LoggedServer::start(BINARY, args(&["--app-id", "storage"], &data));
    // a write, so the WAL and its index exist
    let resp = reqwest::Client::new().post(anonymous_login_url(&server)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for name in ["fresh.db", "fresh.db-wal", "fresh.db-shm", "fresh.db.admin-key"] {
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o} (the server runs under umask 022)");
    }
}

#[tokio::test]
async fn a_database_locked_by_another_process_answers_503_and_logs_why() {
    if !sqlite_pass("a database locked by another process answers 503") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("locked.db");
    let server = LoggedServer::start(BINARY, args(&["--app-id", "storage", "--database-busy-timeout", "300ms"], &data));
    let client = reqwest::Client::new();
    let before: Value = client.post(anonymous_login_url(&server)).send().await.unwrap().json().await.unwrap();
    let users_before = count_users(&data);

    // Another process (here: another connection) takes the write lock and keeps it.
    let other = rusqlite::Connection::open(&data).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    for _ in 0..3 {
        let resp = client.post(anonymous_login_url(&server)).send().await.unwrap();
        assert_eq!(resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()).as_deref(), Some("1"));
        assert_error(resp, 503, "ServiceUnavailable").await;
    }
    // reads go on beside the lock (WAL)
    let profile = client
        .get(format!("{}/api/client/v2.0/auth/profile", server.url))
        .bearer_auth(before["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::OK);
    assert!(server.wait_for_log("database locked past the busy timeout").await, "{}", server.log());
    let log = server.log();
    assert!(log.contains("database is locked"), "the log names SQLite's cause:\n{log}");
    assert!(!log.contains("writer stopped"), "{log}");
    other.execute_batch("ROLLBACK").unwrap();

    let after = client.post(anonymous_login_url(&server)).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::OK, "once the lock is gone, writes succeed again");
    assert_eq!(count_users(&data), users_before + 1, "the refused logins wrote nothing");
}

/// `flags`, then `--data <data>`.
fn args(flags: &[&str], data: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = flags.iter().map(Into::into).collect();
    args.extend(["--data".into(), data.as_os_str().to_owned()]);
    args
}

fn count_users(data: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(data).unwrap();
    conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap()
}
