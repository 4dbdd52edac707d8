//! Processes (six) starting at once on one `--files-dir` (PostgreSQL, no `--admin-key`) agree on the
//! admin key they generate: one is made, every process accepts it. PostgreSQL pass only.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
};

use reqwest::StatusCode;

use crate::postgres::{new_database, postgres_server};

struct Started {
    child: Child,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` to log where it listens; its error output if it exits first.
fn listening(child: &mut Child) -> Result<String, String> {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.split("listening on ").nth(1) {
            let base = url.trim().to_owned();
            std::thread::spawn(move || for _ in lines {});
            return Ok(base);
        }
    }
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    Err(stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_starting_at_once_on_one_files_dir_share_one_generated_admin_key() {
    let Some(server) = postgres_server("admin key at concurrent start") else { return };
    let db = new_database(&server);
    let client = reqwest::Client::new();
    const ROUNDS: usize = 10;
    const PROCESSES: usize = 6;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let mut children: Vec<Started> = (0..PROCESSES)
            .map(|_| {
                let child = Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
                    .args(["--listen", "127.0.0.1:0", "--app-id", crate::helpers::APP_ID])
                    .arg("--data")
                    .arg(db.data())
                    .arg("--files-dir")
                    .arg(dir.path())
                    .env("GUESTPASS_SIGNING_KEY", "a-signing-key-shared-by-every-process-0123456789")
                    .env_remove("GUESTPASS_ADMIN_KEY")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("binary starts");
                Started { child }
            })
            .collect();
        let bases: Vec<String> = children
            .iter_mut()
            .enumerate()
            .map(|(i, s)| listening(&mut s.child).unwrap_or_else(|e| panic!("round {round}: process {i} failed: {e}")))
            .collect();
        let key = std::fs::read_to_string(dir.path().join("guestpass.admin-key")).unwrap();
        let key = key.trim();
        assert!(key.len() >= 32, "round {round}: a whole key in the file");
        for (i, base) in bases.iter().enumerate() {
            let resp = client.get(format!("{base}/api/admin/users")).bearer_auth(key).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "round {round}: process {i} takes the key in the file");
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".new"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: no candidate files left: {leftovers:?}");
    }
}
