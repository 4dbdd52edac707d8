//! `custom-token` JWTs: `nbf`, the `--custom-jwt-issuer` check and the maximum lifetime.

use std::time::Duration;

use guestpass_server::ids::now_secs;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const SECRET: &str = "an-external-backend-secret-of-32+bytes";

fn signed(claims: Value) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

async fn login(app: &TestApp, claims: Value) -> reqwest::Response {
    app.provider_login("custom-token", json!({ "token": signed(claims) }), None).await
}

async fn assert_refused(app: &TestApp, claims: Value, why: &str) {
    let body = assert_error(login(app, claims.clone()).await, 401, "AuthError").await;
    assert_eq!(body["error"], format!("custom token refused: {why}"), "{claims}");
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let app = spawn_app_with(|c| c.custom_jwt_secret = Some(SECRET.into())).await;
    let now = now_secs();
    assert_refused(&app, json!({"sub": "u1", "nbf": now + 600, "exp": now + 1200}), "not valid yet").await;
    assert_eq!(app.count("users"), 0);
    // within the 30 s allowed for another machine's clock, and in the past: accepted
    for nbf in [now + 20, now - 60] {
        let resp = login(&app, json!({"sub": "u1", "nbf": nbf, "exp": now + 1200})).await;
        assert_eq!(resp.status(), StatusCode::OK, "nbf {nbf} (now {now})");
    }
}

#[tokio::test]
async fn with_an_issuer_configured_only_tokens_from_it_log_in() {
    let app = spawn_app_with(|c| {
        c.custom_jwt_secret = Some(SECRET.into());
        c.custom_jwt_issuer = Some("https://backend.example".into());
    })
    .await;
    let exp = now_secs() + 600;
    assert_refused(&app, json!({"sub": "u1", "exp": exp}), "missing a required claim").await;
    assert_refused(&app, json!({"sub": "u1", "exp": exp, "iss": "https://evil.example"}), "wrong issuer").await;
    assert_refused(&app, json!({"sub": "u1", "exp": exp, "iss": "https://backend.example.evil"}), "wrong issuer").await;
    // an array that merely contains our issuer is not our issuer (RFC 7519: one string)
    let array = json!({"sub": "u1", "exp": exp, "iss": ["https://evil.example", "https://backend.example"]});
    assert_refused(&app, array, "wrong issuer").await;
    assert_eq!(app.count("users"), 0);
    let ok = login(&app, json!({"sub": "u1", "exp": exp, "iss": "https://backend.example"})).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_an_issuer_configured_any_issuer_is_accepted() {
    let app = spawn_app_with(|c| c.custom_jwt_secret = Some(SECRET.into())).await;
    let resp = login(&app, json!({"sub": "u1", "exp": now_secs() + 600, "iss": "anyone"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_that_lives_longer_than_the_maximum_is_refused() {
    let app = spawn_app_with(|c| c.custom_jwt_secret = Some(SECRET.into())).await;
    let now = now_secs();
    let too_long = "lifetime longer than this server accepts";
    // the default maximum is one hour
    assert_refused(&app, json!({"sub": "u1", "exp": now + 10 * 365 * 86400}), too_long).await;
    assert_refused(&app, json!({"sub": "u1", "iat": now, "exp": now + 3601}), too_long).await;
    // issued long ago with a long lifetime, even if little of it is left
    assert_refused(&app, json!({"sub": "u1", "iat": now - 7200, "exp": now + 60}), too_long).await;
    // an iat in the future cannot stretch the window
    let later = now + 86400;
    assert_refused(&app, json!({"sub": "u1", "iat": later, "exp": later + 600}), "issued in the future").await;
    assert_refused(&app, json!({"sub": "u1", "iat": "yesterday", "exp": now + 600}), "malformed iat").await;
    assert_refused(&app, json!({"sub": "u1", "exp": u64::MAX}), too_long).await;
    assert_eq!(app.count("users"), 0);
    for claims in [json!({"sub": "u1", "iat": now, "exp": now + 3600}), json!({"sub": "u1", "exp": now + 3000})] {
        assert_eq!(login(&app, claims.clone()).await.status(), StatusCode::OK, "{claims}");
    }
}

#[tokio::test]
async fn the_maximum_lifetime_is_an_option() {
    let app = spawn_app_with(|c| {
        c.custom_jwt_secret = Some(SECRET.into());
        c.custom_jwt_max_lifetime = Duration::from_secs(60);
    })
    .await;
    let now = now_secs();
    assert_refused(
        &app,
        json!({"sub": "u1", "iat": now, "exp": now + 120}),
        "lifetime longer than this server accepts",
    )
    .await;
    assert_eq!(login(&app, json!({"sub": "u1", "iat": now, "exp": now + 60})).await.status(), StatusCode::OK);
}
