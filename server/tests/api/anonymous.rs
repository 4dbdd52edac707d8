use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::*;

#[tokio::test]
async fn location_names_this_server_as_the_hostname() {
    let app = spawn_app().await;
    let resp = app.send(Method::GET, &app.app_url("/location"), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["hostname"], app.base);
    assert_eq!(body["ws_hostname"], app.base.replacen("http", "ws", 1));
}

#[tokio::test]
async fn providers_lists_the_anonymous_provider() {
    let app = spawn_app().await;
    let body: Value = app.send(Method::GET, &app.app_url("/auth/providers"), None).await.json().await.unwrap();
    let list = body.as_array().unwrap();
    assert!(list.iter().any(|p| p["name"] == "anon-user" && p["type"] == "anon-user"), "{body}");
}

#[tokio::test]
async fn anonymous_login_answers_ids_tokens_and_the_profile() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    assert!(is_hex24(&login.user_id));
    assert!(is_hex24(&login.device_id));
    assert_eq!(login.refresh_token.len(), 43);
    let profile = &login.body["profile"];
    assert_eq!(profile["user_id"], login.user_id.as_str());
    assert_eq!(profile["identities"].as_array().unwrap().len(), 1);
    assert_eq!(profile["identities"][0]["provider_type"], "anon-user");
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn every_anonymous_login_creates_a_new_user() {
    let app = spawn_app().await;
    let a = app.anonymous_login().await;
    let b = app.anonymous_login().await;
    assert_ne!(a.user_id, b.user_id);
    assert_ne!(a.refresh_token, b.refresh_token);
    assert_eq!(app.count("users"), 2);
}

#[tokio::test]
async fn login_accepts_an_empty_body_and_keeps_a_sent_device_id() {
    let app = spawn_app().await;
    let empty = app.send(Method::POST, &app.app_url("/auth/providers/anon-user/login"), None).await;
    assert_eq!(empty.status(), StatusCode::OK);
    let body = r#"{"options":{"device":{"deviceId":{"$oid":"650000000000000000000001"},"platform":"chrome"}}}"#;
    let resp = app.post_json(&app.app_url("/auth/providers/anon-user/login"), body).await;
    let json: Value = resp.json().await.unwrap();
    assert_eq!(json["device_id"], "650000000000000000000001");
    assert_eq!(claims(json["access_token"].as_str().unwrap())["baas_device_id"], "650000000000000000000001");
}

#[tokio::test]
async fn login_ignores_an_authorization_header() {
    // realm-web sends the current user's access token on login-adjacent calls (docs/wire.md).
    let app = spawn_app().await;
    let resp = app.send(Method::POST, &app.app_url("/auth/providers/anon-user/login"), Some("garbage")).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_access_token_carries_the_documented_claims() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let c = claims(&login.access_token);
    assert_eq!(c["sub"], login.user_id.as_str());
    assert_eq!(c["typ"], "access");
    assert_eq!(c["aud"], APP_ID);
    assert_eq!(c["baas_device_id"], login.device_id.as_str());
    assert_eq!(c["is_anonymous"], true);
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 30 * 60, "30 minutes by default");
}

#[tokio::test]
async fn the_refresh_token_is_stored_only_as_a_hash() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let hash: Vec<u8> = Sha256::digest(login.refresh_token.as_bytes()).to_vec();
    let (hashes, other_columns) = app.db.session_rows();
    assert_eq!(hashes, vec![hash]);
    assert!(!other_columns.contains(&login.refresh_token));
}
