//! `guestpass-server backup`: a copy of the live database taken under load restores into a
//! server where every login answered before the backup began still refreshes.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use crate::{helpers::sqlite_pass, logged_binary::LoggedServer, ops_load::*};

const BINARY: &str = env!("CARGO_BIN_EXE_guestpass-server");

fn start(data: &std::path::Path) -> LoggedServer {
    LoggedServer::start(
        BINARY,
        [
            "--app-id".as_ref(),
            "ops".as_ref(),
            "--anonymous-signup-limit".as_ref(),
            "1000000/1h".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
        ],
    )
}

fn backup(data: &std::path::Path, to: &std::path::Path) -> std::process::Output {
    Command::new(BINARY).arg("backup").arg("--data").arg(data).arg("--to").arg(to).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_every_login_answered_before_it() {
    if !sqlite_pass("a_backup_under_load") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (data, copy) = (dir.path().join("live.db"), dir.path().join("copy.db"));
    let mut server = start(&data);
    let loops = LoginLoops::start(16, &server.url, "ops");
    while loops.answered() < 300 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let began = Instant::now();
    let out = tokio::task::spawn_blocking({
        let (data, copy) = (data.clone(), copy.clone());
        move || backup(&data, &copy)
    })
    .await
    .unwrap();
    let during = loops.answered();
    let seen = loops.stop().await;
    assert!(out.status.success(), "backup failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity_check ok"));
    let before: Vec<String> =
        seen.answered.lock().unwrap().iter().filter(|(at, _)| *at < began).map(|(_, t)| t.clone()).collect();
    let total = seen.answered.lock().unwrap().len();
    eprintln!("{} logins answered before the backup began, {total} in all ({during} when it ended)", before.len());
    assert!(total > before.len(), "the load went on during the backup");

    let conn = rusqlite::Connection::open(&copy).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop(conn);

    // Restore: stop, copy back (without the old write-ahead log), start.
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(15)).is_some_and(|s| s.success()));
    for stale in ["live.db-wal", "live.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(stale));
    }
    std::fs::copy(&copy, &data).unwrap();
    let restored = start(&data);
    let lost = not_refreshing(&restored.url, &before).await;
    assert_eq!(lost, 0, "{lost} of {} logins answered before the backup do not refresh", before.len());
}

#[test]
fn a_backup_refuses_to_overwrite_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("g.db");
    rusqlite::Connection::open(&data).unwrap().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    let to = dir.path().join("copy.db");
    std::fs::write(&to, "precious").unwrap();
    let out = backup(&data, &to);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&to).unwrap(), "precious");

    let missing = backup(&dir.path().join("missing.db"), &dir.path().join("x.db"));
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
    assert!(!dir.path().join("x.db").exists() && !dir.path().join("x.db.partial").exists());

    let pg = backup(std::path::Path::new("postgres://u:secret@127.0.0.1/db"), &dir.path().join("y.db"));
    let err = String::from_utf8_lossy(&pg.stderr);
    assert!(!pg.status.success() && err.contains("pg_dump") && !err.contains("secret"), "{err}");
}
