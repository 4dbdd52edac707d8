//! Sessions of users that are not anonymous end: `--refresh-token-ttl` after their login (or the
//! link that ended the user's anonymity) however often they are refreshed, and
//! `--refresh-token-idle` after their last use. Anonymous users' sessions last as long as the
//! user. Lifetimes of seconds here; the last test ages rows to check the 60 and 30 day defaults.

use std::time::Duration;

use guestpass_server::cleanup;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

const DAY: i64 = 86400;

async fn login(app: &TestApp, email: &str) -> Value {
    let resp = app.email_login(email, "password1", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

fn refresh_token(login: &Value) -> &str {
    login["refresh_token"].as_str().unwrap()
}

/// The `session_expires_at` claim of a refresh's new access token.
async fn refreshed_end(app: &TestApp, refresh_token: &str) -> u64 {
    let resp = app.refresh(refresh_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    claims(body["access_token"].as_str().unwrap())["session_expires_at"].as_u64().expect("the session's end")
}

#[tokio::test]
async fn an_unused_session_ends_after_the_idle_lifetime_and_a_refreshed_one_lives_on() {
    let app = spawn_app_with(|c| {
        c.refresh_token_ttl = Duration::from_secs(60);
        c.refresh_token_idle = Duration::from_secs(4);
    })
    .await;
    app.register("idle@example.com", "password1").await;
    let idle = login(&app, "idle@example.com").await;
    let kept = login(&app, "idle@example.com").await;
    let guest = app.anonymous_login().await;
    let iat = claims(idle["access_token"].as_str().unwrap())["iat"].as_u64().unwrap();
    assert_eq!(idle["profile"]["session_expires_at"], iat + 4, "the login's profile says when it ends");
    sleep(2.0).await;
    let moved = refreshed_end(&app, refresh_token(&kept)).await;
    assert!(moved > iat + 4, "a refresh moves the idle end: {moved}");
    sleep(2.5).await;
    assert_error(app.refresh(refresh_token(&idle)).await, 401, "InvalidSession").await;
    assert_eq!(app.refresh(refresh_token(&kept)).await.status(), StatusCode::OK, "used 2.5 s ago");
    assert_eq!(app.refresh(&guest.refresh_token).await.status(), StatusCode::OK, "anonymous sessions are exempt");
    // The sweep removes the ended session's row, and only it.
    assert_eq!(cleanup::sweep_sessions(&app.state).await.unwrap(), 1);
    assert_eq!(app.count("sessions"), 2);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let app = spawn_app_with(|c| {
        c.refresh_token_ttl = Duration::from_secs(3);
        c.refresh_token_idle = Duration::from_secs(60);
    })
    .await;
    app.register("member@example.com", "password1").await;
    app.register("late@example.com", "password1").await;
    let member = login(&app, "member@example.com").await;
    let guest = app.anonymous_login().await;
    let token = claims(member["access_token"].as_str().unwrap());
    let end = token["iat"].as_u64().unwrap() + 3;
    assert_eq!(member["profile"]["session_expires_at"], end);
    assert_eq!(token["exp"], end, "an access token never outlives its session");
    sleep(1.5).await;
    assert_eq!(refreshed_end(&app, refresh_token(&member)).await, end, "a refresh does not extend it");
    let profile: Value = app.profile(member["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(profile["session_expires_at"], end);
    sleep(1.7).await;
    assert_error(app.refresh(refresh_token(&member)).await, 401, "InvalidSession").await;
    // The anonymous session, older than the lifetime, still refreshes; the link that ends its
    // anonymity starts its lifetimes then, not at the anonymous login.
    assert_eq!(app.refresh(&guest.refresh_token).await.status(), StatusCode::OK);
    let linked = app.email_login("late@example.com", "password1", Some(&guest.access_token)).await;
    let linked: Value = linked.json().await.unwrap();
    let link_end = claims(linked["access_token"].as_str().unwrap())["iat"].as_u64().unwrap() + 3;
    assert_eq!(linked["profile"]["session_expires_at"], link_end);
    assert_eq!(refreshed_end(&app, &guest.refresh_token).await, link_end);
    assert_eq!(cleanup::sweep_sessions(&app.state).await.unwrap(), 1, "the member's ended session");
    assert_eq!(app.count("sessions"), 1);
    assert!(
        login(&app, "member@example.com").await["profile"]["session_expires_at"].is_u64(),
        "a new login, a new session"
    );
}

#[tokio::test]
async fn by_default_a_session_ends_60_days_after_its_login_or_30_days_after_its_last_use() {
    let app = spawn_app().await;
    app.register("aged@example.com", "password1").await;
    let fresh = login(&app, "aged@example.com").await;
    let iat = claims(fresh["access_token"].as_str().unwrap())["iat"].as_i64().unwrap();
    assert_eq!(fresh["profile"]["session_expires_at"], iat + 30 * DAY);
    let (unused, old, fine) = (
        login(&app, "aged@example.com").await,
        login(&app, "aged@example.com").await,
        login(&app, "aged@example.com").await,
    );
    // Age the rows instead of waiting: (seconds before its login, seconds since its last use).
    for (session, since_login, since_use) in
        [(&unused, 31 * DAY, 31 * DAY), (&old, 61 * DAY, DAY), (&fine, 59 * DAY, 29 * DAY)]
    {
        let session_id = claims(session["access_token"].as_str().unwrap())["baas_id"].as_str().unwrap().to_owned();
        app.db.execute(&format!(
            "UPDATE sessions SET authenticated_at = authenticated_at - {since_login},
             last_used_at = last_used_at - {since_use} WHERE id = '{session_id}'"
        ));
    }
    app.db.execute(&format!("UPDATE users SET last_active_at = last_active_at - {}", 61 * DAY));
    assert_error(app.refresh(refresh_token(&unused)).await, 401, "InvalidSession").await;
    assert_error(app.refresh(refresh_token(&old)).await, 401, "InvalidSession").await;
    let fine_iat = claims(fine["access_token"].as_str().unwrap())["iat"].as_i64().unwrap();
    let fine_end = refreshed_end(&app, refresh_token(&fine)).await as i64;
    assert_eq!(fine_end, fine_iat - 59 * DAY + 60 * DAY, "refreshed now: its absolute end is the nearer one");
    assert_eq!(cleanup::sweep_sessions(&app.state).await.unwrap(), 2);
    assert_eq!(app.count("sessions"), 2, "the fresh session and the one still within both lifetimes");
}

#[tokio::test]
async fn checking_the_lifetimes_keeps_a_refresh_a_read_within_the_activity_granularity() {
    let app = spawn_app().await; // defaults: activity written at most once a minute
    app.register("reader@example.com", "password1").await;
    let member = login(&app, "reader@example.com").await;
    let session_id = claims(member["access_token"].as_str().unwrap())["baas_id"].as_str().unwrap().to_owned();
    let age = |seconds: i64| {
        app.db.execute(&format!(
            "UPDATE sessions SET last_used_at = last_used_at - {seconds} WHERE id = '{session_id}';
             UPDATE users SET last_active_at = last_active_at - {seconds};"
        ))
    };
    // Last use 10 s ago: inside the window, so refreshes must not write it again.
    age(10);
    let recorded = || app.db.query_i64(&format!("SELECT last_used_at FROM sessions WHERE id = '{session_id}'"));
    let before = recorded();
    for _ in 0..20 {
        assert_eq!(app.refresh(refresh_token(&member)).await.status(), StatusCode::OK);
    }
    assert_eq!(recorded(), before, "no write for refreshes inside the window");
    // Outside the window, one refresh records the use.
    age(60);
    app.refresh(refresh_token(&member)).await;
    assert!(recorded() > before, "the use is recorded once the window has passed");
}
