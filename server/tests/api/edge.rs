//! The network edge, over raw sockets against a real server: header-read, idle and request
//! timeouts, the header size cap, the concurrency limit, and 413 answers a client can read.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::*;

async fn edge_app() -> TestApp {
    spawn_app_with(|c| {
        c.header_read_timeout = Duration::from_secs(1);
        c.request_timeout = Duration::from_secs(1);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes (or `limit` passes); what it sent, and whether it closed.
async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> (String, bool) {
    let mut seen = Vec::new();
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&seen).into_owned(), true),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&seen).into_owned(), false),
        }
    }
}

/// A client sending its headers a byte at a time used to hold the connection for 45+ s.
#[tokio::test]
async fn headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_timeout() {
    let app = edge_app().await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    let request = format!("GET /api/client/v2.0/app/{APP_ID}/location HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    let mut closed_after = None;
    for byte in request.bytes().chain(std::iter::repeat(b'a')) {
        if stream.write_all(&[byte]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 1024];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await {
            closed_after = Some(started.elapsed());
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let closed_after = closed_after.expect("the server closed the slow connection");
    assert!(closed_after < Duration::from_secs(4), "closed after {closed_after:?} with a 1 s header timeout");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = edge_app().await;
    let mut stream = connect(&app).await;
    let request = format!("GET /api/client/v2.0/app/{APP_ID}/location HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "the request was served");
    let (rest, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "the idle connection stayed open");
    assert!(rest.is_empty(), "nothing more was sent: {rest}");
}

/// A body sent slowly used to keep its request alive for as long as the client liked.
#[tokio::test]
async fn a_slow_body_gets_408_at_the_request_timeout() {
    let app = edge_app().await;
    let (mut reader, mut writer) = connect(&app).await.into_split();
    let head = format!(
        "POST /api/client/v2.0/app/{APP_ID}/auth/providers/local-userpass/register HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let slow = async {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let read = async {
        let (answer, _) = read_until_closed(&mut reader, Duration::from_secs(8)).await;
        (answer, started.elapsed())
    };
    let (answer, took) = tokio::select! {
        answered = read => answered,
        () = slow => panic!("the slow body was never cut off"),
    };
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error_code\":\"RequestTimeout\""), "{answer}");
    assert!(took < Duration::from_secs(4), "answered after {took:?} with a 1 s request timeout");
}

/// A 389 KB Authorization header used to be read and parsed.
#[tokio::test]
async fn oversized_headers_get_431() {
    let app = edge_app().await;
    for size in [17 * 1024, 389 * 1024] {
        let mut stream = connect(&app).await;
        let request = format!(
            "GET /api/client/v2.0/auth/profile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            "a".repeat(size)
        );
        let _ = stream.write_all(request.as_bytes()).await;
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{size}: {answer}");
        assert!(closed);
    }
    // headers just under the cap are fine
    let resp = app
        .client
        .get(app.url("/auth/profile"))
        .header("authorization", format!("Bearer {}", "a".repeat(12 * 1024)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "InvalidSession").await;
}

#[tokio::test]
async fn requests_past_the_concurrency_limit_get_503() {
    let app = spawn_app_with(|c| c.concurrency_limit = 1).await;
    // One request in flight: its body never comes.
    let mut holder = connect(&app).await;
    let head = format!(
        "POST /api/client/v2.0/app/{APP_ID}/auth/providers/local-userpass/register HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    holder.write_all(head.as_bytes()).await.unwrap();
    sleep(0.3).await;
    let resp = app.client.get(app.app_url("/location")).send().await.unwrap();
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_error(resp, 503, "ServiceUnavailable").await;
    drop(holder);
    sleep(0.3).await;
    assert_eq!(app.client.get(app.app_url("/location")).send().await.unwrap().status(), 200);
}

/// A body over the limit, sent in full by a client that reads the answer only after: it used
/// to get a broken pipe instead of its 413 (every one of 10 rounds of 8 MiB on loopback).
#[tokio::test]
async fn an_oversized_body_gets_a_413_the_client_can_read() {
    let app = spawn_app().await;
    let body = vec![b' '; 8 * 1024 * 1024];
    for round in 0..5 {
        let mut stream = connect(&app).await;
        let head = format!(
            "POST /api/client/v2.0/app/{APP_ID}/auth/providers/local-userpass/register HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body).await.unwrap_or_else(|e| panic!("round {round}: the body was cut off: {e}"));
        let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "round {round}: {answer}");
        assert!(answer.contains("ReadSizeLimitExceeded"), "round {round}: {answer}");
    }
}

/// The same through Node's fetch (undici), which reported `ECONNRESET` ("fetch failed").
#[tokio::test]
async fn node_fetch_reads_the_413_of_an_oversized_body() {
    let app = spawn_app().await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oversized-body.mjs");
    let url = app.userpass_url("register");
    let node = move || std::process::Command::new("node").arg(&script).arg(&url).output();
    let out = tokio::task::spawn_blocking(node).await.unwrap().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 12, "{stdout}");
    for answer in answers {
        assert_eq!(answer["status"], 413, "{answer}");
        assert_eq!(answer["body"]["error_code"], "ReadSizeLimitExceeded", "{answer}");
    }
}
