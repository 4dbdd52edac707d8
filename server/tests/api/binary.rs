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
    std::fs::write(pkg.join("guestpass.js"), "export default 1;").unwrap();
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
    assert!(dir.path().join("g.db.signing-key").exists(), "the generated key is kept beside the data");
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
