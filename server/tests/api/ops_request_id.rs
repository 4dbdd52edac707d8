//! Request ids: made for each request, or taken from `X-Request-Id` when a trusted proxy sent
//! it; sent back in the answer's `X-Request-Id` and carried by the request's log lines.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{helpers::*, logged_binary::LoggedServer};

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn request_id(app: &TestApp, sent: Option<&str>) -> String {
    let mut req = app.client.get(app.url("/no/such/route"));
    if let Some(id) = sent {
        req = req.header("x-request-id", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    resp.headers().get("x-request-id").expect("an error answer carries its request id").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_request_gets_its_own_id_and_a_client_cannot_choose_it() {
    let app = spawn_app().await;
    let (a, b) = (request_id(&app, None).await, request_id(&app, None).await);
    assert!(is_hex32(&a) && is_hex32(&b) && a != b, "{a} {b}");
    let chosen = request_id(&app, Some("chosen-by-the-client")).await;
    assert!(is_hex32(&chosen), "an untrusted peer's X-Request-Id was taken: {chosen}");
}

#[tokio::test]
async fn a_trusted_proxys_request_id_is_kept() {
    let app = spawn_app_with(|c| c.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()]).await;
    assert_eq!(request_id(&app, Some("lb-7f3a")).await, "lb-7f3a");
    // Unprintable or overlong ids are replaced, not logged.
    assert!(is_hex32(&request_id(&app, Some(&"x".repeat(200))).await));
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let key = "an-admin-key-that-is-long-enough-0123456789";
    let server = LoggedServer::start(
        env!("CARGO_BIN_EXE_guestpass-server"),
        [
            "--log-format".as_ref(),
            "json".as_ref(),
            "--admin-key".as_ref(),
            key.as_ref(),
            "--data".as_ref(),
            dir.path().join("g.db").as_os_str(),
        ],
    );
    let client = reqwest::Client::new();
    let wrong_key = "a-wrong-admin-key-guessed-by-someone-0000";
    let resp = client.get(format!("{}/api/admin/users", server.url)).bearer_auth(wrong_key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(server.wait_for_log("admin API request with a wrong key").await, "{}", server.log());
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    let warned = lines.iter().find(|l| l["message"] == "admin API request with a wrong key").unwrap();
    assert_eq!(warned["level"], "WARN");
    assert_eq!(warned["span"]["id"], id.as_str(), "the line carries the request's id: {warned}");
    assert!(!log.contains(wrong_key) && !log.contains(key), "a key was logged:\n{log}");
}
