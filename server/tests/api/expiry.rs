//! Inactive anonymous users are deleted by the background sweep.

use std::time::Duration;

use futures::future::join_all;
use guestpass_server::{cleanup, ids};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn an_inactive_anonymous_user_is_swept_and_an_active_one_kept() {
    let app = spawn_app_with(|c| {
        // Activity is kept in whole seconds and a user goes once `now - last_active > 4`: the
        // idle user is 5+ s old at the check (a sweep every 250 ms has had time to run), the
        // active one at most 4 s, with 0.3 s of margin either way for the requests themselves.
        c.anonymous_inactivity = Duration::from_secs(4);
        c.cleanup_interval = Duration::from_millis(250);
    })
    .await;
    let idle = app.anonymous_login().await;
    let active = app.anonymous_login().await;
    let member = app.reader_with_account("kept@example.com").await;
    sleep(2.0).await;
    assert_eq!(app.refresh(&active.refresh_token).await.status(), StatusCode::OK, "activity");
    sleep(3.7).await;
    assert_error(app.refresh(&idle.refresh_token).await, 401, "InvalidSession").await;
    assert_eq!(app.refresh(&active.refresh_token).await.status(), StatusCode::OK);
    assert_eq!(app.refresh(&member.refresh_token).await.status(), StatusCode::OK, "linked users never expire");
}

#[tokio::test]
async fn the_profile_and_token_say_when_an_anonymous_user_expires() {
    let app = spawn_app_with(|c| c.anonymous_inactivity = Duration::from_secs(7 * 86400)).await;
    let guest = app.anonymous_login().await;
    let profile: Value = app.profile(&guest.access_token).await.json().await.unwrap();
    let expires = profile["expires_at"].as_u64().expect("expires_at for anonymous users");
    let now = ids::now_secs();
    assert!((now + 7 * 86400 - 5..=now + 7 * 86400).contains(&expires), "{expires}");
    let claim = claims(&guest.access_token)["anonymous_expires_at"].as_u64().unwrap();
    assert!(claim.abs_diff(expires) <= 2);
    let member = app.reader_with_account("forever@example.com").await;
    let profile: Value = app.profile(&member.access_token).await.json().await.unwrap();
    assert!(profile.get("expires_at").is_none());
    assert!(claims(&member.access_token).get("anonymous_expires_at").is_none());
}

#[tokio::test]
async fn a_large_sweep_goes_in_batches_while_logins_go_on() {
    let app = spawn_app_with(|c| c.anonymous_inactivity = Duration::from_secs(3600)).await;
    const EXPIRED: usize = cleanup::BATCH * 6 + 7;
    let ids: Vec<String> = (0..EXPIRED).map(|i| format!("{:024x}", i + 1)).collect();
    let users: Vec<String> = ids.iter().map(|id| format!("('{id}', true, 1, 1)")).collect();
    let identities: Vec<String> = ids.iter().map(|id| format!("('anon-user', '{id}', '{id}', 1)")).collect();
    app.db.execute(&format!(
        "INSERT INTO users (id, is_anonymous, created_at, last_active_at) VALUES {};
         INSERT INTO identities (provider_type, provider_uid, user_id, created_at) VALUES {};",
        users.join(","),
        identities.join(",")
    ));
    let sweep = cleanup::sweep(&app.state);
    let url = app.app_url("/auth/providers/anon-user/login");
    let logins = join_all((0..40).map(|_| app.post_json(&url, "{}")));
    let (deleted, answers) = tokio::join!(sweep, logins);
    assert_eq!(deleted.unwrap(), EXPIRED);
    assert!(answers.iter().all(|r| r.status() == StatusCode::OK), "every login during the sweep succeeded");
    assert_eq!(app.count("users"), 40);
    assert_eq!(app.count("identities"), 40);
}
