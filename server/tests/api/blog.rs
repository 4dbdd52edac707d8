//! The demo blog's rules, enforced by the server.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn first_slug(app: &TestApp, token: &str) -> String {
    let list: Value = app.blog(Method::GET, "/articles", Some(token), None).await.json().await.unwrap();
    list["articles"][0]["slug"].as_str().expect("articles are seeded").to_owned()
}

#[tokio::test]
async fn any_signed_in_reader_can_read_articles_and_nobody_else() {
    let app = spawn_app().await;
    let guest = app.anonymous_login().await;
    let list: Value = app.blog(Method::GET, "/articles", Some(&guest.access_token), None).await.json().await.unwrap();
    let articles = list["articles"].as_array().unwrap();
    assert!(articles.len() >= 24, "a few dozen articles are seeded, got {}", articles.len());
    let slug = articles[0]["slug"].as_str().unwrap();
    let resp = app.blog(Method::GET, &format!("/articles/{slug}"), Some(&guest.access_token), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let article: Value = resp.json().await.unwrap();
    assert!(article["blocks"].as_array().unwrap().iter().any(|b| b["type"] == "p"));
    assert_error(app.blog(Method::GET, "/articles", None, None).await, 401, "MissingAuthReq").await;
    let missing = app.blog(Method::GET, "/articles/no-such-article", Some(&guest.access_token), None).await;
    assert_error(missing, 404, "ArticleNotFound").await;
}

#[tokio::test]
async fn a_reading_list_belongs_to_its_reader_alone() {
    let app = spawn_app().await;
    let alice = app.anonymous_login().await;
    let bob = app.anonymous_login().await;
    let slug = first_slug(&app, &alice.access_token).await;
    let path = format!("/reading-list/{slug}");
    let saved = app.blog(Method::PUT, &path, Some(&alice.access_token), Some(json!({"saved": true}))).await;
    assert_eq!(saved.status(), StatusCode::OK);
    app.blog(Method::PUT, &path, Some(&alice.access_token), Some(json!({"progress": 0.4}))).await;
    let mine: Value =
        app.blog(Method::GET, "/reading-list", Some(&alice.access_token), None).await.json().await.unwrap();
    assert_eq!(mine["entries"][0]["slug"], slug.as_str());
    assert_eq!(
        (mine["entries"][0]["saved"].as_bool(), mine["entries"][0]["progress"].as_f64()),
        (Some(true), Some(0.4))
    );
    // Bob sees only his own (empty) list, and his writes land in his own list
    let his: Value = app.blog(Method::GET, "/reading-list", Some(&bob.access_token), None).await.json().await.unwrap();
    assert_eq!(his["entries"], json!([]));
    app.blog(Method::PUT, &path, Some(&bob.access_token), Some(json!({"saved": false, "progress": 0.0}))).await;
    let still: Value =
        app.blog(Method::GET, "/reading-list", Some(&alice.access_token), None).await.json().await.unwrap();
    assert_eq!(still, mine, "Bob's write did not touch Alice's list");
    // and a forged token cannot name Alice
    assert_error(app.blog(Method::GET, "/reading-list", Some("forged"), None).await, 401, "InvalidSession").await;
}

#[tokio::test]
async fn bad_reading_updates_are_refused() {
    let app = spawn_app().await;
    let guest = app.anonymous_login().await;
    let slug = first_slug(&app, &guest.access_token).await;
    let path = format!("/reading-list/{slug}");
    for body in [json!({"progress": 1.5}), json!({"progress": -0.1}), json!({}), json!({"saved": "yes"})] {
        assert_error(app.blog(Method::PUT, &path, Some(&guest.access_token), Some(body)).await, 400, "BadRequest")
            .await;
    }
    let unknown =
        app.blog(Method::PUT, "/reading-list/nope", Some(&guest.access_token), Some(json!({"saved": true}))).await;
    assert_error(unknown, 404, "ArticleNotFound").await;
    assert_eq!(app.count("reading"), 0);
}

#[tokio::test]
async fn only_readers_with_an_account_may_comment() {
    let app = spawn_app().await;
    let guest = app.anonymous_login().await;
    let slug = first_slug(&app, &guest.access_token).await;
    let path = format!("/articles/{slug}/comments");
    let refused = app.blog(Method::POST, &path, Some(&guest.access_token), Some(json!({"text": "hello"}))).await;
    let body = assert_error(refused, 403, "CommentRequiresAccount").await;
    assert_eq!(body["error"], "create an account to comment");
    assert_eq!(app.count("comments"), 0);
    let member = app.reader_with_account("member@example.com").await;
    let posted =
        app.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "Lovely piece."}))).await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let article: Value = app
        .blog(Method::GET, &format!("/articles/{slug}"), Some(&guest.access_token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(article["comments"][0]["text"], "Lovely piece.");
    assert_eq!(article["comments"][0]["author"], "Reader", "no name given, none in the profile");
    let empty = app.blog(Method::POST, &path, Some(&member.access_token), Some(json!({"text": "   "}))).await;
    assert_error(empty, 400, "BadRequest").await;
}

#[tokio::test]
async fn what_a_deleted_user_wrote_stays() {
    let app = spawn_app().await;
    let member = app.reader_with_account("leaving@example.com").await;
    let slug = first_slug(&app, &member.access_token).await;
    app.blog(
        Method::POST,
        &format!("/articles/{slug}/comments"),
        Some(&member.access_token),
        Some(json!({"text": "bye"})),
    )
    .await;
    app.blog(Method::PUT, &format!("/reading-list/{slug}"), Some(&member.access_token), Some(json!({"saved": true})))
        .await;
    assert_eq!(app.delete_me(&member.access_token).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count("users"), 0);
    assert_eq!((app.count("comments"), app.count("reading")), (1, 1));
    let guest = app.anonymous_login().await;
    let article: Value = app
        .blog(Method::GET, &format!("/articles/{slug}"), Some(&guest.access_token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(article["comments"][0]["text"], "bye");
}
