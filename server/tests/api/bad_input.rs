//! Bad input: each answered with the protocol's JSON error, never a 500, and nothing changes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

fn login_url(app: &TestApp) -> String {
    app.app_url("/auth/providers/anon-user/login")
}

#[tokio::test]
async fn malformed_json_is_a_bad_request_and_creates_nobody() {
    let app = spawn_app().await;
    for body in ["{", "{\"options\": [}", "not json", "{\"options\": 5}", "[1,2]"] {
        assert_error(app.post_json(&login_url(&app), body).await, 400, "BadRequest").await;
    }
    assert_eq!(app.count("users"), 0);
}

#[tokio::test]
async fn a_json_error_never_echoes_the_input() {
    let app = spawn_app().await;
    let body =
        assert_error(app.post_json(&login_url(&app), r#"{"options": "hunter2-secret"}"#).await, 400, "BadRequest")
            .await;
    assert!(!body.to_string().contains("hunter2"), "{body}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let app = spawn_app().await;
    let big = format!("{{\"options\":{{\"pad\":\"{}\"}}}}", "a".repeat(70 * 1024));
    assert_error(app.post_json(&login_url(&app), &big).await, 413, "ReadSizeLimitExceeded").await;
    assert_eq!(app.count("users"), 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_unsupported_media_type() {
    let app = spawn_app().await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonp"] {
        let resp =
            app.client.post(login_url(&app)).header("content-type", content_type).body("{}").send().await.unwrap();
        assert_error(resp, 415, "UnsupportedMediaType").await;
    }
    assert_eq!(app.count("users"), 0);
}

#[tokio::test]
async fn json_with_a_charset_is_accepted() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(login_url(&app))
        .header("content-type", "application/json;charset=utf-8")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_app_id_is_not_found_on_every_app_route() {
    let app = spawn_app().await;
    let base = app.url("/app/no-such-app");
    for (method, path) in [
        (Method::GET, "/location"),
        (Method::GET, "/auth/providers"),
        (Method::POST, "/auth/providers/anon-user/login"),
    ] {
        let body = assert_error(app.send(method, &format!("{base}{path}"), None).await, 404, "AppNotFound").await;
        assert!(body["error"].as_str().unwrap().contains("cannot find app using Client App ID 'no-such-app'"));
    }
    assert_eq!(app.count("users"), 0);
}

#[tokio::test]
async fn an_unknown_provider_is_not_found() {
    let app = spawn_app().await;
    let resp = app.post_json(&app.app_url("/auth/providers/oauth2-nowhere/login"), "{}").await;
    assert_error(resp, 404, "AuthProviderNotFound").await;
}

#[tokio::test]
async fn linking_anonymous_credentials_is_a_bad_request() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let url = format!("{}?link=true", login_url(&app));
    assert_error(app.send(Method::POST, &url, Some(&login.access_token)).await, 400, "BadRequest").await;
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn a_missing_token_asks_to_authenticate_without_inviting_a_refresh() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/auth/profile"),
        (Method::POST, "/auth/session"),
        (Method::DELETE, "/auth/session"),
        (Method::DELETE, "/auth/delete"),
    ] {
        assert_error(app.send(method.clone(), &app.url(path), None).await, 401, "MissingAuthReq").await;
        // realm-web sends "Bearer null" for a logged-out user
        assert_error(app.send(method, &app.url(path), Some("null")).await, 401, "MissingAuthReq").await;
    }
}

#[tokio::test]
async fn garbage_tokens_are_invalid_sessions() {
    let app = spawn_app().await;
    for token in ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "....", "e30.e30.e30", &"x".repeat(8000)] {
        assert_error(app.profile(token).await, 401, "InvalidSession").await;
        assert_error(app.refresh(token).await, 401, "InvalidSession").await;
    }
}

/// Re-encodes a token's payload with `edit` applied, keeping the original signature.
fn tampered(jwt: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = claims(jwt);
    edit(&mut payload);
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2])
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    let victim = app.anonymous_login().await;
    let attacker = app.anonymous_login().await;
    let forged = tampered(&attacker.access_token, |c| c["sub"] = json!(victim.user_id));
    assert_error(app.profile(&forged).await, 401, "InvalidSession").await;
    let longer = tampered(&attacker.access_token, |c| c["exp"] = json!(c["exp"].as_u64().unwrap() + 86400));
    assert_error(app.profile(&longer).await, 401, "InvalidSession").await;
    assert_error(app.delete_me(&forged).await, 401, "InvalidSession").await;
    assert_eq!(app.count("users"), 2);
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = login.access_token.split('.').nth(1).unwrap();
    for token in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
        assert_error(app.profile(&token).await, 401, "InvalidSession").await;
    }
}

#[tokio::test]
async fn a_token_signed_with_another_key_or_for_another_app_is_refused() {
    let app = spawn_app().await;
    let other = spawn_app().await; // its own data dir, so its own key
    let foreign = other.anonymous_login().await;
    assert_error(app.profile(&foreign.access_token).await, 401, "InvalidSession").await;
    let shared_key = "k".repeat(32);
    let key = guestpass_server::config::Secret::from(shared_key.as_str());
    let a = spawn_app_with(|c| c.signing_key = Some(key.clone())).await;
    let b = spawn_app_with(|c| {
        c.signing_key = Some(key.clone());
        c.app_id = "other-app".into();
    })
    .await;
    let body: serde_json::Value =
        b.post_json(&b.url("/app/other-app/auth/providers/anon-user/login"), "{}").await.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_error(a.profile(token).await, 401, "InvalidSession").await;
}

#[tokio::test]
async fn a_revoked_refresh_token_is_refused() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    app.logout(&login.refresh_token).await;
    assert_error(app.refresh(&login.refresh_token).await, 401, "InvalidSession").await;
}

#[tokio::test]
async fn a_wrong_method_or_route_is_answered_in_json() {
    let app = spawn_app().await;
    assert_error(app.send(Method::PUT, &app.url("/auth/session"), None).await, 405, "MethodNotAllowed").await;
    assert_error(app.send(Method::PATCH, &app.url("/auth/profile"), None).await, 405, "MethodNotAllowed").await;
    assert_error(app.send(Method::GET, &app.url("/no/such/route"), None).await, 404, "NotFound").await;
}

#[tokio::test]
async fn a_page_on_another_origin_may_call_every_route() {
    let app = spawn_app().await;
    for (method, path) in
        [("POST", login_url(&app)), ("POST", app.url("/auth/session")), ("GET", app.url("/auth/profile"))]
    {
        let resp = app
            .client
            .request(Method::OPTIONS, &path)
            .header("origin", "http://127.0.0.1:5173")
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization,content-type")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "http://127.0.0.1:5173");
        assert!(h["access-control-allow-methods"].to_str().unwrap().contains(method));
        assert!(h["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    }
    let resp = app.client.get(app.app_url("/location")).header("origin", "http://elsewhere.test").send().await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "http://elsewhere.test");
}
