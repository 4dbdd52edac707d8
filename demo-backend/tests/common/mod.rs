//! A real auth server (guestpass-server, its own SQLite file, a free port) and this backend
//! (its own SQLite file, a free port) talking to each other over HTTP, as in the demo.
#![allow(dead_code)]

use guestpass_server::{config::Config as AuthConfig, startup::Application};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

pub const APP_ID: &str = "blog-test";

pub struct AuthServer {
    pub base: String,
    pub client: reqwest::Client,
    /// The running server's state (its key ring, to sign proofs a test needs).
    pub state: guestpass_server::state::AppState,
    _dir: tempfile::TempDir,
}

pub async fn auth_server(adjust: impl FnOnce(&mut AuthConfig)) -> AuthServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AuthConfig::for_data(dir.path().join("auth.db"));
    config.files_dir = dir.path().to_owned();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.app_id = APP_ID.into();
    adjust(&mut config);
    let app = Application::build(config).await.expect("the auth server starts");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    tokio::spawn(async move { app.run_until_stopped().await.expect("the auth server runs") });
    AuthServer { base, client: reqwest::Client::new(), state, _dir: dir }
}

/// A user as the client sees it after logging in.
#[derive(Debug, Clone)]
pub struct Login {
    pub user_id: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl AuthServer {
    fn app_url(&self, route: &str) -> String {
        format!("{}/api/client/v2.0/app/{APP_ID}{route}", self.base)
    }

    pub async fn login(&self, provider: &str, body: Value) -> Value {
        let resp =
            self.client.post(self.app_url(&format!("/auth/providers/{provider}/login"))).json(&body).send().await;
        let resp = resp.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    pub async fn anonymous_login(&self) -> Login {
        let body = self.login("anon-user", json!({"options": {"device": {"sdkVersion": "test"}}})).await;
        Login {
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A guest who then created an account (email and password linked to it).
    pub async fn reader_with_account(&self, email: &str) -> Login {
        let mut login = self.anonymous_login().await;
        let register = self.client.post(self.app_url("/auth/providers/local-userpass/register"));
        let registered = register.json(&json!({"email": email, "password": "password1"})).send().await.unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let linked = self
            .client
            .post(self.app_url("/auth/providers/local-userpass/login?link=true"))
            .bearer_auth(&login.access_token)
            .json(&json!({"username": email, "password": "password1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(linked.status(), StatusCode::OK);
        let linked: Value = linked.json().await.unwrap();
        login.access_token = linked["access_token"].as_str().unwrap().to_owned();
        login
    }

    /// `DELETE /auth/session`: ends the session of `refresh_token` (a logout).
    pub async fn log_out(&self, refresh_token: &str) {
        let url = format!("{}/api/client/v2.0/auth/session", self.base);
        let resp = self.client.delete(url).bearer_auth(refresh_token).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }

    /// Registers an email account (confirmed at once, the default) and logs in to it.
    pub async fn account(&self, email: &str) -> Login {
        let register = self.client.post(self.app_url("/auth/providers/local-userpass/register"));
        let registered = register.json(&json!({"email": email, "password": "password1"})).send().await.unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let body = self.login("local-userpass", json!({"username": email, "password": "password1"})).await;
        Login {
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// `login?merge=true` as `guest` into the account `email`: the account's login and the
    /// answer's `merge` object.
    pub async fn merge_login(&self, guest: &Login, email: &str) -> (Login, Value) {
        let resp = self
            .client
            .post(self.app_url("/auth/providers/local-userpass/login?merge=true"))
            .bearer_auth(&guest.access_token)
            .json(&json!({"username": email, "password": "password1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        let login = Login {
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        };
        (login, body["merge"].clone())
    }

    pub async fn delete_me(&self, access_token: &str) {
        let url = format!("{}/api/client/v2.0/auth/delete", self.base);
        let resp = self.client.delete(url).bearer_auth(access_token).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
}

pub struct Backend {
    pub base: String,
    pub data: std::path::PathBuf,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The demo backend for `auth`'s tokens, with `adjust` applied to its configuration.
pub async fn backend(auth: &AuthServer, adjust: impl FnOnce(&mut guestpass_demo_backend::config::Config)) -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("blog.db");
    let mut config = guestpass_demo_backend::config::Config::new(&auth.base, APP_ID, data.clone());
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = guestpass_demo_backend::build(config).await.expect("the backend starts");
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Backend { base, data, client: reqwest::Client::new(), _dir: dir }
}

impl Backend {
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

    pub async fn first_slug(&self, token: &str) -> String {
        let list: Value = self.blog(Method::GET, "/articles", Some(token), None).await.json().await.unwrap();
        list["articles"][0]["slug"].as_str().expect("articles are seeded").to_owned()
    }

    /// The article as another reader sees it, as raw text.
    pub async fn article_text(&self, slug: &str, token: &str) -> String {
        let resp = self.blog(Method::GET, &format!("/articles/{slug}"), Some(token), None).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.text().await.unwrap()
    }

    /// Rows in `table` of the backend's own file.
    pub fn count(&self, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.data).unwrap();
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }
}

/// Asserts the error shape `{error, error_code, link}` as JSON with this status and code.
pub async fn assert_error(resp: Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["error"].is_string() && body["link"].is_string(), "{body}");
    body
}
