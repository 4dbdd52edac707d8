//! Commenters are shown by a display name, never by anything taken from their email, and
//! emails stay out of the server's info log.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, logged_binary::LoggedServer};

async fn first_slug(app: &TestApp, token: &str) -> String {
    let list: Value = app.blog(Method::GET, "/articles", Some(token), None).await.json().await.unwrap();
    list["articles"][0]["slug"].as_str().unwrap().to_owned()
}

/// The article as another reader (a guest) reads it, as raw text.
async fn read_as_guest(app: &TestApp, slug: &str) -> String {
    let guest = app.anonymous_login().await;
    let resp = app.blog(Method::GET, &format!("/articles/{slug}"), Some(&guest.access_token), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.unwrap()
}

#[tokio::test]
async fn a_comment_read_by_another_user_carries_no_part_of_the_email() {
    let app = spawn_app().await;
    let member = app.reader_with_account("carol.private@example.com").await;
    let slug = first_slug(&app, &member.access_token).await;
    let path = format!("/articles/{slug}/comments");
    let posted = app.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "Nice."}))).await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let named = json!({"text": "Nicer.", "name": "  Carol  "});
    assert_eq!(
        app.blog(Method::POST, &path, Some(&member.access_token), Some(named)).await.status(),
        StatusCode::CREATED
    );

    let text = read_as_guest(&app, &slug).await;
    assert!(!text.contains("carol.private") && !text.contains("example.com"), "{text}");
    let article: Value = serde_json::from_str(&text).unwrap();
    let authors: Vec<&str> =
        article["comments"].as_array().unwrap().iter().map(|c| c["author"].as_str().unwrap()).collect();
    assert_eq!(authors, ["Reader", "Carol"]);
}

#[tokio::test]
async fn a_display_name_is_short_visible_text_and_not_an_address() {
    let app = spawn_app().await;
    let member = app.reader_with_account("dave@example.com").await;
    let slug = first_slug(&app, &member.access_token).await;
    let path = format!("/articles/{slug}/comments");
    for bad in ["dave@example.com", &"x".repeat(41), "da\u{7}ve"] {
        let resp =
            app.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "hi", "name": bad}))).await;
        assert_error(resp, 400, "BadRequest").await;
    }
    assert_eq!(app.count("comments"), 0);
}

#[tokio::test]
async fn a_custom_token_name_claim_is_the_default_display_name() {
    const SECRET: &str = "an-external-backend-secret-of-32+bytes";
    let app = spawn_app_with(|c| c.custom_jwt_secret = Some(SECRET.into())).await;
    let claims = json!({"sub": "ext-1", "exp": guestpass_server::ids::now_secs() + 600, "name": "Ada", "email": "ada@example.com"});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let login: Value = app.provider_login("custom-token", json!({ "token": token }), None).await.json().await.unwrap();
    let access = login["access_token"].as_str().unwrap();
    let slug = first_slug(&app, access).await;
    let resp =
        app.blog(Method::POST, &format!("/articles/{slug}/comments"), Some(access), Some(json!({"text": "hi"}))).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let text = read_as_guest(&app, &slug).await;
    assert!(!text.contains("ada@"), "{text}");
    let article: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(article["comments"][0]["author"], "Ada");
}

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
