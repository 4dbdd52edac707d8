//! Linking: an anonymous user keeps its id when it gains an email/password identity.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// An anonymous user and a registered (not yet linked) email account.
async fn anonymous_with_account(app: &TestApp, email: &str) -> Login {
    let login = app.anonymous_login().await;
    assert_eq!(app.register(email, "password1").await.status(), StatusCode::CREATED);
    login
}

#[tokio::test]
async fn linking_keeps_the_user_id_and_session_and_ends_anonymity() {
    let app = spawn_app().await;
    let anon = anonymous_with_account(&app, "reader@example.com").await;
    let resp = app.email_login("reader@example.com", "password1", Some(&anon.access_token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user_id"], anon.user_id.as_str());
    assert!(body.get("refresh_token").is_none(), "the session's refresh token stays the one the client has");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["is_anonymous"], false);
    let types: Vec<&str> = body["profile"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["provider_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["anon-user", "local-userpass"]);
    // the old refresh token still works and now mints non-anonymous tokens
    let fresh: Value = app.refresh(&anon.refresh_token).await.json().await.unwrap();
    assert_eq!(claims(fresh["access_token"].as_str().unwrap())["is_anonymous"], false);
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn logging_in_with_a_linked_email_returns_the_former_anonymous_user() {
    let app = spawn_app().await;
    let anon = anonymous_with_account(&app, "keeper@example.com").await;
    app.email_login("keeper@example.com", "password1", Some(&anon.access_token)).await;
    // the browser's data is cleared: the only way back is the email
    let back: Value = app.email_login("keeper@example.com", "password1", None).await.json().await.unwrap();
    assert_eq!(back["user_id"], anon.user_id.as_str());
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn a_linked_user_survives_logout() {
    let app = spawn_app().await;
    let anon = anonymous_with_account(&app, "stays@example.com").await;
    app.email_login("stays@example.com", "password1", Some(&anon.access_token)).await;
    assert_eq!(app.logout(&anon.refresh_token).await.status(), StatusCode::NO_CONTENT);
    let back: Value = app.email_login("stays@example.com", "password1", None).await.json().await.unwrap();
    assert_eq!(back["user_id"], anon.user_id.as_str());
}

#[tokio::test]
async fn linking_an_email_owned_by_another_user_is_a_conflict_that_changes_nothing() {
    let app = spawn_app().await;
    app.register("taken@example.com", "password1").await;
    let owner: Value = app.email_login("taken@example.com", "password1", None).await.json().await.unwrap();
    let anon = app.anonymous_login().await;
    let resp = app.email_login("taken@example.com", "password1", Some(&anon.access_token)).await;
    let body = assert_error(resp, 409, "AccountNameInUse").await;
    assert_ne!(body["error"], "unauthorized");
    // the anonymous user is untouched and usable
    let profile: Value = app.profile(&anon.access_token).await.json().await.unwrap();
    assert_eq!(profile["identities"].as_array().unwrap().len(), 1);
    assert_eq!(app.refresh(&anon.refresh_token).await.status(), StatusCode::OK);
    // and the owner still owns the email
    let again: Value = app.email_login("taken@example.com", "password1", None).await.json().await.unwrap();
    assert_eq!(again["user_id"], owner["user_id"]);
    assert_eq!(app.count("identities"), 2);
}

#[tokio::test]
async fn a_wrong_password_while_linking_leaves_the_anonymous_user_usable() {
    let app = spawn_app().await;
    let anon = anonymous_with_account(&app, "oops@example.com").await;
    let resp = app.email_login("oops@example.com", "not-the-password", Some(&anon.access_token)).await;
    assert_error(resp, 401, "InvalidPassword").await;
    assert_eq!(app.profile(&anon.access_token).await.status(), StatusCode::OK);
    assert_eq!(app.refresh(&anon.refresh_token).await.status(), StatusCode::OK);
    assert_eq!(app.count("identities"), 1);
}

#[tokio::test]
async fn linking_needs_a_live_access_token() {
    let app = spawn_app().await;
    let anon = anonymous_with_account(&app, "who@example.com").await;
    assert_error(app.email_login("who@example.com", "password1", Some("garbage")).await, 401, "InvalidSession").await;
    let url = format!("{}?link=true", app.app_url("/auth/providers/local-userpass/login"));
    let no_token =
        app.client.post(url).json(&serde_json::json!({"username": "who@example.com", "password": "password1"}));
    assert_error(no_token.send().await.unwrap(), 401, "MissingAuthReq").await;
    // a refresh token is not an access token
    assert_error(
        app.email_login("who@example.com", "password1", Some(&anon.refresh_token)).await,
        401,
        "InvalidSession",
    )
    .await;
    // a logged-out session cannot link
    let other = app.anonymous_login().await;
    app.logout(&other.refresh_token).await;
    assert_error(
        app.email_login("who@example.com", "password1", Some(&other.access_token)).await,
        401,
        "InvalidSession",
    )
    .await;
    assert_eq!(app.count("identities"), 1);
}

#[tokio::test]
async fn many_users_racing_to_link_one_email_leave_one_winner_and_no_orphans() {
    let app = spawn_app().await;
    app.register("race@example.com", "password1").await;
    let mut racers = Vec::new();
    for _ in 0..16 {
        racers.push(app.anonymous_login().await);
    }
    let attempts = racers.iter().map(|r| app.email_login("race@example.com", "password1", Some(&r.access_token)));
    let statuses: Vec<u16> = join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 15, "{statuses:?}");
    let linked = app.db.query_i64("SELECT count(*) FROM identities WHERE provider_type = 'local-userpass'");
    let anonymous = app.db.query_i64("SELECT count(*) FROM users WHERE is_anonymous");
    let orphans = app.db.query_i64("SELECT count(*) FROM identities WHERE user_id NOT IN (SELECT id FROM users)");
    assert_eq!((linked, anonymous, orphans), (1, 15, 0));
}

#[tokio::test]
async fn after_deleting_a_linked_user_its_email_no_longer_logs_in() {
    let app = spawn_app().await;
    let anon = anonymous_with_account(&app, "gone@example.com").await;
    let linked: Value =
        app.email_login("gone@example.com", "password1", Some(&anon.access_token)).await.json().await.unwrap();
    assert_eq!(app.delete_me(linked["access_token"].as_str().unwrap()).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.email_login("gone@example.com", "password1", None).await, 401, "InvalidPassword").await;
    assert_eq!((app.count("users"), app.count("identities"), app.count("userpass_accounts")), (0, 0, 0));
}
