//! Commenters are shown by a display name, never by anything taken from their email: the
//! backend has only the token (no email in it) and the profile's `name`.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn a_comment_read_by_another_user_carries_no_part_of_the_email() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let member = auth.reader_with_account("carol.private@example.com").await;
    let slug = blog.first_slug(&member.access_token).await;
    let path = format!("/articles/{slug}/comments");
    let posted = blog.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "Nice."}))).await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let named = json!({"text": "Nicer.", "name": "  Carol  "});
    assert_eq!(
        blog.blog(Method::POST, &path, Some(&member.access_token), Some(named)).await.status(),
        StatusCode::CREATED
    );

    let guest = auth.anonymous_login().await;
    let text = blog.article_text(&slug, &guest.access_token).await;
    assert!(!text.contains("carol.private") && !text.contains("example.com"), "{text}");
    let article: Value = serde_json::from_str(&text).unwrap();
    let authors: Vec<&str> =
        article["comments"].as_array().unwrap().iter().map(|c| c["author"].as_str().unwrap()).collect();
    assert_eq!(authors, ["Reader", "Carol"]);
}

#[tokio::test]
async fn a_display_name_is_short_visible_text_and_not_an_address() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let member = auth.reader_with_account("dave@example.com").await;
    let slug = blog.first_slug(&member.access_token).await;
    let path = format!("/articles/{slug}/comments");
    for bad in ["dave@example.com", &"x".repeat(41), "da\u{7}ve"] {
        let resp =
            blog.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "hi", "name": bad}))).await;
        assert_error(resp, 400, "BadRequest").await;
    }
    assert_eq!(blog.count("comments"), 0);
}

#[tokio::test]
async fn a_custom_token_name_claim_is_the_default_display_name() {
    const SECRET: &str = "an-external-backend-secret-of-32+bytes";
    let auth = auth_server(|c| c.custom_jwt_secret = Some(SECRET.into())).await;
    let blog = backend(&auth, |_| {}).await;
    let exp = guestpass_server::ids::now_secs() + 600;
    let claims = json!({"sub": "ext-1", "exp": exp, "name": "Ada", "email": "ada@example.com"});
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let login = auth.login("custom-token", json!({ "token": token })).await;
    let access = login["access_token"].as_str().unwrap();
    let slug = blog.first_slug(access).await;
    let resp =
        blog.blog(Method::POST, &format!("/articles/{slug}/comments"), Some(access), Some(json!({"text": "hi"}))).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let guest = auth.anonymous_login().await;
    let text = blog.article_text(&slug, &guest.access_token).await;
    assert!(!text.contains("ada@"), "{text}");
    let article: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(article["comments"][0]["author"], "Ada");
}
