//! The server as built for release (`cargo build --release -p guestpass-server`): its panic
//! guards must hold there too, which needs the release profile to unwind (Cargo.toml).
//! Run by `scripts/test.sh release`, which builds it and sets GUESTPASS_RELEASE_BIN.

#[path = "api/logged_binary.rs"]
mod logged_binary;

use logged_binary::LoggedServer;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
#[ignore = "needs the release build: run `scripts/test.sh release`"]
async fn a_handler_panic_in_the_release_build_answers_500_and_the_server_goes_on() {
    let binary = std::env::var("GUESTPASS_RELEASE_BIN")
        .expect("GUESTPASS_RELEASE_BIN names the release-built server (scripts/test.sh release sets it)");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("release.db");
    let server = LoggedServer::start(
        &binary,
        ["--app-id".into(), "release".into(), "--test-panic-route".into(), "--data".into(), data.into_os_string()]
            as [std::ffi::OsString; 5],
    );
    let client = reqwest::Client::new();
    for round in 0..5 {
        let resp = client.get(format!("{}/api/test/panic", server.url)).send().await.unwrap_or_else(|e| {
            panic!("round {round}: no answer to a panicking handler ({e}); the server logged:\n{}", server.log())
        });
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(resp.headers()["content-type"], "application/json");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error_code"], "InternalServerError", "{body}");
        assert!(body["error"].is_string() && body["link"].is_string(), "{body}");
    }
    let login = client
        .post(format!("{}/api/client/v2.0/app/release/auth/providers/anon-user/login", server.url))
        .send()
        .await
        .expect("the server goes on serving after the panics");
    assert_eq!(login.status(), StatusCode::OK);
    assert!(server.wait_for_log("a handler panicked").await, "the panic is logged:\n{}", server.log());
}
