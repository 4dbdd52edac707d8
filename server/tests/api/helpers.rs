use std::{path::PathBuf, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use guestpass_server::{config::Config, startup::Application};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

pub const APP_ID: &str = "test-app";

pub struct TestApp {
    pub base: String,
    pub state: guestpass_server::state::AppState,
    pub data: PathBuf,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

/// A server with the default configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server with a configuration adjusted by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("guestpass.db");
    let (base, state, server) = start(&data, adjust).await;
    TestApp { base, state, data, client: reqwest::Client::new(), _dir: dir, server }
}

async fn start(
    data: &std::path::Path,
    adjust: impl FnOnce(&mut Config),
) -> (String, guestpass_server::state::AppState, tokio::task::JoinHandle<()>) {
    let mut config = Config::for_data(data);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.app_id = APP_ID.into();
    adjust(&mut config);
    let app = Application::build(config).await.expect("server starts");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let handle = tokio::spawn(async move {
        app.run_until_stopped().await.expect("server runs");
    });
    (base, state, handle)
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
        let (base, state, handle) = start(&self.data, |_| {}).await;
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

    /// A request to the blog API as `bearer`.
    pub async fn blog(&self, method: Method, path: &str, bearer: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, format!("{}/api/blog{path}", self.base));
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request sent")
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
        std::fs::read_to_string(self.data.with_file_name("guestpass.db.admin-key")).expect("generated admin key")
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
        let path = self.data.with_file_name("guestpass.db.outbox");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }

    /// Rows in `table`, read straight from the database file.
    pub fn count(&self, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.data).unwrap();
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
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
