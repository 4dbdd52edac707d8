//! `local-userpass`: registration, confirmation, login, reset.

use guestpass_server::config::ConfirmMode;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn email_mode_app() -> TestApp {
    spawn_app_with(|c| c.userpass_confirm = ConfirmMode::Email).await
}

#[tokio::test]
async fn a_registered_account_logs_in_as_a_new_non_anonymous_user() {
    let app = spawn_app().await;
    assert_eq!(app.register("Reader@Example.com", "correct horse").await.status(), StatusCode::CREATED);
    assert_eq!(app.count("users"), 0, "registration alone creates no user");
    let resp = app.email_login("reader@example.com", "correct horse", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(claims(body["access_token"].as_str().unwrap())["is_anonymous"], false);
    assert_eq!(body["profile"]["identities"][0]["provider_type"], "local-userpass");
    assert_eq!(body["profile"]["data"]["email"], "reader@example.com");
    // a second login is the same user
    let again: Value = app.email_login("READER@example.com", "correct horse", None).await.json().await.unwrap();
    assert_eq!(again["user_id"], body["user_id"]);
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() {
    let app = spawn_app().await;
    app.register("alice@example.com", "password1").await;
    for again in ["alice@example.com", "ALICE@Example.COM", " alice@example.com "] {
        assert_error(app.register(again, "password2").await, 409, "AccountNameInUse").await;
    }
    assert_eq!(app.register("alice+news@example.com", "password3").await.status(), StatusCode::CREATED);
    assert_eq!(app.count("userpass_accounts"), 2);
}

#[tokio::test]
async fn bad_registrations_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    for (email, password) in [
        ("not-an-email", "password1"),
        ("a\r\n@x.com", "password1"),
        ("@example.com", "password1"),
        ("ok@example.com", "12345"),
        ("ok@example.com", &"p".repeat(129)),
    ] {
        assert_error(app.register(email, password).await, 400, "BadRequest").await;
    }
    let missing = app.post_json(&app.userpass_url("register"), r#"{"email":"ok@example.com"}"#).await;
    assert_error(missing, 400, "BadRequest").await;
    let wrong_type = app.post_json(&app.userpass_url("register"), r#"{"email":5,"password":"password1"}"#).await;
    assert_error(wrong_type, 400, "BadRequest").await;
    assert_eq!(app.count("userpass_accounts"), 0);
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_is_one_answer() {
    let app = spawn_app().await;
    app.register("bob@example.com", "password1").await;
    let wrong = assert_error(app.email_login("bob@example.com", "password2", None).await, 401, "InvalidPassword").await;
    let unknown =
        assert_error(app.email_login("nobody@example.com", "password1", None).await, 401, "InvalidPassword").await;
    assert_eq!(wrong, unknown, "no account enumeration through login");
    assert_eq!(wrong["error"], "invalid username/password", "never 'unauthorized': realm-web would retry it");
    assert_eq!(app.count("users"), 0);
}

#[tokio::test]
async fn a_pending_account_cannot_log_in_until_confirmed() {
    let app = email_mode_app().await;
    app.register("carol@example.com", "password1").await;
    assert_error(app.email_login("carol@example.com", "password1", None).await, 401, "AuthError").await;
    let mail = app.outbox().pop().expect("a confirmation mail");
    assert_eq!((mail["to"].as_str(), mail["kind"].as_str()), (Some("carol@example.com"), Some("confirm")));
    let link = mail["link"].as_str().unwrap();
    assert!(link.contains("token=") && link.contains("tokenId="), "{link}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.state.config.outbox_path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the outbox is readable by its owner only");
    }
    let resp = app
        .post_json(
            &app.userpass_url("confirm"),
            &json!({"token": mail["token"], "tokenId": mail["tokenId"]}).to_string(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.email_login("carol@example.com", "password1", None).await.status(), StatusCode::OK);
    // a used token is gone
    let reuse = app
        .post_json(
            &app.userpass_url("confirm"),
            &json!({"token": mail["token"], "tokenId": mail["tokenId"]}).to_string(),
        )
        .await;
    assert_error(reuse, 400, "UserpassTokenInvalid").await;
}

#[tokio::test]
async fn a_wrong_or_expired_confirmation_token_is_refused() {
    let app = spawn_app_with(|c| {
        c.userpass_confirm = ConfirmMode::Email;
        c.userpass_token_ttl = std::time::Duration::from_secs(1);
    })
    .await;
    app.register("dan@example.com", "password1").await;
    let mail = app.outbox().pop().unwrap();
    let wrong = json!({"token": "not-the-token", "tokenId": mail["tokenId"]}).to_string();
    assert_error(app.post_json(&app.userpass_url("confirm"), &wrong).await, 400, "UserpassTokenInvalid").await;
    let unknown_id = json!({"token": mail["token"], "tokenId": "000000000000000000000000"}).to_string();
    assert_error(app.post_json(&app.userpass_url("confirm"), &unknown_id).await, 400, "UserpassTokenInvalid").await;
    sleep(2.1).await;
    let late = json!({"token": mail["token"], "tokenId": mail["tokenId"]}).to_string();
    assert_error(app.post_json(&app.userpass_url("confirm"), &late).await, 400, "UserpassTokenInvalid").await;
    assert_error(app.email_login("dan@example.com", "password1", None).await, 401, "AuthError").await;
}

#[tokio::test]
async fn resending_a_confirmation_mails_pending_accounts_only() {
    let app = email_mode_app().await;
    app.register("erin@example.com", "password1").await;
    let resend = |email: &str| json!({ "email": email }).to_string();
    let resp = app.post_json(&app.userpass_url("confirm/send"), &resend("erin@example.com")).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.outbox().len(), 2);
    // Unknown and confirmed accounts get the same answer (see mail_limits.rs) and no mail.
    let unknown = app.post_json(&app.userpass_url("confirm/send"), &resend("nobody@example.com")).await;
    assert_eq!(unknown.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.outbox().len(), 2);
    let auto = spawn_app().await;
    auto.register("fay@example.com", "password1").await;
    let confirmed = auto.post_json(&auto.userpass_url("confirm/send"), &resend("fay@example.com")).await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    assert!(auto.outbox().is_empty());
}

#[tokio::test]
async fn a_password_reset_changes_the_password_and_ends_every_session() {
    let app = spawn_app().await;
    app.register("gus@example.com", "old-password").await;
    let before: Value = app.email_login("gus@example.com", "old-password", None).await.json().await.unwrap();
    let resp = app.post_json(&app.userpass_url("reset/send"), r#"{"email":"gus@example.com"}"#).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let mail = app.outbox().pop().unwrap();
    assert_eq!(mail["kind"], "reset");
    let short = json!({"token": mail["token"], "tokenId": mail["tokenId"], "password": "123"}).to_string();
    assert_error(app.post_json(&app.userpass_url("reset"), &short).await, 400, "BadRequest").await;
    let reset = json!({"token": mail["token"], "tokenId": mail["tokenId"], "password": "new-password"}).to_string();
    assert_eq!(app.post_json(&app.userpass_url("reset"), &reset).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.email_login("gus@example.com", "old-password", None).await, 401, "InvalidPassword").await;
    assert_eq!(app.email_login("gus@example.com", "new-password", None).await.status(), StatusCode::OK);
    assert_error(app.refresh(before["refresh_token"].as_str().unwrap()).await, 401, "InvalidSession").await;
    let mails = app.outbox().len();
    let unknown = app.post_json(&app.userpass_url("reset/send"), r#"{"email":"nobody@example.com"}"#).await;
    assert_eq!(unknown.status(), StatusCode::NO_CONTENT, "the same answer as for a registered email");
    assert_eq!(app.outbox().len(), mails, "and no mail");
}
