//! The backend trusts only its own auth server's tokens, through that server's JWKS: a token
//! from another guestpass server (another key set), or for another app, is refused; a revoked
//! session's token is refused once it expires, or at once with `--check-session`; an auth
//! server that cannot be reached is a 502 that changes nothing.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn a_token_from_another_guestpass_server_is_refused() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    // Another server for the same app that even claims the same issuer: only its keys differ.
    let issuer = auth.base.clone();
    let other = auth_server(move |c| c.public_url = Some(issuer)).await;
    let stranger = other.anonymous_login().await;
    let refused = blog.blog(Method::GET, "/articles", Some(&stranger.access_token), None).await;
    let body = assert_error(refused, 401, "InvalidSession").await;
    assert!(body["error"].as_str().unwrap().contains("unknown key"), "{body}");
    let own = auth.anonymous_login().await;
    assert_eq!(blog.blog(Method::GET, "/articles", Some(&own.access_token), None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_for_another_app_is_refused() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |c| c.app_id = "another-app".into()).await;
    let guest = auth.anonymous_login().await;
    let refused = blog.blog(Method::GET, "/articles", Some(&guest.access_token), None).await;
    let body = assert_error(refused, 401, "InvalidSession").await;
    assert!(body["error"].as_str().unwrap().contains("Audience"), "{body}");
}

const TTL: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_revoked_sessions_token_is_refused_within_the_access_token_lifetime() {
    let auth = auth_server(|c| c.access_token_ttl = TTL).await;
    let blog = backend(&auth, |_| {}).await;
    let member = auth.reader_with_account("revoked@example.com").await;
    let issued = Instant::now();
    auth.log_out(&member.refresh_token).await;
    // Verified through the JWKS alone, the token is a signature and an expiry: the backend
    // cannot know of the logout until `exp`.
    loop {
        let status = blog.blog(Method::GET, "/reading-list", Some(&member.access_token), None).await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(issued.elapsed() < TTL + Duration::from_secs(1), "still accepted after the token's lifetime");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn with_the_session_check_a_revoked_sessions_token_is_refused_at_once() {
    let auth = auth_server(|c| c.access_token_ttl = Duration::from_secs(600)).await;
    let blog = backend(&auth, |c| c.check_session = true).await;
    let member = auth.reader_with_account("checked@example.com").await;
    let before = blog.blog(Method::GET, "/reading-list", Some(&member.access_token), None).await;
    assert_eq!(before.status(), StatusCode::OK);
    auth.log_out(&member.refresh_token).await;
    let after = blog.blog(Method::GET, "/reading-list", Some(&member.access_token), None).await;
    assert_error(after, 401, "InvalidSession").await;
}

#[tokio::test]
async fn a_rotation_right_after_the_backends_first_key_fetch_is_picked_up_at_once() {
    const ADMIN_KEY: &str = "demo-backend-test-admin-key-0123456789";
    let auth = auth_server(|c| c.admin_key = Some(ADMIN_KEY.into())).await;
    let blog = backend(&auth, |_| {}).await;
    // The backend's first request fetches the key set...
    let before = auth.anonymous_login().await;
    assert_eq!(blog.blog(Method::GET, "/articles", Some(&before.access_token), None).await.status(), StatusCode::OK);
    // ...then the operator rotates (the new key signs at once), well within the backend's
    // refetch cooldown of that first fetch.
    let rotated = auth
        .client
        .post(format!("{}/api/admin/signing-keys", auth.base))
        .bearer_auth(ADMIN_KEY)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::CREATED);
    let after = auth.anonymous_login().await;
    let status = blog.blog(Method::GET, "/articles", Some(&after.access_token), None).await.status();
    assert_eq!(status, StatusCode::OK, "a token of the new key is refused until the cooldown ends");
}

#[tokio::test]
async fn an_unreachable_auth_server_is_a_502_that_writes_nothing_and_shows_no_token() {
    let auth = auth_server(|_| {}).await;
    let reader = auth.anonymous_login().await;
    let slug = backend(&auth, |_| {}).await.first_slug(&reader.access_token).await;
    // A port that was just free and is closed again: nothing answers there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let blog = backend(&auth, |c| c.auth_url = format!("http://{closed}")).await;
    let comment = serde_json::json!({"text": "Posted while the auth server is down."});
    let path = format!("/articles/{slug}/comments");
    let refused = blog.blog(Method::POST, &path, Some(&reader.access_token), Some(comment)).await;
    let body = assert_error(refused, 502, "AuthServerUnavailable").await;
    assert!(!body.to_string().contains(&reader.access_token), "{body}");
    assert_eq!(blog.count("comments"), 0);
}
