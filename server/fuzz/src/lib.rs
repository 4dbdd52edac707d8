//! What the HTTP-level fuzz targets share: one real server state (a SQLite file in a temp
//! directory, the real router) started once per fuzzing process, driven in-process.

use std::{net::SocketAddr, sync::OnceLock};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, HeaderValue, Method, Request, StatusCode},
    Router,
};
use guestpass_server::{config::Config, routes, startup::Application};
use tower::ServiceExt;

pub const APP_ID: &str = "fuzz";
/// The HS256 secret of `custom-token` logins; the corpus's JWTs are signed with it.
pub const CUSTOM_JWT_SECRET: &str = "guestpass-fuzz-custom-jwt-secret-0123456789";

pub struct Server {
    runtime: tokio::runtime::Runtime,
    router: Router,
    /// A live anonymous user's tokens, for inputs that start with `VALID`.
    pub access_token: String,
    pub refresh_token: String,
    _dir: tempfile::TempDir,
}

/// A request's answer: status, content type, body.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The property every target checks: a client's input never causes a 500, and every
    /// refusal is in the protocol's error shape.
    pub fn assert_well_formed(&self) {
        assert_ne!(self.status, StatusCode::INTERNAL_SERVER_ERROR, "a client's input caused a 500");
        if self.status.is_client_error() || self.status.is_server_error() {
            assert_eq!(self.content_type.as_deref(), Some("application/json"), "error content type");
            let body: serde_json::Value = serde_json::from_slice(&self.body).expect("a JSON error body");
            assert!(body["error_code"].is_string() && body["error"].is_string() && body["link"].is_string());
        }
    }
}

pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_data(dir.path().join("fuzz.db"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.app_id = APP_ID.into();
        config.custom_jwt_secret = Some(CUSTOM_JWT_SECRET.into());
        // the corpus's JWTs expire in 2100; the lifetime check still runs on every input
        config.custom_jwt_max_lifetime = std::time::Duration::from_secs(100 * 365 * 86400);
        config.anonymous_signup_limit = guestpass_server::config::parse_rate("1000000/1h").unwrap();
        let state = runtime.block_on(Application::build(config)).expect("server state").state().clone();
        let router = routes::router(state);
        let mut server =
            Server { runtime, router, access_token: String::new(), refresh_token: String::new(), _dir: dir };
        let login = server.request(
            Method::POST,
            &format!("/api/client/v2.0/app/{APP_ID}/auth/providers/anon-user/login"),
            None,
            Vec::new(),
        );
        assert_eq!(login.status, StatusCode::OK);
        let body: serde_json::Value = serde_json::from_slice(&login.body).unwrap();
        server.access_token = body["access_token"].as_str().unwrap().to_owned();
        server.refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
        server
    })
}

impl Server {
    /// Sends one request through the real router, as from 127.0.0.1.
    pub fn request(&self, method: Method, uri: &str, authorization: Option<HeaderValue>, body: Vec<u8>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        if !body.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let mut request = request.body(Body::from(body)).expect("a request");
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(request).await.expect("infallible");
            let status = response.status();
            let content_type =
                response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body").to_vec();
            Answer { status, content_type, body }
        })
    }

    /// The input as an `Authorization` header value; `VALID` at its start stands for the live
    /// token `valid`, so the fuzzer can work on near-valid tokens.
    pub fn authorization(&self, data: &[u8], valid: &str) -> Option<HeaderValue> {
        let value = match data.strip_prefix(b"VALID") {
            Some(rest) => [b"Bearer ", valid.as_bytes(), rest].concat(),
            None => data.to_vec(),
        };
        // what hyper would never hand to a handler is not worth sending
        HeaderValue::from_bytes(&value).ok()
    }
}
