//! SIGTERM: the server stops accepting, answers what is in flight (for `--shutdown-timeout` at
//! most), commits the store's queued writes and exits 0.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{helpers::sqlite_pass, logged_binary::LoggedServer, ops_load::*};

const BINARY: &str = env!("CARGO_BIN_EXE_guestpass-server");

fn start(data: &std::path::Path, extra: &[&str]) -> LoggedServer {
    let mut args: Vec<std::ffi::OsString> =
        ["--app-id", "ops", "--anonymous-signup-limit", "1000000/1h"].iter().map(Into::into).collect();
    args.extend(extra.iter().map(Into::into));
    args.extend(["--data".into(), data.as_os_str().to_owned()]);
    LoggedServer::start(BINARY, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_answers_whole_or_not_at_all_and_loses_no_answered_login() {
    if !sqlite_pass("sigterm_under_load") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ops.db");
    let mut server = start(&data, &["--shutdown-timeout", "10s"]);
    let loops = LoginLoops::start(16, &server.url, "ops");
    while loops.answered() < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signalled = Instant::now();
    server.terminate();
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(15)));
    let took = signalled.elapsed();
    let seen = loops.join().await;
    let status = status.unwrap_or_else(|| panic!("still running 15 s after SIGTERM; it logged:\n{}", server.log()));
    assert!(status.success(), "exit status {status:?}; it logged:\n{}", server.log());
    assert!(took < Duration::from_secs(10), "took {took:?}, past --shutdown-timeout");
    assert!(server.log().contains("stopped"), "{}", server.log());
    assert_eq!(seen.incomplete.load(std::sync::atomic::Ordering::Relaxed), 0, "answers cut short");
    assert_eq!(seen.refused.load(std::sync::atomic::Ordering::Relaxed), 0, "logins refused");
    // Not asserted: a request the client wrote on a keep-alive connection just as the server
    // closed it idle was never read, so it has no answer to finish (the same race as any
    // server's). That requests being served are finished is a_request_in_flight_at_sigterm's.
    let cut = seen.cut.load(std::sync::atomic::Ordering::Relaxed);
    let tokens: Vec<String> = seen.answered.lock().unwrap().iter().map(|(_, t)| t.clone()).collect();
    eprintln!(
        "{} logins answered, {cut} unanswered on closing connections; exited {took:?} after SIGTERM",
        tokens.len()
    );

    let restarted = start(&data, &[]);
    let lost = not_refreshing(&restarted.url, &tokens).await;
    assert_eq!(lost, 0, "{lost} of {} answered logins do not refresh after the restart", tokens.len());
}

/// A request with its body still arriving when SIGTERM comes.
async fn request_in_flight(url: &str) -> tokio::net::TcpStream {
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /api/client/v2.0/app/ops/auth/providers/anon-user/login HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.unwrap();
    // Let the server read the headers and start the request before the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_sigterm_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(&dir.path().join("ops.db"), &["--shutdown-timeout", "10s"]);
    let mut stream = request_in_flight(&server.url).await;
    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Still running: it waits for this request.
    assert!(
        tokio::task::block_in_place(|| server.wait_exit(Duration::ZERO)).is_none(),
        "exited with a request in flight"
    );
    stream.write_all(b"}").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"refresh_token\""), "{answer}");
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(5))).expect("exits after it");
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_is_bounded_by_the_shutdown_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(&dir.path().join("ops.db"), &["--shutdown-timeout", "1s", "--request-timeout", "60s"]);
    let _stalled = request_in_flight(&server.url).await; // its body never completes
    let signalled = Instant::now();
    server.terminate();
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(20)));
    let took = signalled.elapsed();
    let status = status.unwrap_or_else(|| panic!("not stopped 20 s after SIGTERM:\n{}", server.log()));
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(4), "took {took:?} with --shutdown-timeout 1s");
    assert!(server.log().contains("--shutdown-timeout passed"), "{}", server.log());
}
