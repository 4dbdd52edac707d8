//! The server binary as an operator runs it, with what it logs kept for the test to read.
//! Shared by the `api` suite and the `release` suite (which points it at the release build).

use std::{
    ffi::OsStr,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::Duration,
};

pub struct LoggedServer {
    child: Child,
    pub url: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LoggedServer {
    /// Starts `binary` with `args` on a free loopback port, logging everything at info level,
    /// under `umask 022` (the usual default), and waits for its "listening on" line.
    pub fn start<I, S>(binary: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new("sh")
            .args(["-c", "umask 022 && exec \"$0\" \"$@\"", binary, "--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (url_tx, url_rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let (lines, url_tx) = (lines.clone(), url_tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(url) = line.split("listening on ").nth(1) {
                        // A JSON line (--log-format json) goes on after the address.
                        let url = url.split('"').next().unwrap_or(url);
                        let _ = url_tx.send(url.trim().to_owned());
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let url = url_rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
            panic!("the server did not say where it listens; it logged:\n{}", lines.lock().unwrap().join("\n"))
        });
        LoggedServer { child, url, lines }
    }

    /// Sends SIGTERM, as an orchestrator stopping the server does.
    #[allow(dead_code)] // the api suite's; the release suite shares this file
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM");
    }

    /// The exit status, if the process ends within `within`.
    #[allow(dead_code)] // the api suite's; the release suite shares this file
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits up to five seconds for a log line containing `text`.
    pub async fn wait_for_log(&self, text: &str) -> bool {
        for _ in 0..50 {
            if self.log().contains(text) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}
