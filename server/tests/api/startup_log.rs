//! What the binary tells its operator: the missing `--public-url` on a public listener, wrong
//! admin keys with the source address (never the key), a short admin key.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the binary with `args` (and a fresh data file); the log up to its address line.
    fn start(args: &[&str], dir: &tempfile::TempDir) -> (Server, Vec<String>, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
            .args(args)
            .arg("--data")
            .arg(dir.path().join("g.db"))
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let server = Server { child, lines };
        let mut log = Vec::new();
        let url = loop {
            let line = server.lines.recv_timeout(Duration::from_secs(20)).expect("the server logs its address");
            log.push(line.clone());
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().to_owned();
            }
        };
        (server, log, url)
    }

    /// Log lines written within `wait`.
    fn more_log(&self, wait: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(wait) {
            lines.push(line);
        }
        lines
    }
}

/// The location route echoes the Host header without `--public-url`; nothing said so.
#[test]
fn a_public_listener_without_public_url_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    // 0.0.0.0 only to see the warning: the test connects to nothing.
    let (_server, log, _) = Server::start(&["--listen", "0.0.0.0:0"], &dir);
    assert!(log.iter().any(|l| l.contains("WARN") && l.contains("--public-url")), "{log:#?}");
    let (_server, log, _) = Server::start(&["--listen", "0.0.0.0:0", "--public-url", "https://auth.example"], &dir);
    assert!(!log.iter().any(|l| l.contains("--public-url")), "{log:#?}");
    let (_server, log, _) = Server::start(&["--listen", "127.0.0.1:0"], &dir);
    assert!(!log.iter().any(|l| l.contains("--public-url")), "loopback is fine: {log:#?}");
}

/// A wrong admin key used to be logged without where it came from.
#[tokio::test]
async fn a_wrong_admin_key_is_logged_with_its_source_address_and_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = "the-operators-admin-key-0123456789abcdef";
    let (server, _, url) = Server::start(&["--listen", "127.0.0.1:0", "--admin-key", key], &dir);
    let guess = "a-wrong-guess-of-the-admin-key-0123456789";
    let resp = reqwest::Client::new().get(format!("{url}/api/admin/users")).bearer_auth(guess).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let log = server.more_log(Duration::from_millis(500));
    let line = log.iter().find(|l| l.contains("wrong key")).unwrap_or_else(|| panic!("{log:#?}"));
    assert!(line.contains("client=127.0.0.1"), "{line}");
    assert!(!log.iter().any(|l| l.contains(guess) || l.contains(key)), "{log:#?}");
}

#[test]
fn a_short_admin_key_stops_the_binary_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
        .env("GUESTPASS_LISTEN", "127.0.0.1:0")
        .env("GUESTPASS_DATA", dir.path().join("x.db"))
        .env("GUESTPASS_ADMIN_KEY", "sixteen-chars-ok")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the server started with a 16-character admin key");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(!stderr.contains("sixteen-chars-ok"), "the key is never printed");
}
