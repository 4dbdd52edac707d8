//! Emails stay out of the server's info log.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::logged_binary::LoggedServer;

/// Every route that handles an email, on the binary with everything logged at info level: the
/// address never appears in the log (it does in the outbox, the mail channel).
#[tokio::test]
async fn emails_stay_out_of_the_info_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("logs.db");
    let server = LoggedServer::start(
        env!("CARGO_BIN_EXE_guestpass-server"),
        [
            "--app-id".into(),
            "logs".into(),
            "--userpass-confirm".into(),
            "email".into(),
            "--data".into(),
            data.as_os_str().to_owned(),
        ] as [std::ffi::OsString; 6],
    );
    let client = reqwest::Client::new();
    let userpass =
        |action: &str| format!("{}/api/client/v2.0/app/logs/auth/providers/local-userpass/{action}", server.url);
    let email = "erin.secretive@example.com";
    let post = |url: String, body: Value| {
        let client = client.clone();
        async move { client.post(url).json(&body).send().await.unwrap().status() }
    };
    assert_eq!(post(userpass("register"), json!({"email": email, "password": "password1"})).await, StatusCode::CREATED);
    assert_eq!(post(userpass("confirm/send"), json!({ "email": email })).await, StatusCode::NO_CONTENT);
    let mails = || -> Vec<Value> {
        std::fs::read_to_string(dir.path().join("logs.db.outbox"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let confirm = mails()[0].clone();
    let confirmed = post(userpass("confirm"), json!({"token": confirm["token"], "tokenId": confirm["tokenId"]})).await;
    assert_eq!(confirmed, StatusCode::NO_CONTENT);
    let login_url = format!("{}/api/client/v2.0/app/logs/auth/providers/local-userpass/login", server.url);
    assert_eq!(post(login_url.clone(), json!({"username": email, "password": "password1"})).await, StatusCode::OK);
    assert_eq!(post(userpass("reset/send"), json!({ "email": email })).await, StatusCode::NO_CONTENT);
    let reset = mails().into_iter().find(|m| m["kind"] == "reset").unwrap();
    let body = json!({"token": reset["token"], "tokenId": reset["tokenId"], "password": "password2"});
    assert_eq!(post(userpass("reset"), body).await, StatusCode::NO_CONTENT);
    assert_eq!(post(login_url, json!({"username": email, "password": "password2"})).await, StatusCode::OK);

    assert!(server.wait_for_log("password reset").await, "{}", server.log());
    assert!(mails().iter().all(|m| m["to"] == email), "the outbox still addresses the mails");
    let log = server.log();
    assert!(log.contains("mail written to the outbox"), "the mails were logged:\n{log}");
    assert!(!log.contains("erin.secretive"), "an email is in the log:\n{log}");
}
