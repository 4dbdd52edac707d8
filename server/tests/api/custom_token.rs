//! `custom-token`: logins and links with JWTs issued by the app's own backend.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const SECRET: &str = "an-external-backend-secret-of-32+bytes";

async fn hs256_app(audience: Option<&str>) -> TestApp {
    let audience = audience.map(str::to_owned);
    spawn_app_with(move |c| {
        c.custom_jwt_secret = Some(SECRET.into());
        c.custom_jwt_audience = audience;
    })
    .await
}

fn external(claims: Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn in_an_hour() -> u64 {
    guestpass_server::ids::now_secs() + 3600
}

async fn jwt_login(app: &TestApp, token: &str, link_with: Option<&str>) -> reqwest::Response {
    app.provider_login("custom-token", json!({ "token": token }), link_with).await
}

#[tokio::test]
async fn an_external_jwt_logs_in_with_its_sub_and_metadata() {
    let app = hs256_app(None).await;
    let token =
        external(json!({"sub": "ext-42", "exp": in_an_hour(), "name": "Ada", "email": "ada@example.com"}), SECRET);
    let first: Value = jwt_login(&app, &token, None).await.json().await.unwrap();
    assert_eq!(first["profile"]["identities"][0]["provider_type"], "custom-token");
    assert_eq!(first["profile"]["identities"][0]["id"], "ext-42");
    assert_eq!(first["profile"]["data"]["name"], "Ada");
    assert_eq!(first["profile"]["data"]["email"], "ada@example.com");
    let second: Value = jwt_login(&app, &token, None).await.json().await.unwrap();
    assert_eq!(first["user_id"], second["user_id"], "the same sub is the same user");
}

#[tokio::test]
async fn bad_external_jwts_are_refused_without_inviting_a_refresh() {
    let app = hs256_app(Some("my-backend")).await;
    let ok = json!({"sub": "u1", "exp": in_an_hour(), "aud": "my-backend"});
    assert_eq!(jwt_login(&app, &external(ok.clone(), SECRET), None).await.status(), StatusCode::OK);
    let expired = external(json!({"sub": "u1", "exp": 1_000_000_000u64, "aud": "my-backend"}), SECRET);
    let wrong_aud = external(json!({"sub": "u1", "exp": in_an_hour(), "aud": "someone-else"}), SECRET);
    let no_aud = external(json!({"sub": "u1", "exp": in_an_hour()}), SECRET);
    let wrong_key = external(ok.clone(), "another-secret-that-is-32-bytes-long!");
    let no_exp = external(json!({"sub": "u1", "aud": "my-backend"}), SECRET);
    let good = external(ok, SECRET);
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged_payload = base64_url(&json!({"sub": "admin", "exp": in_an_hour(), "aud": "my-backend"}).to_string());
    parts[1] = &forged_payload;
    let tampered = parts.join(".");
    let none = format!("{}.{}.", base64_url(r#"{"alg":"none","typ":"JWT"}"#), forged_payload);
    for bad in [expired, wrong_aud, no_aud, wrong_key, no_exp, tampered, none, "garbage".into()] {
        assert_error(jwt_login(&app, &bad, None).await, 401, "AuthError").await;
    }
    assert_eq!(app.count("users"), 1);
}

fn base64_url(text: &str) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn our_own_access_token_is_not_an_external_jwt_and_the_reverse() {
    let app = hs256_app(None).await;
    let anon = app.anonymous_login().await;
    assert_error(jwt_login(&app, &anon.access_token, None).await, 401, "AuthError").await;
    let ext = external(json!({"sub": "u9", "exp": in_an_hour()}), SECRET);
    assert_error(app.profile(&ext).await, 401, "InvalidSession").await;
}

#[tokio::test]
async fn an_anonymous_user_links_an_external_identity_and_keeps_its_id() {
    let app = hs256_app(None).await;
    let anon = app.anonymous_login().await;
    let token = external(json!({"sub": "ext-7", "exp": in_an_hour(), "name": "Grace"}), SECRET);
    let linked: Value = jwt_login(&app, &token, Some(&anon.access_token)).await.json().await.unwrap();
    assert_eq!(linked["user_id"], anon.user_id.as_str());
    assert_eq!(linked["profile"]["data"]["name"], "Grace");
    let back: Value = jwt_login(&app, &token, None).await.json().await.unwrap();
    assert_eq!(back["user_id"], anon.user_id.as_str());
    // a second anonymous user cannot take the same external identity
    let other = app.anonymous_login().await;
    assert_error(jwt_login(&app, &token, Some(&other.access_token)).await, 409, "AccountNameInUse").await;
}

#[tokio::test]
async fn without_a_key_the_provider_is_off() {
    let app = spawn_app().await;
    let providers: Value =
        app.send(reqwest::Method::GET, &app.app_url("/auth/providers"), None).await.json().await.unwrap();
    assert!(!providers.as_array().unwrap().iter().any(|p| p["type"] == "custom-token"), "{providers}");
    let token = external(json!({"sub": "u1", "exp": in_an_hour()}), SECRET);
    assert_error(jwt_login(&app, &token, None).await, 404, "AuthProviderNotFound").await;
}

#[tokio::test]
async fn an_rs256_public_key_verifies_external_jwts() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let public = fixtures.join("external-jwt-test-public.pem");
    let app = spawn_app_with(move |c| c.custom_jwt_public_key = Some(public)).await;
    let private = std::fs::read(fixtures.join("external-jwt-test-private.pem")).unwrap();
    let key = EncodingKey::from_rsa_pem(&private).unwrap();
    let claims = json!({"sub": "rsa-user", "exp": in_an_hour()});
    let token = encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap();
    assert_eq!(jwt_login(&app, &token, None).await.status(), StatusCode::OK);
    // an HS256 token "signed" with the public key's bytes must not pass (key confusion)
    let public_bytes = std::fs::read(fixtures.join("external-jwt-test-public.pem")).unwrap();
    let confused = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&public_bytes)).unwrap();
    assert_error(jwt_login(&app, &confused, None).await, 401, "AuthError").await;
}
