//! The admin surface: key length, throttled wrong keys, no CORS for other origins, and the
//! pages' Content-Security-Policy.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

fn rate(s: &str) -> guestpass_server::config::Rate {
    guestpass_server::config::parse_rate(s).unwrap()
}

/// A 16-character key used to be accepted.
#[tokio::test]
async fn an_admin_key_under_32_bytes_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = guestpass_server::config::Config::for_data(dir.path().join("g.db"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.admin_key = Some("sixteen-chars-ok".into());
    let err = guestpass_server::startup::Application::build(config.clone()).await.err().expect("refused");
    let message = format!("{err:#}");
    assert!(message.contains("at least 32 bytes"), "{message}");
    assert!(!message.contains("sixteen-chars-ok"), "the key is never shown");
    config.admin_key = Some("x".repeat(31).as_str().into());
    assert!(guestpass_server::startup::Application::build(config.clone()).await.is_err());
    config.admin_key = Some("x".repeat(32).as_str().into());
    assert!(guestpass_server::startup::Application::build(config).await.is_ok());
}

#[tokio::test]
async fn the_generated_admin_key_is_long_enough() {
    let app = spawn_app().await;
    assert!(app.admin_key().len() >= 32, "{} bytes", app.admin_key().len());
}

/// Wrong keys used to be answered 401 without end.
#[tokio::test]
async fn wrong_admin_keys_are_throttled_and_then_even_the_right_one_waits() {
    let app = spawn_app_with(|c| c.admin_key_failure_limit = rate("3/1h")).await;
    let key = app.admin_key();
    assert_eq!(app.admin(Method::GET, "/users", Some(&key), None).await.status(), StatusCode::OK);
    for _ in 0..4 {
        assert_error(app.admin(Method::GET, "/users", Some("wrong-key"), None).await, 401, "InvalidAdminKey").await;
    }
    let throttled = app.admin(Method::GET, "/users", Some("wrong-key"), None).await;
    assert!(throttled.headers().contains_key("retry-after"));
    assert_error(throttled, 429, "TooManyRequests").await;
    let right = app.admin(Method::GET, "/users", Some(&key), None).await;
    assert_error(right, 429, "TooManyRequests").await;
}

#[tokio::test]
async fn the_console_using_its_key_is_never_throttled() {
    let app = spawn_app_with(|c| c.admin_key_failure_limit = rate("1/1h")).await;
    let key = app.admin_key();
    for _ in 0..30 {
        assert_eq!(app.admin(Method::GET, "/providers", Some(&key), None).await.status(), StatusCode::OK);
    }
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{}{path}", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap()
}

/// The admin API used to answer any origin's preflight with that origin.
#[tokio::test]
async fn the_admin_api_answers_no_other_origin_but_the_client_api_answers_all() {
    let app = spawn_app().await;
    for origin in ["https://evil.example", "null"] {
        let admin = preflight(&app, "/api/admin/users", origin).await;
        assert!(!admin.headers().contains_key("access-control-allow-origin"), "{origin}: {:?}", admin.headers());
        let key = app.admin_key();
        let get = app.client.get(format!("{}/api/admin/users", app.base)).bearer_auth(key).header("origin", origin);
        let get = get.send().await.unwrap();
        assert_eq!(get.status(), StatusCode::OK);
        assert!(!get.headers().contains_key("access-control-allow-origin"));
    }
    let client_api = preflight(&app, "/api/client/v2.0/auth/profile", "https://reader.example").await;
    assert_eq!(client_api.headers()["access-control-allow-origin"], "https://reader.example");
}

/// `/` and `/admin/` used to send no Content-Security-Policy.
#[tokio::test]
async fn the_pages_send_a_csp_that_forbids_framing() {
    let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    let app = spawn_app_with(|c| c.www = Some(www)).await;
    for page in ["/", "/admin/", "/no-such-page"] {
        let resp = app.client.get(format!("{}{page}", app.base)).send().await.unwrap();
        let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{page}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{page}: {csp}");
    }
}
