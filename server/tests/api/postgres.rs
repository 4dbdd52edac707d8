//! What only the PostgreSQL store has to show: several servers on one database (migrating at
//! once, racing each other), a schema from a newer server, the database restarting under load.
//! These run in the PostgreSQL pass of the suite (`GUESTPASS_TEST_DATABASE_URL`, set by
//! `scripts/test.sh postgres`) and are skipped, saying so, in the SQLite pass.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures::future::join_all;
use guestpass_server::{config::Config, startup::Application};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const SCHEMA: usize = guestpass_server::store::POSTGRES_SCHEMA_VERSION;

/// The PostgreSQL server of this pass, or `None` (and a note) in the SQLite pass.
pub(crate) fn postgres_server(test: &str) -> Option<String> {
    let url = test_database_url();
    if url.is_none() {
        eprintln!("{test}: skipped, GUESTPASS_TEST_DATABASE_URL is not set (scripts/test.sh postgres sets it)");
    }
    url
}

/// A new empty database on the test server, dropped with the value.
pub(crate) fn new_database(server: &str) -> TestDb {
    TestDb::Postgres { server: server.to_owned(), name: create_postgres_database(server) }
}

fn config_for(data: &TestDb, files: &std::path::Path) -> Config {
    let mut config = Config::for_data(data.data());
    config.files_dir = files.to_owned();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.app_id = APP_ID.into();
    // Given, not generated: servers starting at once would race to create the key files (the
    // keys move into the database in a later step of issue 9).
    config.signing_key = Some(SIGNING_KEY.into());
    config.admin_key = Some("an-admin-key-every-server-shares-0123456789".into());
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_starting_at_once_on_an_empty_database_all_come_up() {
    let Some(server) = postgres_server("concurrent migrations") else { return };
    const ROUNDS: usize = 5;
    const SERVERS: usize = 4;
    for round in 0..ROUNDS {
        let db = new_database(&server);
        let dir = tempfile::tempdir().unwrap();
        let builds = (0..SERVERS).map(|_| tokio::spawn(Application::build(config_for(&db, dir.path()))));
        let apps = join_all(builds).await;
        for (i, app) in apps.into_iter().enumerate() {
            let app = app.unwrap().unwrap_or_else(|e| panic!("round {round}: server {i} did not start: {e:#}"));
            let providers = app.state().store(|s| s.providers()).await.unwrap();
            // anon-user, local-userpass, custom-token, passkey.
            assert_eq!(providers.len(), 4, "round {round}: server {i} sees the migrated schema");
        }
        let version = db.query_i64("SELECT version::bigint FROM guestpass_schema");
        let rows = db.query_i64("SELECT count(*) FROM guestpass_schema");
        assert_eq!((version, rows), (SCHEMA as i64, 1), "round {round}: migrated once");
    }
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_server_is_refused_and_left_alone() {
    let Some(server) = postgres_server("newer schema") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    drop(Application::build(config_for(&db, dir.path())).await.expect("first start migrates"));
    db.execute("UPDATE guestpass_schema SET version = version + 1; CREATE TABLE from_the_future (x integer);");
    let refused = Application::build(config_for(&db, dir.path())).await.err().expect("a newer schema is refused");
    let message = format!("{refused:#}");
    let newer = format!("schema version {} is newer than this server knows ({SCHEMA})", SCHEMA + 1);
    assert!(message.contains(&newer), "{message}");
    assert!(message.contains("upgrade guestpass-server"), "{message}");
    assert_eq!(
        db.query_i64("SELECT version::bigint FROM guestpass_schema"),
        SCHEMA as i64 + 1,
        "nothing was rolled back"
    );
    assert_eq!(db.query_i64("SELECT count(*) FROM from_the_future"), 0);
}

/// A `guestpass-server` process; killed when dropped.
pub(crate) struct Process {
    child: Child,
    pub(crate) base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SIGNING_KEY: &str = "a-signing-key-shared-by-every-process-0123456789";

/// Starts the binary on `data`; returns once it logs where it listens.
fn start_process(data: &TestDb, files: &std::path::Path) -> Process {
    start_process_with(data, files, |_| {})
}

pub(crate) fn start_process_with(data: &TestDb, files: &std::path::Path, adjust: impl FnOnce(&mut Command)) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guestpass-server"));
    command
        .args(["--listen", "127.0.0.1:0", "--app-id", APP_ID, "--anonymous-signup-limit", "100000/1h"])
        .arg("--data")
        .arg(data.data())
        .arg("--files-dir")
        .arg(files)
        .env("GUESTPASS_SIGNING_KEY", SIGNING_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    adjust(&mut command);
    let mut child = command.spawn().expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server logs where it listens").unwrap();
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Process { child, base }
}

pub(crate) fn app_url(base: &str, path: &str) -> String {
    format!("{base}/api/client/v2.0/app/{APP_ID}{path}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_of_two_processes_racing_to_link_one_email_leave_exactly_one_winner() {
    let Some(server) = postgres_server("racing links across processes") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    // Started one after the other (the first migrates), then raced against each other.
    let processes = [start_process(&db, dir.path()), start_process(&db, dir.path())];
    let client = reqwest::Client::new();
    const ROUNDS: usize = 5;
    const RACERS: usize = 16;
    for round in 0..ROUNDS {
        let email = format!("race-{round}@example.com");
        let on = |i: usize| processes[i % 2].base.as_str();
        let registered = client
            .post(app_url(on(round), "/auth/providers/local-userpass/register"))
            .json(&json!({ "email": email, "password": "password1" }))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let logins =
            (0..RACERS).map(|i| client.post(app_url(on(i), "/auth/providers/anon-user/login")).json(&json!({})).send());
        let mut tokens = Vec::new();
        for resp in join_all(logins).await {
            let body: Value = resp.unwrap().json().await.unwrap();
            tokens.push(body["access_token"].as_str().unwrap().to_owned());
        }
        // Each user links on the process it did not log in on.
        let links = tokens.iter().enumerate().map(|(i, token)| {
            client
                .post(app_url(on(i + 1), "/auth/providers/local-userpass/login?link=true"))
                .bearer_auth(token)
                .json(&json!({ "username": email, "password": "password1" }))
                .send()
        });
        let statuses: Vec<u16> = join_all(links).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "round {round}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), RACERS - 1, "round {round}: {statuses:?}");
        let linked = db.query_i64(&format!(
            "SELECT count(*) FROM identities WHERE provider_type = 'local-userpass' AND provider_uid = '{email}'"
        ));
        assert_eq!(linked, 1, "round {round}");
    }
    let anonymous = db.query_i64("SELECT count(*) FROM users WHERE is_anonymous");
    let orphans = db.query_i64("SELECT count(*) FROM identities WHERE user_id NOT IN (SELECT id FROM users)");
    assert_eq!((anonymous, orphans), ((ROUNDS * (RACERS - 1)) as i64, 0));
}

/// A PostgreSQL cluster of this test's own (scripts/pg.sh), stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::Builder::new().prefix("guestpass-pg-restart").tempdir_in("/tmp").unwrap();
        let url = Self::pg_sh("start", dir.path());
        Cluster { dir, url }
    }

    fn pg_sh(command: &str, dir: &std::path::Path) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg.sh");
        let out = Command::new("bash").arg(script).arg(command).arg(dir).output().expect("scripts/pg.sh runs");
        assert!(out.status.success(), "pg.sh {command}: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn stop(&self) {
        Self::pg_sh("stop", self.dir.path());
    }

    fn restart(&self) {
        Self::pg_sh("start", self.dir.path());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_postgres_restarts_under_load_the_server_answers_503_then_recovers_and_loses_no_login() {
    if postgres_server("PostgreSQL restart under load").is_none() {
        return;
    }
    // Its own cluster: stopping the suite's would fail the tests running beside this one.
    let cluster = Cluster::start();
    let app = Arc::new(spawn_app_on_postgres(&cluster.url, |c| c.anonymous_signup_limit.count = 1_000_000).await);
    let stop = Arc::new(AtomicBool::new(false));
    // 8 loops of anonymous login + refresh; every answer is kept.
    let loops: Vec<_> = (0..8)
        .map(|_| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let mut answered = Vec::new(); // refresh tokens of answered logins
                let mut refused = Vec::new(); // (status, content type, body) of every other answer
                while !stop.load(Ordering::Relaxed) {
                    let resp = app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await;
                    let status = resp.status().as_u16();
                    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
                    let body: Value = resp.json().await.unwrap_or(Value::Null);
                    if status == 200 {
                        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
                        let again = app.refresh(&refresh).await;
                        if again.status() != StatusCode::OK {
                            let status = again.status().as_u16();
                            let content_type =
                                again.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
                            refused.push((status, content_type, again.json().await.unwrap_or(Value::Null)));
                        }
                        answered.push(refresh);
                    } else {
                        refused.push((status, content_type, body));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                (answered, refused)
            })
        })
        .collect();
    sleep(1.0).await;
    cluster.stop();
    sleep(3.0).await;
    cluster.restart();
    // Recovered: a login succeeds again within 15 s of the restart.
    let restarted = Instant::now();
    loop {
        let resp = app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await;
        if resp.status() == StatusCode::OK {
            break;
        }
        assert!(restarted.elapsed() < Duration::from_secs(15), "no login succeeded 15 s after the restart");
        sleep(0.2).await;
    }
    sleep(1.0).await;
    stop.store(true, Ordering::Relaxed);
    let mut answered = Vec::new();
    let mut refused = Vec::new();
    for result in join_all(loops).await {
        let (a, r) = result.unwrap();
        answered.extend(a);
        refused.extend(r);
    }
    assert!(!refused.is_empty(), "the load saw the database down");
    for (status, content_type, body) in &refused {
        assert_eq!(*status, 503, "while the database was down: {body}");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{body}");
        assert_eq!(body["error_code"], "ServiceUnavailable", "{body}");
        assert_eq!(body["error"], "the database is unavailable; try again shortly", "no internal detail: {body}");
        assert!(body["link"].is_string(), "{body}");
    }
    // Every login that was answered survived the restart: its refresh token still works.
    let mut lost = 0;
    for refresh in &answered {
        if app.refresh(refresh).await.status() != StatusCode::OK {
            lost += 1;
        }
    }
    assert_eq!(lost, 0, "{lost} of {} answered logins were lost", answered.len());
    eprintln!("restart under load: {} logins answered, {} answers 503", answered.len(), refused.len());
}

/// Tries an anonymous login on `base` until it answers `want`; how long that took, or `None`
/// if it had not after 3 s.
async fn anonymous_login_answers(client: &reqwest::Client, base: &str, want: StatusCode) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let resp = client.post(app_url(base, "/auth/providers/anon-user/login")).json(&json!({})).send().await.unwrap();
        if resp.status() == want {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provider_switched_on_one_process_is_switched_on_the_other_within_a_second() {
    let Some(server) = postgres_server("provider switches across processes") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let admin_key = "an-admin-key-both-processes-share-0123456789";
    let with_key = |p: &mut Command| {
        p.env("GUESTPASS_ADMIN_KEY", admin_key);
    };
    let (a, b) = (start_process_with(&db, dir.path(), with_key), start_process_with(&db, dir.path(), with_key));
    let client = reqwest::Client::new();
    for (round, enabled) in [false, true, false, true].into_iter().enumerate() {
        let switched = client
            .put(format!("{}/api/admin/providers/anon-user", a.base))
            .bearer_auth(admin_key)
            .json(&json!({ "enabled": enabled }))
            .send()
            .await
            .unwrap();
        assert_eq!(switched.status(), StatusCode::OK, "round {round}");
        let want = if enabled { StatusCode::OK } else { StatusCode::NOT_FOUND };
        let took = anonymous_login_answers(&client, &b.base, want).await;
        let took = took.unwrap_or_else(|| panic!("round {round}: the other process ignored the switch for 3 s"));
        assert!(took < Duration::from_secs(1), "round {round}: the other process took {took:?}");
        eprintln!("provider switch, round {round}: the other process followed after {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_process_sweeps_at_a_time_and_the_others_leave_it_the_work() {
    let Some(_) = postgres_server("the sweep's lock") else { return };
    let app = spawn_app_with(|c| c.anonymous_inactivity = Duration::from_secs(3600)).await;
    let ids: Vec<String> = (0..50).map(|i| format!("{:024x}", i + 1)).collect();
    let users: Vec<String> = ids.iter().map(|id| format!("('{id}', true, 1, 1)")).collect();
    let identities: Vec<String> = ids.iter().map(|id| format!("('anon-user', '{id}', '{id}', 1)")).collect();
    app.db.execute(&format!(
        "INSERT INTO users (id, is_anonymous, created_at, last_active_at) VALUES {};
         INSERT INTO identities (provider_type, provider_uid, user_id, created_at) VALUES {};",
        users.join(","),
        identities.join(",")
    ));
    // Another process's sweep, as PostgreSQL sees it: a connection holding the sweep's lock.
    let url = app.data.to_str().unwrap().to_owned();
    let (held, release) = std::sync::mpsc::channel::<()>();
    let (locked, done) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        other.execute("SELECT pg_advisory_lock($1)", &[&guestpass_server::store::POSTGRES_SWEEP_LOCK]).unwrap();
        locked.send(()).unwrap();
        let _ = release.recv();
        // Released before the thread ends: a closed connection's lock goes only when its
        // server process has noticed.
        other.execute("SELECT pg_advisory_unlock($1)", &[&guestpass_server::store::POSTGRES_SWEEP_LOCK]).unwrap();
    });
    done.recv().unwrap();
    assert_eq!(guestpass_server::cleanup::sweep(&app.state).await.unwrap(), 0, "the other process is sweeping");
    assert_eq!(app.count("users"), 50);
    drop(held);
    holder.join().unwrap();
    assert_eq!(guestpass_server::cleanup::sweep(&app.state).await.unwrap(), 50, "the lock is free again");
    assert_eq!(app.count("users"), 0);
}

#[tokio::test]
async fn an_unreachable_database_stops_the_start_with_its_cause_and_without_the_password() {
    // Runs in both passes: it needs no PostgreSQL server, only a port where none listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data(format!("postgres://guestpass:pa55-secret@127.0.0.1:{port}/guestpass"));
    config.files_dir = dir.path().to_owned();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let refused = Application::build(config).await.err().expect("no database, no server");
    let message = format!("{refused:#}");
    assert!(message.contains("cannot use the PostgreSQL database"), "{message}");
    assert!(message.contains("Connection refused"), "the cause: {message}");
    assert!(message.contains("guestpass:<redacted>@127.0.0.1"), "{message}");
    assert!(!message.contains("pa55-secret"), "{message}");
}

/// A JSON answer's body; panics with the status if it is not `want`.
async fn answer(resp: reqwest::Response, want: StatusCode) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, want, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_moves_between_two_processes_and_a_revocation_on_one_holds_on_the_other_at_once() {
    let Some(server) = postgres_server("one user, two processes") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let admin_key = "an-admin-key-both-processes-share-0123456789";
    let with_key = |p: &mut Command| {
        p.env("GUESTPASS_ADMIN_KEY", admin_key);
    };
    let (a, b) = (start_process_with(&db, dir.path(), with_key), start_process_with(&db, dir.path(), with_key));
    let (a, b) = (a.base.as_str(), b.base.as_str());
    let client = reqwest::Client::new();
    let session = |base: &str| format!("{base}/api/client/v2.0/auth/session");
    let profile = |base: &str| format!("{base}/api/client/v2.0/auth/profile");
    let email_login = |base: &str, link_with: Option<&str>| {
        let query = if link_with.is_some() { "?link=true" } else { "" };
        let mut req = client
            .post(app_url(base, &format!("/auth/providers/local-userpass/login{query}")))
            .json(&json!({ "username": "mover@example.com", "password": "password1" }));
        if let Some(token) = link_with {
            req = req.bearer_auth(token);
        }
        req.send()
    };

    // Made on A, refreshed and read on B, linked on A with B's access token.
    let guest = answer(
        client.post(app_url(a, "/auth/providers/anon-user/login")).json(&json!({})).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let refresh = guest["refresh_token"].as_str().unwrap();
    let refreshed = answer(client.post(session(b)).bearer_auth(refresh).send().await.unwrap(), StatusCode::OK).await;
    let access = refreshed["access_token"].as_str().unwrap();
    answer(client.get(profile(b)).bearer_auth(access).send().await.unwrap(), StatusCode::OK).await;
    let registered = client
        .post(app_url(b, "/auth/providers/local-userpass/register"))
        .json(&json!({ "email": "mover@example.com", "password": "password1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    answer(email_login(a, Some(access)).await.unwrap(), StatusCode::OK).await;
    let me = answer(client.get(profile(b)).bearer_auth(access).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(me["identities"].as_array().unwrap().len(), 2, "B sees the link made on A: {me}");

    // Logout on B: A refuses the session's refresh token at once.
    let out = client.delete(session(b)).bearer_auth(refresh).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_error(client.post(session(a)).bearer_auth(refresh).send().await.unwrap(), 401, "InvalidSession").await;

    // Disabled through B's admin API: A refuses its refresh token and its access token at once.
    let member = answer(email_login(a, None).await.unwrap(), StatusCode::OK).await;
    let (member_refresh, member_access) =
        (member["refresh_token"].as_str().unwrap(), member["access_token"].as_str().unwrap());
    let user_id = member["user_id"].as_str().unwrap();
    let disabled =
        client.post(format!("{b}/api/admin/users/{user_id}/disable")).bearer_auth(admin_key).send().await.unwrap();
    assert!(disabled.status().is_success(), "{}", disabled.status());
    assert_error(client.post(session(a)).bearer_auth(member_refresh).send().await.unwrap(), 401, "InvalidSession")
        .await;
    assert_error(client.get(profile(a)).bearer_auth(member_access).send().await.unwrap(), 401, "InvalidSession").await;

    // Enabled again and deleted on A: B refuses the new session at once.
    let enabled =
        client.post(format!("{b}/api/admin/users/{user_id}/enable")).bearer_auth(admin_key).send().await.unwrap();
    assert!(enabled.status().is_success(), "{}", enabled.status());
    let member = answer(email_login(b, None).await.unwrap(), StatusCode::OK).await;
    let deleted = client
        .delete(format!("{a}/api/client/v2.0/auth/delete"))
        .bearer_auth(member["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let refused = client.post(session(b)).bearer_auth(member["refresh_token"].as_str().unwrap()).send().await.unwrap();
    assert_error(refused, 401, "InvalidSession").await;
    assert_eq!(db.query_i64("SELECT count(*) FROM users"), 0);
}

#[tokio::test]
async fn an_anonymous_sign_up_that_fails_writes_none_of_its_rows() {
    // Runs in both passes: the PostgreSQL store writes the user, identity and session in one
    // statement, SQLite in one savepoint.
    use guestpass_server::store::{NewAnonymousUser, NewSession};
    let app = spawn_app().await;
    let taken = app.anonymous_login().await;
    let taken_session = claims(&taken.access_token)["baas_id"].as_str().unwrap().to_owned();
    let new = |session_id: &str| NewAnonymousUser {
        user_id: "0123456789abcdef01234567".into(),
        identity_id: "76543210fedcba9876543210".into(),
        session: NewSession { id: session_id.to_owned(), refresh_hash: [7; 32], device_id: "d".into() },
        now: 1,
    };
    // The session id, written last, is taken: the user and identity must not be written either.
    let clash = new(&taken_session);
    let refused = app.state.store(move |s| s.create_anonymous_user(&clash)).await;
    assert!(refused.is_err(), "a taken session id is refused");
    assert_eq!((app.count("users"), app.count("identities"), app.count("sessions")), (1, 1, 1));
    // The same write with a free session id goes through.
    let fine = new("abcdefabcdefabcdefabcdef");
    app.state.store(move |s| s.create_anonymous_user(&fine)).await.expect("a free id is written");
    assert_eq!((app.count("users"), app.count("identities"), app.count("sessions")), (2, 2, 2));
}
