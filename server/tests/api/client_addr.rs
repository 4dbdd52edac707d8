//! Client addresses: forwarding headers only from `--trusted-proxy` peers, the rightmost
//! untrusted hop, IPv6 clients by /64, and a real IPv6 socket.

use reqwest::StatusCode;

use crate::helpers::*;

fn rate(s: &str) -> guestpass_server::config::Rate {
    guestpass_server::config::parse_rate(s).unwrap()
}

/// An anonymous sign-up as the client at `forwarded` (an X-Forwarded-For value); its status.
async fn sign_up(app: &TestApp, header: &str, forwarded: &str) -> StatusCode {
    app.client
        .post(app.app_url("/auth/providers/anon-user/login"))
        .header(header, forwarded)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = spawn_app_with(|c| c.anonymous_signup_limit = rate("1/1h")).await;
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.1").await, StatusCode::OK);
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.2").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sign_up(&app, "forwarded", "for=203.0.113.3").await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_peer_outside_the_trusted_proxies_is_not_believed() {
    let app = spawn_app_with(|c| {
        c.anonymous_signup_limit = rate("1/1h");
        c.trusted_proxy = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await;
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.1").await, StatusCode::OK);
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.2").await, StatusCode::TOO_MANY_REQUESTS);
}

/// Behind a proxy every user used to share the proxy's bucket.
#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_bucket() {
    let app = spawn_app_with(|c| {
        c.anonymous_signup_limit = rate("1/1h");
        c.trusted_proxy = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.1").await, StatusCode::OK);
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.2").await, StatusCode::OK, "another client");
    // A client writing its own X-Forwarded-For gets it prepended to, not believed.
    let spoofed = "198.51.100.77, 203.0.113.1";
    assert_eq!(sign_up(&app, "x-forwarded-for", spoofed).await, StatusCode::TOO_MANY_REQUESTS);
    // A chain through a second trusted proxy ends at the client.
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.3, 127.0.0.9").await, StatusCode::OK);
    assert_eq!(sign_up(&app, "x-forwarded-for", "203.0.113.3").await, StatusCode::TOO_MANY_REQUESTS);
    // The Forwarded header is not the one configured: the proxy's own bucket (used by none yet).
    assert_eq!(sign_up(&app, "forwarded", "for=203.0.113.4").await, StatusCode::OK);
    assert_eq!(sign_up(&app, "forwarded", "for=203.0.113.5").await, StatusCode::TOO_MANY_REQUESTS);
}

/// Every address of one /64 used to have a bucket of its own.
#[tokio::test]
async fn forwarded_ipv6_clients_share_the_bucket_of_their_64() {
    let app = spawn_app_with(|c| {
        c.anonymous_signup_limit = rate("1/1h");
        c.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(sign_up(&app, "x-forwarded-for", "2001:db8:0:1::1").await, StatusCode::OK);
    assert_eq!(sign_up(&app, "x-forwarded-for", "2001:db8:0:1:ffff::2").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sign_up(&app, "x-forwarded-for", "2001:db8:0:2::1").await, StatusCode::OK, "the next /64");
}

/// A real IPv6 socket: the server listens on ::1 and reads the Forwarded header of its proxy.
#[tokio::test]
async fn an_ipv6_listener_limits_its_peer_and_trusts_its_proxy() {
    let app = spawn_app_with(|c| {
        c.listen = "[::1]:0".parse().unwrap();
        c.anonymous_signup_limit = rate("1/1h");
        c.trusted_proxy = vec!["::1/128".parse().unwrap()];
        c.forwarded_header = guestpass_server::config::ForwardedHeader::Forwarded;
    })
    .await;
    assert!(app.base.starts_with("http://[::1]:"), "{}", app.base);
    assert_eq!(app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await.status(), StatusCode::OK);
    let again = app.post_json(&app.app_url("/auth/providers/anon-user/login"), "{}").await;
    assert_error(again, 429, "TooManyRequests").await;
    let forwarded = r#"for="[2001:db8:5::1]:4711";proto=https"#;
    assert_eq!(sign_up(&app, "forwarded", forwarded).await, StatusCode::OK);
    assert_eq!(sign_up(&app, "forwarded", "for=\"[2001:db8:5::2]\"").await, StatusCode::TOO_MANY_REQUESTS);
}
