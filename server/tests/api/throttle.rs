//! Password logins: backoff on failures per account and per client, and a bounded hashing queue.

use reqwest::StatusCode;

use crate::helpers::*;

fn rate(s: &str) -> guestpass_server::config::Rate {
    guestpass_server::config::parse_rate(s).unwrap()
}

/// 60 wrong passwords used to take 1.2 s and the right one was then accepted.
#[tokio::test]
async fn after_60_wrong_passwords_the_right_one_is_refused_within_the_window() {
    let app = spawn_app().await;
    assert_eq!(app.register("victim@example.com", "right-password").await.status(), StatusCode::CREATED);
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(app.email_login("victim@example.com", "wrong-password", None).await.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        11,
        "the default burst of 10, then one more: {statuses:?}"
    );
    assert!(statuses[11..].iter().all(|s| *s == 429), "{statuses:?}");
    let right = app.email_login("victim@example.com", "right-password", None).await;
    let retry_after: u64 = right.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=90).contains(&retry_after), "one failure per 90 s after the burst: {retry_after}");
    let body = assert_error(right, 429, "TooManyRequests").await;
    assert!(body["error"].as_str().unwrap().contains("account"), "{body}");
    // The same spelled differently is the same account.
    assert_error(app.email_login("Victim@Example.com", "right-password", None).await, 429, "TooManyRequests").await;
    // Another account from the same address is not held back by this one.
    app.register("bystander@example.com", "password1").await;
    assert_eq!(app.email_login("bystander@example.com", "password1", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_emails_are_throttled_like_known_ones() {
    let app = spawn_app_with(|c| c.login_failure_limit = rate("2/1h")).await;
    for _ in 0..3 {
        assert_error(app.email_login("nobody@example.com", "whatever1", None).await, 401, "InvalidPassword").await;
    }
    assert_error(app.email_login("nobody@example.com", "whatever1", None).await, 429, "TooManyRequests").await;
}

#[tokio::test]
async fn one_address_guessing_across_accounts_is_throttled() {
    let app = spawn_app_with(|c| c.login_failure_limit_per_address = rate("5/1h")).await;
    app.register("sprayed@example.com", "password1").await;
    for i in 0..6 {
        let resp = app.email_login(&format!("user{i}@example.com"), "password1", None).await;
        assert_error(resp, 401, "InvalidPassword").await;
    }
    let resp = app.email_login("sprayed@example.com", "password1", None).await;
    assert!(resp.headers().contains_key("retry-after"));
    let body = assert_error(resp, 429, "TooManyRequests").await;
    assert!(body["error"].as_str().unwrap().contains("address"), "{body}");
}

#[tokio::test]
async fn successful_logins_cost_no_backoff() {
    let app = spawn_app_with(|c| c.login_failure_limit = rate("2/1h")).await;
    app.register("regular@example.com", "password1").await;
    for _ in 0..10 {
        assert_eq!(app.email_login("regular@example.com", "password1", None).await.status(), StatusCode::OK);
    }
}

/// 30 bogus logins used to queue behind one another without bound. With a queue of 2, a flood
/// of 40 at once is answered: each either checked (401) or refused at once (503 Retry-After).
#[tokio::test]
async fn a_flood_of_bogus_logins_gets_503_instead_of_an_unbounded_queue() {
    let app = spawn_app_with(|c| {
        c.password_queue = 2;
        c.login_failure_limit_per_address = rate("1000/1h");
    })
    .await;
    let logins = (0..40).map(|i| {
        let (client, url) = (app.client.clone(), app.app_url("/auth/providers/local-userpass/login"));
        async move {
            let body = serde_json::json!({ "username": format!("bogus{i}@example.com"), "password": "password1" });
            client.post(url).json(&body).send().await.unwrap()
        }
    });
    let answers = futures::future::join_all(logins).await;
    let mut refused = 0;
    for resp in answers {
        match resp.status().as_u16() {
            401 => {}
            503 => {
                assert_eq!(resp.headers()["retry-after"], "1");
                assert_error(resp, 503, "ServiceUnavailable").await;
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(refused > 0, "a queue of 2 cannot hold 40 checks");
}
