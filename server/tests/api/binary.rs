//! The binary as an operator runs it: flags, environment, the one log line, static files.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use reqwest::StatusCode;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and returns it with the address from its "listening on" line.
fn start(command: &mut Command) -> (Server, String) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("the server logs where it listens").unwrap();
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().to_owned();
        }
    };
    // keep draining stdout so the server never blocks on a full pipe
    std::thread::spawn(move || for _ in lines {});
    (server, url)
}

#[tokio::test]
async fn the_binary_takes_flags_logs_its_address_and_serves_the_page_and_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<h1>reader</h1>").unwrap();
    std::fs::write(pkg.join("guestpass.js"), "export const sdk = 1;\n".repeat(200)).unwrap();
    let data = dir.path().join("g.db");
    let (_server, url) = start(
        Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
            .args(["--listen", "127.0.0.1:0", "--app-id", "flag-app", "--access-token-ttl", "90s", "--www"])
            .arg(&www)
            .arg("--data")
            .arg(&data),
    );
    let client = reqwest::Client::new();
    let page = client.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.text().await.unwrap(), "<h1>reader</h1>");
    let sdk = client.get(format!("{url}/pkg/guestpass.js")).send().await.unwrap();
    assert_eq!(sdk.status(), StatusCode::OK, "pkg/ beside www/ is served at /pkg/");
    let compressed =
        client.get(format!("{url}/pkg/guestpass.js")).header("accept-encoding", "br, gzip").send().await.unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "br", "static files go compressed");
    let login: serde_json::Value = client
        .post(format!("{url}/api/client/v2.0/app/flag-app/auth/providers/anon-user/login"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = crate::helpers::claims(login["access_token"].as_str().unwrap());
    assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 90);
    assert!(data.exists());
    assert!(!dir.path().join("g.db.signing-key").exists(), "the signing keys are in the database, not in a file");
}

#[tokio::test]
async fn a_precompressed_copy_beside_a_static_file_is_sent_to_a_browser_that_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(pkg.join("guestpass_bg.wasm"), &wasm).unwrap();
    // Not real brotli or gzip: the server must send these bytes as they are, not make its own.
    std::fs::write(pkg.join("guestpass_bg.wasm.br"), b"made by build-sdk.sh: br").unwrap();
    std::fs::write(pkg.join("guestpass_bg.wasm.gz"), b"made by build-sdk.sh: gz").unwrap();
    let (_server, url) = start(
        Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
            .args(["--listen", "127.0.0.1:0", "--app-id", "static-app", "--pkg"])
            .arg(&pkg)
            .arg("--data")
            .arg(dir.path().join("s.db")),
    );
    // reqwest is built without its decoders here: the bytes are what came on the wire.
    let client = reqwest::Client::new();
    let get = |encoding: &'static str| {
        let request = client.get(format!("{url}/pkg/guestpass_bg.wasm"));
        let request = if encoding.is_empty() { request } else { request.header("accept-encoding", encoding) };
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(response.headers()["content-type"], "application/wasm");
            (encoding, response.bytes().await.unwrap().to_vec())
        }
    };
    assert_eq!(get("gzip, deflate, br").await, (Some("br".into()), b"made by build-sdk.sh: br".to_vec()));
    assert_eq!(get("gzip").await, (Some("gzip".into()), b"made by build-sdk.sh: gz".to_vec()));
    assert_eq!(get("").await, (None, wasm), "without Accept-Encoding, the file itself");
}

#[tokio::test]
async fn the_binary_reads_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start(
        Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
            .env("GUESTPASS_LISTEN", "127.0.0.1:0")
            .env("GUESTPASS_DATA", dir.path().join("env.db"))
            .env("GUESTPASS_APP_ID", "env-app")
            .env("GUESTPASS_ACCESS_TOKEN_TTL", "2m")
            .env("GUESTPASS_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
    );
    let resp = reqwest::get(format!("{url}/api/client/v2.0/app/env-app/location")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!dir.path().join("env.db.signing-key").exists(), "a given key is not written to disk");
}

#[test]
fn a_short_signing_key_stops_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
        .env("GUESTPASS_LISTEN", "127.0.0.1:0")
        .env("GUESTPASS_DATA", dir.path().join("x.db"))
        .env("GUESTPASS_SIGNING_KEY", "changeme")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(!stderr.contains("changeme"), "the key is never printed");
}

#[test]
fn a_bad_duration_is_refused_at_the_command_line() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_guestpass-server")).args(["--access-token-ttl", "soon"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("30m"));
}

/// `kill -9` under load: every login the server answered must still be there after a restart
/// (SQLite WAL with synchronous=FULL; writers are answered only after their batch commits).
#[tokio::test]
async fn a_kill_9_under_load_loses_no_answered_login() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("crash.db");
    let command = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_guestpass-server"));
        c.args(["--listen", "127.0.0.1:0", "--app-id", "crash", "--anonymous-signup-limit", "1000000/1h", "--data"])
            .arg(&data);
        c
    };
    let (mut server, url) = start(&mut command());
    let client = reqwest::Client::new();
    let login_url = format!("{url}/api/client/v2.0/app/crash/auth/providers/anon-user/login");
    let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (client, login_url, answered) = (client.clone(), login_url.clone(), answered_tx.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Ok(resp) = client.post(&login_url).send().await else { break };
                let Ok(body) = resp.json::<serde_json::Value>().await else { break };
                let token = body["refresh_token"].as_str().unwrap().to_owned();
                if answered.send(token).is_err() {
                    break;
                }
            }
        }));
    }
    drop(answered_tx);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server.0.kill().unwrap(); // SIGKILL: no graceful shutdown, no final checkpoint
    server.0.wait().unwrap();
    for w in workers {
        let _ = w.await;
    }
    let mut answered = Vec::new();
    while let Ok(token) = answered_rx.try_recv() {
        answered.push(token);
    }
    assert!(answered.len() > 50, "the load ran ({} logins answered)", answered.len());

    let (_server, url) = start(&mut command());
    let mut lost = 0;
    for token in &answered {
        let resp = client.post(format!("{url}/api/client/v2.0/auth/session")).bearer_auth(token).send().await.unwrap();
        if resp.status() != StatusCode::OK {
            lost += 1;
        }
    }
    assert_eq!(lost, 0, "{lost} of {} answered logins were lost", answered.len());
}
