//! The anonymous sign-up limit per client address.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn anonymous_sign_ups_past_the_limit_get_429_with_retry_after() {
    let app = spawn_app_with(|c| c.anonymous_signup_limit = "3/1h".parse_rate()).await;
    for _ in 0..3 {
        app.anonymous_login().await;
    }
    let resp = app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await;
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1200).contains(&retry_after), "one token per 20 minutes: {retry_after}");
    assert_error(resp, 429, "TooManyRequests").await;
    assert_eq!(app.count("users"), 3, "the refused sign-up created nobody");
    // other logins are not anonymous sign-ups
    app.register("limited@example.com", "password1").await;
    assert_eq!(app.email_login("limited@example.com", "password1", None).await.status(), StatusCode::OK);
}

trait ParseRate {
    fn parse_rate(self) -> guestpass_server::config::Rate;
}

impl ParseRate for &str {
    fn parse_rate(self) -> guestpass_server::config::Rate {
        guestpass_server::config::parse_rate(self).unwrap()
    }
}
