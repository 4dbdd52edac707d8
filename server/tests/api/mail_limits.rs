//! Registration and the mail routes: limited per client and per recipient, the same answer for
//! registered and unregistered emails, expired links pruned.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn rate(s: &str) -> guestpass_server::config::Rate {
    guestpass_server::config::parse_rate(s).unwrap()
}

async fn answer(resp: reqwest::Response) -> (u16, String) {
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// `reset/send` used to answer 204 for a registered email and 404 for an unknown one.
#[tokio::test]
async fn reset_send_answers_alike_for_registered_and_unknown_emails() {
    let app = spawn_app().await;
    app.register("known@example.com", "password1").await;
    let known = answer(app.post_json(&app.userpass_url("reset/send"), r#"{"email":"known@example.com"}"#).await).await;
    let unknown =
        answer(app.post_json(&app.userpass_url("reset/send"), r#"{"email":"unknown@example.com"}"#).await).await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, 204);
    let mails = app.outbox();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["to"], "known@example.com");
}

#[tokio::test]
async fn confirm_send_answers_alike_for_pending_confirmed_and_unknown_emails() {
    let app = spawn_app_with(|c| c.userpass_confirm = guestpass_server::config::ConfirmMode::Email).await;
    app.register("pending@example.com", "password1").await;
    let resend = |email: &str| json!({ "email": email }).to_string();
    let pending = answer(app.post_json(&app.userpass_url("confirm/send"), &resend("pending@example.com")).await).await;
    let unknown = answer(app.post_json(&app.userpass_url("confirm/send"), &resend("unknown@example.com")).await).await;
    assert_eq!(pending, unknown);
    let auto = spawn_app().await;
    auto.register("confirmed@example.com", "password1").await;
    let confirmed =
        answer(auto.post_json(&auto.userpass_url("confirm/send"), &resend("confirmed@example.com")).await).await;
    assert_eq!(pending, confirmed);
    assert_eq!(app.outbox().len(), 2, "the registration's mail and the resent one");
    assert!(auto.outbox().is_empty());
}

/// 100 `reset/send` for one email used to write 100 mails.
#[tokio::test]
async fn a_hundred_reset_sends_for_one_email_write_five_mails() {
    let app = spawn_app_with(|c| c.email_send_limit = rate("1000/1h")).await;
    app.register("flooded@example.com", "password1").await;
    let mut statuses = Vec::new();
    for _ in 0..100 {
        statuses.push(app.post_json(&app.userpass_url("reset/send"), r#"{"email":"flooded@example.com"}"#).await);
    }
    assert_eq!(app.outbox().len(), 5, "the default of 5 per recipient per hour");
    let last = statuses.pop().unwrap();
    assert!(last.headers().contains_key("retry-after"));
    assert_error(last, 429, "TooManyRequests").await;
    // An unknown email is limited the same way, so the limit tells nothing either.
    for _ in 0..5 {
        let resp = app.post_json(&app.userpass_url("reset/send"), r#"{"email":"ghost@example.com"}"#).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    let ghost = app.post_json(&app.userpass_url("reset/send"), r#"{"email":"ghost@example.com"}"#).await;
    assert_error(ghost, 429, "TooManyRequests").await;
}

#[tokio::test]
async fn one_address_asking_mails_for_many_emails_is_limited() {
    let app = spawn_app_with(|c| c.email_send_limit = rate("3/1h")).await;
    for i in 0..3 {
        let body = json!({ "email": format!("r{i}@example.com") }).to_string();
        assert_eq!(app.post_json(&app.userpass_url("reset/send"), &body).await.status(), StatusCode::NO_CONTENT);
    }
    let body = json!({ "email": "r9@example.com" }).to_string();
    assert_error(app.post_json(&app.userpass_url("confirm/send"), &body).await, 429, "TooManyRequests").await;
}

#[tokio::test]
async fn registrations_past_the_limit_get_429_and_create_nothing() {
    let app = spawn_app_with(|c| c.registration_limit = rate("2/1h")).await;
    assert_eq!(app.register("one@example.com", "password1").await.status(), StatusCode::CREATED);
    assert_eq!(app.register("two@example.com", "password1").await.status(), StatusCode::CREATED);
    let third = app.register("three@example.com", "password1").await;
    assert!(third.headers().contains_key("retry-after"));
    assert_error(third, 429, "TooManyRequests").await;
    assert_eq!(app.count("userpass_accounts"), 2);
}

/// Expired confirmation and reset tokens used to stay in the database for ever.
#[tokio::test]
async fn the_cleanup_task_prunes_expired_links_and_keeps_live_ones() {
    let app = spawn_app_with(|c| {
        c.userpass_token_ttl = std::time::Duration::from_secs(1);
        c.cleanup_interval = std::time::Duration::from_secs(1);
    })
    .await;
    app.register("old@example.com", "password1").await;
    app.post_json(&app.userpass_url("reset/send"), r#"{"email":"old@example.com"}"#).await;
    assert_eq!(app.count("userpass_tokens"), 1);
    sleep(3.5).await;
    assert_eq!(app.count("userpass_tokens"), 0, "the expired link was pruned");
    let live = spawn_app_with(|c| c.cleanup_interval = std::time::Duration::from_secs(1)).await;
    live.register("new@example.com", "password1").await;
    live.post_json(&live.userpass_url("reset/send"), r#"{"email":"new@example.com"}"#).await;
    sleep(2.5).await;
    assert_eq!(live.count("userpass_tokens"), 1, "a live link stays");
}
