use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn the_profile_lists_the_anonymous_identity() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let resp = app.profile(&login.access_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let profile: Value = resp.json().await.unwrap();
    assert_eq!(profile["user_id"], login.user_id.as_str());
    assert_eq!(profile["type"], "normal");
    assert_eq!(profile["identities"][0]["provider_type"], "anon-user");
    assert!(profile["data"].is_object());
}

#[tokio::test]
async fn refresh_answers_only_a_new_access_token_that_works() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let resp = app.refresh(&login.refresh_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access_token"], "the refresh token is not rotated");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(app.profile(access).await.status(), StatusCode::OK);
    // the original refresh token keeps working
    assert_eq!(app.refresh(&login.refresh_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_expired_access_token_is_an_invalid_session_and_a_refresh_recovers() {
    let app = spawn_app_with(|c| c.access_token_ttl = std::time::Duration::from_secs(1)).await;
    let login = app.anonymous_login().await;
    sleep(2.1).await;
    assert_error(app.profile(&login.access_token).await, 401, "InvalidSession").await;
    let fresh: Value = app.refresh(&login.refresh_token).await.json().await.unwrap();
    assert_eq!(app.profile(fresh["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_revokes_the_session_and_deletes_the_anonymous_user() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let resp = app.logout(&login.refresh_token).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.headers().get("content-type").is_none(), "void answers carry no content type");
    assert_error(app.refresh(&login.refresh_token).await, 401, "InvalidSession").await;
    // revocation is immediate: the still-unexpired access token no longer works either
    assert_error(app.profile(&login.access_token).await, 401, "InvalidSession").await;
    assert_eq!((app.count("users"), app.count("identities"), app.count("sessions")), (0, 0, 0));
}

#[tokio::test]
async fn a_second_logout_says_the_refresh_token_is_gone() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    app.logout(&login.refresh_token).await;
    let body = assert_error(app.logout(&login.refresh_token).await, 401, "InvalidSession").await;
    // realm-web's logOut tolerates exactly this text (docs/wire.md)
    assert!(body["error"].as_str().unwrap().contains("failed to find refresh token"));
}

#[tokio::test]
async fn logout_of_one_user_leaves_another_untouched() {
    let app = spawn_app().await;
    let a = app.anonymous_login().await;
    let b = app.anonymous_login().await;
    app.logout(&a.refresh_token).await;
    assert_eq!(app.refresh(&b.refresh_token).await.status(), StatusCode::OK);
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn delete_removes_the_user_its_identities_and_sessions() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let other = app.anonymous_login().await;
    let resp = app.delete_me(&login.access_token).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_error(app.profile(&login.access_token).await, 401, "InvalidSession").await;
    assert_error(app.refresh(&login.refresh_token).await, 401, "InvalidSession").await;
    // realm-web's deleteUser then logs out with the deleted user's refresh token
    let body = assert_error(app.logout(&login.refresh_token).await, 401, "InvalidSession").await;
    assert!(body["error"].as_str().unwrap().contains("failed to find refresh token"));
    assert_eq!((app.count("users"), app.count("identities"), app.count("sessions")), (1, 1, 1));
    assert_eq!(app.profile(&other.access_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token_and_the_reverse() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    assert_error(app.profile(&login.refresh_token).await, 401, "InvalidSession").await;
    assert_error(app.delete_me(&login.refresh_token).await, 401, "InvalidSession").await;
    assert_error(app.refresh(&login.access_token).await, 401, "InvalidSession").await;
    assert_error(app.logout(&login.access_token).await, 401, "InvalidSession").await;
    assert_eq!(app.count("users"), 1, "nothing was changed");
}

#[tokio::test]
async fn sessions_and_the_signing_key_survive_a_restart() {
    let mut app = spawn_app().await;
    let login = app.anonymous_login().await;
    app.restart().await;
    assert_eq!(app.profile(&login.access_token).await.status(), StatusCode::OK, "same key after restart");
    assert_eq!(app.refresh(&login.refresh_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn token_responses_are_never_cached() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let resp = app.refresh(&login.refresh_token).await;
    assert_eq!(resp.headers()["cache-control"], "no-store");
}
