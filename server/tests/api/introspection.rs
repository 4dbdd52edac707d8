//! Issue 10: `GET /auth/session/verify`, the auth server's own check for immediate revocation.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_live_session_verifies_and_a_revoked_one_is_refused_before_its_token_expires() {
    let app = spawn_app().await;
    let reader = app.reader_with_account("introspect@example.com").await;
    let resp = app.send(Method::GET, &app.url("/auth/session/verify"), Some(&reader.access_token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!((body["active"].as_bool(), body["is_anonymous"].as_bool()), (Some(true), Some(false)));
    assert_eq!(body["user_id"], reader.user_id.as_str());
    assert_eq!(app.logout(&reader.refresh_token).await.status(), StatusCode::NO_CONTENT);
    let exp = claims(&reader.access_token)["exp"].as_u64().unwrap();
    assert!(exp > guestpass_server::ids::now_secs(), "the token itself has not expired");
    let resp = app.send(Method::GET, &app.url("/auth/session/verify"), Some(&reader.access_token)).await;
    assert_error(resp, 401, "InvalidSession").await;
    assert_error(app.send(Method::GET, &app.url("/auth/session/verify"), None).await, 401, "MissingAuthReq").await;
}
