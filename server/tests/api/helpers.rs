use std::{path::PathBuf, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use guestpass_server::{config::Config, startup::Application};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

pub const APP_ID: &str = "test-app";

pub struct TestApp {
    pub base: String,
    pub state: guestpass_server::state::AppState,
    /// What `--data` is: the SQLite file, or the URL of this test's PostgreSQL database.
    pub data: PathBuf,
    pub db: TestDb,
    pub client: reqwest::Client,
    /// `http://ADDR` of the metrics listener, when `metrics_listen` was set.
    pub metrics: Option<String>,
    dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

/// A server with the default configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server with a configuration adjusted by `adjust`, on a fresh database: a SQLite file in
/// a temporary directory, or, when `GUESTPASS_TEST_DATABASE_URL` is set, a new PostgreSQL
/// database on that server (scripts/test.sh runs the suite once each way).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::create(dir.path());
    let data = db.data();
    let (base, state, server, metrics) = start(&data, dir.path(), adjust).await;
    TestApp { base, state, data, db, client: reqwest::Client::new(), metrics, dir, server }
}

/// A server on a new database of the PostgreSQL server at `server` (tests that need a
/// cluster of their own, e.g. to restart it).
pub async fn spawn_app_on_postgres(server: &str, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::Postgres { server: server.to_owned(), name: create_postgres_database(server) };
    let data = db.data();
    let (base, state, handle, metrics) = start(&data, dir.path(), adjust).await;
    TestApp { base, state, data, db, client: reqwest::Client::new(), metrics, dir, server: handle }
}

/// The database of one test, reachable from the test itself to count and age rows.
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres { server: String, name: String },
}

/// The PostgreSQL server the suite runs against, if it does.
pub fn test_database_url() -> Option<String> {
    std::env::var("GUESTPASS_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// Whether the suite runs against SQLite; else `test` (one about the SQLite file itself) says
/// it is skipped, as the PostgreSQL-only tests do in the SQLite pass.
pub fn sqlite_pass(test: &str) -> bool {
    let sqlite = test_database_url().is_none();
    if !sqlite {
        eprintln!("{test}: skipped, it is about the SQLite file and GUESTPASS_TEST_DATABASE_URL is set");
    }
    sqlite
}

/// Runs `f` with a connection to `url`, on a thread of its own: the PostgreSQL client blocks,
/// which tokio forbids on the thread that runs a test.
pub fn with_postgres<T: Send>(url: &str, f: impl FnOnce(&mut postgres::Client) -> T + Send) -> T {
    try_with_postgres(url, f).expect("test database reachable")
}

pub fn try_with_postgres<T: Send>(
    url: &str,
    f: impl FnOnce(&mut postgres::Client) -> T + Send,
) -> Result<T, postgres::Error> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut client = postgres::Client::connect(url, postgres::NoTls)?;
                Ok(f(&mut client))
            })
            .join()
            .expect("database thread")
    })
}

/// `url` with its database name replaced by `name`.
pub fn database_url(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let root = &base[..base.rfind('/').filter(|i| *i > base.find("://").unwrap() + 2).unwrap_or(base.len())];
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// A new, empty PostgreSQL database on the test server; returns its name.
pub fn create_postgres_database(server: &str) -> String {
    let name = format!("guestpass_test_{:016x}", rand_u64());
    let sql = format!("CREATE DATABASE {name}");
    with_postgres(server, |c| c.batch_execute(&sql)).expect("test database created");
    name
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    h.finish()
}

impl TestDb {
    pub fn create(dir: &std::path::Path) -> TestDb {
        match test_database_url() {
            Some(server) => {
                let name = create_postgres_database(&server);
                TestDb::Postgres { server, name }
            }
            None => TestDb::Sqlite(dir.join("guestpass.db")),
        }
    }

    pub fn data(&self) -> PathBuf {
        match self {
            TestDb::Sqlite(path) => path.clone(),
            TestDb::Postgres { server, name } => PathBuf::from(database_url(server, name)),
        }
    }

    /// Runs statements given as SQL text that both SQLite and PostgreSQL read alike.
    pub fn execute(&self, sql: &str) {
        match self {
            TestDb::Sqlite(path) => rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap(),
            TestDb::Postgres { .. } => with_postgres(&self.url(), |c| c.batch_execute(sql)).unwrap(),
        }
    }

    /// The one integer `sql` selects.
    pub fn query_i64(&self, sql: &str) -> i64 {
        match self {
            TestDb::Sqlite(path) => rusqlite::Connection::open(path).unwrap().query_row(sql, [], |r| r.get(0)).unwrap(),
            TestDb::Postgres { .. } => with_postgres(&self.url(), |c| c.query_one(sql, &[]).unwrap().get(0)),
        }
    }

    /// Every stored refresh-token hash, and the sessions' other columns as text.
    pub fn session_rows(&self) -> (Vec<Vec<u8>>, String) {
        const SQL: &str = "SELECT refresh_hash, id || user_id || device_id FROM sessions";
        match self {
            TestDb::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut stmt = conn.prepare(SQL).unwrap();
                let rows: Vec<(Vec<u8>, String)> =
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
                (rows.iter().map(|r| r.0.clone()).collect(), rows.iter().map(|r| r.1.as_str()).collect())
            }
            TestDb::Postgres { .. } => with_postgres(&self.url(), |c| {
                let rows = c.query(SQL, &[]).unwrap();
                (rows.iter().map(|r| r.get(0)).collect(), rows.iter().map(|r| r.get::<_, String>(1)).collect())
            }),
        }
    }

    fn url(&self) -> String {
        self.data().to_str().unwrap().to_owned()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { server, name } = self {
            // FORCE ends the connections of the server under test, which is being dropped too.
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = try_with_postgres(server, |c| c.batch_execute(&sql));
        }
    }
}

async fn start(
    data: &std::path::Path,
    files_dir: &std::path::Path,
    adjust: impl FnOnce(&mut Config),
) -> (String, guestpass_server::state::AppState, tokio::task::JoinHandle<()>, Option<String>) {
    let mut config = Config::for_data(data);
    config.files_dir = files_dir.to_owned();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.app_id = APP_ID.into();
    adjust(&mut config);
    let app = Application::build(config).await.expect("server starts");
    let base = format!("http://{}", app.local_addr());
    let metrics = app.metrics_addr().map(|addr| format!("http://{addr}"));
    let state = app.state().clone();
    let handle = tokio::spawn(async move {
        app.run_until_stopped().await.expect("server runs");
    });
    (base, state, handle, metrics)
}

/// A logged-in anonymous user as the client sees it.
#[derive(Debug, Clone)]
pub struct Login {
    pub user_id: String,
    pub access_token: String,
    pub refresh_token: String,
    pub device_id: String,
    pub body: Value,
}

impl TestApp {
    /// Stops this server and starts another on the same data file (and so the same key).
    pub async fn restart(&mut self) {
        self.server.abort();
        let _ = (&mut self.server).await;
        let (base, state, handle, metrics) = start(&self.data, self.dir.path(), |_| {}).await;
        self.metrics = metrics;
        self.base = base;
        self.state = state;
        self.server = handle;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/client/v2.0{path}", self.base)
    }

    pub fn app_url(&self, path: &str) -> String {
        self.url(&format!("/app/{APP_ID}{path}"))
    }

    pub async fn send(&self, method: Method, url: &str, bearer: Option<&str>) -> Response {
        let mut req = self.client.request(method, url);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post_json(&self, url: &str, body: &str) -> Response {
        self.client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent")
    }

    pub async fn anonymous_login(&self) -> Login {
        let resp = self
            .post_json(
                &self.app_url("/auth/providers/anon-user/login"),
                r#"{"options":{"device":{"sdkVersion":"test"}}}"#,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        Login {
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
            device_id: body["device_id"].as_str().unwrap().to_owned(),
            body,
        }
    }

    pub async fn profile(&self, access_token: &str) -> Response {
        self.send(Method::GET, &self.url("/auth/profile"), Some(access_token)).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.send(Method::POST, &self.url("/auth/session"), Some(refresh_token)).await
    }

    pub async fn logout(&self, refresh_token: &str) -> Response {
        self.send(Method::DELETE, &self.url("/auth/session"), Some(refresh_token)).await
    }

    pub async fn delete_me(&self, access_token: &str) -> Response {
        self.send(Method::DELETE, &self.url("/auth/delete"), Some(access_token)).await
    }

    pub fn userpass_url(&self, action: &str) -> String {
        self.app_url(&format!("/auth/providers/local-userpass/{action}"))
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        let body = serde_json::json!({ "email": email, "password": password }).to_string();
        self.post_json(&self.userpass_url("register"), &body).await
    }

    /// Logs in (or links, with `link_with` = the linking user's access token) with a provider.
    pub async fn provider_login(&self, provider: &str, body: Value, link_with: Option<&str>) -> Response {
        let mut url = self.app_url(&format!("/auth/providers/{provider}/login"));
        let mut req = self.client.post(&url).json(&body);
        if let Some(token) = link_with {
            url.push_str("?link=true");
            req = self.client.post(&url).json(&body).bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    pub async fn email_login(&self, email: &str, password: &str, link_with: Option<&str>) -> Response {
        let body = serde_json::json!({ "username": email, "password": password });
        self.provider_login("local-userpass", body, link_with).await
    }

    /// A request to the admin API with `key`.
    pub async fn admin(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, format!("{}/api/admin{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request sent")
    }

    /// The admin key the server generated beside its data.
    pub fn admin_key(&self) -> String {
        std::fs::read_to_string(self.state.config.admin_key_path()).expect("generated admin key")
    }

    /// An anonymous user linked to a new email account: a reader with an account.
    pub async fn reader_with_account(&self, email: &str) -> Login {
        let mut login = self.anonymous_login().await;
        assert_eq!(self.register(email, "password1").await.status(), StatusCode::CREATED);
        let linked: Value = self.email_login(email, "password1", Some(&login.access_token)).await.json().await.unwrap();
        login.access_token = linked["access_token"].as_str().unwrap().to_owned();
        login
    }

    /// The mails in the outbox, oldest first.
    pub fn outbox(&self) -> Vec<Value> {
        std::fs::read_to_string(self.state.config.outbox_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }

    /// Rows in `table`, read straight from the database.
    pub fn count(&self, table: &str) -> i64 {
        self.db.query_i64(&format!("SELECT count(*) FROM {table}"))
    }
}

/// Asserts the protocol's error shape and returns the body.
pub async fn assert_error(resp: Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/json"), "error content type");
    let body: Value = resp.json().await.expect("JSON error body");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    assert!(body["link"].is_string(), "{body}");
    body
}

/// The claims of a JWT, decoded without verifying it (as clients do).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub fn is_hex24(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn sleep(secs: f64) {
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
}
