//! The admin API finds a user by id or email, lists its sessions and revokes one: that
//! session's refresh token is refused at once, the user's other sessions go on.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn find(app: &TestApp, query: &str) -> reqwest::Response {
    app.admin(Method::POST, "/users/find", Some(&app.admin_key()), Some(json!({ "query": query }))).await
}

#[tokio::test]
async fn a_user_is_found_by_id_or_by_email() {
    let app = spawn_app().await;
    let reader = app.reader_with_account("Reader@Example.com").await;
    app.anonymous_login().await; // someone else
    for query in [reader.user_id.as_str(), "reader@example.com", "  READER@example.com "] {
        let resp = find(&app, query).await;
        assert_eq!(resp.status(), StatusCode::OK, "{query}");
        let user: Value = resp.json().await.unwrap();
        assert_eq!(user["id"], reader.user_id.as_str(), "{query}");
    }
    assert_error(find(&app, "nobody@example.com").await, 404, "UserNotFound").await;
    assert_error(find(&app, "000000000000000000000000").await, 404, "UserNotFound").await;
    assert_error(find(&app, "").await, 400, "BadRequest").await;
    let no_key = app.admin(Method::POST, "/users/find", None, Some(json!({ "query": reader.user_id }))).await;
    assert_error(no_key, 401, "InvalidAdminKey").await;
}

#[tokio::test]
async fn a_revoked_session_is_refused_at_once_and_the_others_go_on() {
    let app = spawn_app().await;
    let key = app.admin_key();
    let phone = app.reader_with_account("two@example.com").await;
    let laptop: Value = app.email_login("two@example.com", "password1", None).await.json().await.unwrap();
    let laptop_refresh = laptop["refresh_token"].as_str().unwrap();

    let resp = app.admin(Method::GET, &format!("/users/{}/sessions", phone.user_id), Some(&key), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let listed: Value = resp.json().await.unwrap();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    for s in sessions {
        assert!(s["id"].is_string() && s["device_id"].is_string(), "{s}");
        assert!(s["created_at"].as_u64().unwrap() <= s["last_used_at"].as_u64().unwrap(), "{s}");
        assert!(s.get("refresh_token").is_none() && s.get("refresh_hash").is_none(), "{s}");
    }
    // The laptop's session is the one its access token names.
    let laptop_session = claims(laptop["access_token"].as_str().unwrap())["baas_id"].as_str().unwrap().to_owned();
    assert!(sessions.iter().any(|s| s["id"] == laptop_session.as_str()), "{listed}");

    let revoked = app
        .admin(Method::DELETE, &format!("/users/{}/sessions/{laptop_session}", phone.user_id), Some(&key), None)
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_error(app.refresh(laptop_refresh).await, 401, "InvalidSession").await;
    assert_eq!(app.refresh(&phone.refresh_token).await.status(), StatusCode::OK, "the other session goes on");
    let again = app
        .admin(Method::DELETE, &format!("/users/{}/sessions/{laptop_session}", phone.user_id), Some(&key), None)
        .await;
    assert_error(again, 404, "SessionNotFound").await;
}

#[tokio::test]
async fn a_session_is_revoked_only_through_its_own_user() {
    let app = spawn_app().await;
    let key = app.admin_key();
    let (alice, bob) = (app.reader_with_account("alice@example.com").await, app.anonymous_login().await);
    let listed: Value = app
        .admin(Method::GET, &format!("/users/{}/sessions", alice.user_id), Some(&key), None)
        .await
        .json()
        .await
        .unwrap();
    let session = listed["sessions"][0]["id"].as_str().unwrap().to_owned();
    let wrong_user = format!("/users/{}/sessions/{session}", bob.user_id);
    assert_error(app.admin(Method::DELETE, &wrong_user, Some(&key), None).await, 404, "SessionNotFound").await;
    assert_eq!(app.refresh(&alice.refresh_token).await.status(), StatusCode::OK, "nothing was revoked");
    let unknown = app.admin(Method::GET, "/users/000000000000000000000000/sessions", Some(&key), None).await;
    assert_error(unknown, 404, "UserNotFound").await;
}
