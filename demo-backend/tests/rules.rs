//! The demo blog's rules, enforced by its own backend on tokens from a real auth server:
//! anyone signed in reads, the reading list is the token's own user's, only readers with an
//! account comment.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn any_signed_in_reader_can_read_articles_and_nobody_else() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let guest = auth.anonymous_login().await;
    let list: Value = blog.blog(Method::GET, "/articles", Some(&guest.access_token), None).await.json().await.unwrap();
    let articles = list["articles"].as_array().unwrap();
    assert!(articles.len() >= 24, "a few dozen articles are seeded, got {}", articles.len());
    let slug = articles[0]["slug"].as_str().unwrap();
    let resp = blog.blog(Method::GET, &format!("/articles/{slug}"), Some(&guest.access_token), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let article: Value = resp.json().await.unwrap();
    assert!(article["blocks"].as_array().unwrap().iter().any(|b| b["type"] == "p"));
    assert_error(blog.blog(Method::GET, "/articles", None, None).await, 401, "MissingAuthReq").await;
    let missing = blog.blog(Method::GET, "/articles/no-such-article", Some(&guest.access_token), None).await;
    assert_error(missing, 404, "ArticleNotFound").await;
}

#[tokio::test]
async fn a_reading_list_belongs_to_its_reader_alone() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let alice = auth.anonymous_login().await;
    let bob = auth.anonymous_login().await;
    let slug = blog.first_slug(&alice.access_token).await;
    let path = format!("/reading-list/{slug}");
    let saved = blog.blog(Method::PUT, &path, Some(&alice.access_token), Some(json!({"saved": true}))).await;
    assert_eq!(saved.status(), StatusCode::OK);
    blog.blog(Method::PUT, &path, Some(&alice.access_token), Some(json!({"progress": 0.4}))).await;
    let mine: Value =
        blog.blog(Method::GET, "/reading-list", Some(&alice.access_token), None).await.json().await.unwrap();
    assert_eq!(mine["entries"][0]["slug"], slug.as_str());
    assert_eq!(
        (mine["entries"][0]["saved"].as_bool(), mine["entries"][0]["progress"].as_f64()),
        (Some(true), Some(0.4))
    );
    // Bob sees only his own (empty) list, and his writes land in his own list
    let his: Value = blog.blog(Method::GET, "/reading-list", Some(&bob.access_token), None).await.json().await.unwrap();
    assert_eq!(his["entries"], json!([]));
    blog.blog(Method::PUT, &path, Some(&bob.access_token), Some(json!({"saved": false, "progress": 0.0}))).await;
    let still: Value =
        blog.blog(Method::GET, "/reading-list", Some(&alice.access_token), None).await.json().await.unwrap();
    assert_eq!(still, mine, "Bob's write did not touch Alice's list");
    // and a forged token cannot name Alice
    assert_error(blog.blog(Method::GET, "/reading-list", Some("forged"), None).await, 401, "InvalidSession").await;
}

#[tokio::test]
async fn bad_reading_updates_are_refused_and_write_nothing() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let guest = auth.anonymous_login().await;
    let slug = blog.first_slug(&guest.access_token).await;
    let path = format!("/reading-list/{slug}");
    for body in [json!({"progress": 1.5}), json!({"progress": -0.1}), json!({}), json!({"saved": "yes"})] {
        assert_error(blog.blog(Method::PUT, &path, Some(&guest.access_token), Some(body)).await, 400, "BadRequest")
            .await;
    }
    let client = reqwest::Client::new();
    let not_json = client
        .put(format!("{}/api/blog{path}", blog.base))
        .bearer_auth(&guest.access_token)
        .header("content-type", "application/json")
        .body("{saved")
        .send()
        .await
        .unwrap();
    assert_error(not_json, 400, "BadRequest").await;
    let unknown =
        blog.blog(Method::PUT, "/reading-list/nope", Some(&guest.access_token), Some(json!({"saved": true}))).await;
    assert_error(unknown, 404, "ArticleNotFound").await;
    assert_eq!(blog.count("reading"), 0);
}

#[tokio::test]
async fn only_readers_with_an_account_may_comment() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let guest = auth.anonymous_login().await;
    let slug = blog.first_slug(&guest.access_token).await;
    let path = format!("/articles/{slug}/comments");
    let refused = blog.blog(Method::POST, &path, Some(&guest.access_token), Some(json!({"text": "hello"}))).await;
    let body = assert_error(refused, 403, "CommentRequiresAccount").await;
    assert_eq!(body["error"], "create an account to comment");
    assert_eq!(blog.count("comments"), 0);
    let member = auth.reader_with_account("member@example.com").await;
    let posted =
        blog.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "Lovely piece."}))).await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let article: Value = serde_json::from_str(&blog.article_text(&slug, &guest.access_token).await).unwrap();
    assert_eq!(article["comments"][0]["text"], "Lovely piece.");
    assert_eq!(article["comments"][0]["author"], "Reader", "no name given, none in the profile");
    let empty = blog.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "   "}))).await;
    assert_error(empty, 400, "BadRequest").await;
    assert_eq!(blog.count("comments"), 1);
}

#[tokio::test]
async fn what_a_deleted_user_wrote_stays() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let member = auth.reader_with_account("leaving@example.com").await;
    let slug = blog.first_slug(&member.access_token).await;
    let comment = json!({"text": "bye"});
    let path = format!("/articles/{slug}/comments");
    let posted = blog.blog(Method::POST, &path, Some(&member.access_token), Some(comment)).await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let saved = json!({"saved": true});
    blog.blog(Method::PUT, &format!("/reading-list/{slug}"), Some(&member.access_token), Some(saved)).await;
    auth.delete_me(&member.access_token).await;
    assert_eq!((blog.count("comments"), blog.count("reading")), (1, 1));
    let guest = auth.anonymous_login().await;
    let article: Value = serde_json::from_str(&blog.article_text(&slug, &guest.access_token).await).unwrap();
    assert_eq!(article["comments"][0]["text"], "bye");
}
