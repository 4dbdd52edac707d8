//! The admin API behind the console: users and the providers' switches.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn the_admin_api_refuses_a_missing_or_wrong_key() {
    let app = spawn_app().await;
    let guest = app.anonymous_login().await;
    for (method, path) in [
        (Method::GET, "/users".to_owned()),
        (Method::DELETE, format!("/users/{}", guest.user_id)),
        (Method::POST, format!("/users/{}/disable", guest.user_id)),
        (Method::GET, "/providers".to_owned()),
        (Method::PUT, "/providers/anon-user".to_owned()),
    ] {
        let body = Some(json!({"enabled": false}));
        assert_error(app.admin(method.clone(), &path, None, body.clone()).await, 401, "InvalidAdminKey").await;
        assert_error(app.admin(method.clone(), &path, Some("wrong-key"), body.clone()).await, 401, "InvalidAdminKey")
            .await;
        // a user's own access token is not an admin key
        assert_error(app.admin(method, &path, Some(&guest.access_token), body).await, 401, "InvalidAdminKey").await;
    }
    assert_eq!(app.count("users"), 1, "nothing changed");
    assert!(app.state.provider_enabled("anon-user"));
}

#[tokio::test]
async fn a_configured_admin_key_works_and_none_is_written() {
    let app = spawn_app_with(|c| c.admin_key = Some("operator-chosen-admin-key-0123456789".into())).await;
    let resp = app.admin(Method::GET, "/users", Some("operator-chosen-admin-key-0123456789"), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!app.state.config.admin_key_path().exists());
}

#[tokio::test]
async fn users_are_listed_in_pages_with_their_identities() {
    let app = spawn_app().await;
    let key = app.admin_key();
    for _ in 0..3 {
        app.anonymous_login().await;
    }
    let member = app.reader_with_account("listed@example.com").await;
    let page1: Value = app.admin(Method::GET, "/users?page=1&per_page=3", Some(&key), None).await.json().await.unwrap();
    assert_eq!((page1["total"].as_u64(), page1["users"].as_array().unwrap().len()), (Some(4), 3));
    let page2: Value = app.admin(Method::GET, "/users?page=2&per_page=3", Some(&key), None).await.json().await.unwrap();
    assert_eq!(page2["users"].as_array().unwrap().len(), 1);
    let all: Vec<Value> = [page1, page2].iter().flat_map(|p| p["users"].as_array().unwrap().clone()).collect();
    let listed = all.iter().find(|u| u["id"] == member.user_id.as_str()).expect("the member is listed");
    assert_eq!(listed["is_anonymous"], false);
    assert_eq!(listed["identities"].as_array().unwrap().len(), 2);
    assert!(listed["created_at"].as_u64().is_some() && listed["last_active_at"].as_u64().is_some());
    assert_eq!(all.iter().filter(|u| u["is_anonymous"] == true).count(), 3);
    let bad = app.admin(Method::GET, "/users?per_page=1000", Some(&key), None).await;
    assert_error(bad, 400, "BadRequest").await;
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_until_enabled() {
    let app = spawn_app().await;
    let key = app.admin_key();
    let member = app.reader_with_account("locked@example.com").await;
    let resp = app.admin(Method::POST, &format!("/users/{}/disable", member.user_id), Some(&key), None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_error(app.profile(&member.access_token).await, 401, "InvalidSession").await;
    assert_error(app.refresh(&member.refresh_token).await, 401, "InvalidSession").await;
    assert_error(app.email_login("locked@example.com", "password1", None).await, 403, "UserDisabled").await;
    app.admin(Method::POST, &format!("/users/{}/enable", member.user_id), Some(&key), None).await;
    let back: Value = app.email_login("locked@example.com", "password1", None).await.json().await.unwrap();
    assert_eq!(back["user_id"], member.user_id.as_str());
    let unknown = app.admin(Method::POST, "/users/000000000000000000000000/disable", Some(&key), None).await;
    assert_error(unknown, 404, "UserNotFound").await;
}

#[tokio::test]
async fn the_admin_deletes_a_user() {
    let app = spawn_app().await;
    let key = app.admin_key();
    let guest = app.anonymous_login().await;
    let resp = app.admin(Method::DELETE, &format!("/users/{}", guest.user_id), Some(&key), None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_error(app.refresh(&guest.refresh_token).await, 401, "InvalidSession").await;
    assert_eq!(app.count("users"), 0);
    let again = app.admin(Method::DELETE, &format!("/users/{}", guest.user_id), Some(&key), None).await;
    assert_error(again, 404, "UserNotFound").await;
}

#[tokio::test]
async fn switching_off_the_anonymous_provider_takes_effect_at_once_and_survives_a_restart() {
    let mut app = spawn_app().await;
    let key = app.admin_key();
    let providers: Value = app.admin(Method::GET, "/providers", Some(&key), None).await.json().await.unwrap();
    let anon = providers["providers"].as_array().unwrap().iter().find(|p| p["name"] == "anon-user").unwrap().clone();
    assert_eq!(anon["label"], "Allow users to log in anonymously");
    assert_eq!(anon["enabled"], true);
    let existing = app.anonymous_login().await;

    let off = app.admin(Method::PUT, "/providers/anon-user", Some(&key), Some(json!({"enabled": false}))).await;
    assert_eq!(off.status(), StatusCode::OK);
    let login = app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await;
    assert_error(login, 404, "AuthProviderNotFound").await;
    let listed: Value = app.send(Method::GET, &app.app_url("/auth/providers"), None).await.json().await.unwrap();
    assert!(!listed.as_array().unwrap().iter().any(|p| p["type"] == "anon-user"), "{listed}");
    assert_eq!(app.refresh(&existing.refresh_token).await.status(), StatusCode::OK, "existing sessions go on");

    app.restart().await;
    let still_off = app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await;
    assert_error(still_off, 404, "AuthProviderNotFound").await;

    app.admin(Method::PUT, "/providers/anon-user", Some(&key), Some(json!({"enabled": true}))).await;
    assert_eq!(app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await.status(), StatusCode::OK);
    let unknown = app.admin(Method::PUT, "/providers/oauth2-x", Some(&key), Some(json!({"enabled": true}))).await;
    assert_error(unknown, 404, "AuthProviderNotFound").await;
    let no_flag = app.admin(Method::PUT, "/providers/anon-user", Some(&key), Some(json!({}))).await;
    assert_error(no_flag, 400, "BadRequest").await;
}
