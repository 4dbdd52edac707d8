//! `POST /api/blog/merge`: a guest who signs in to an existing account brings its reading list
//! along, with the auth server's merge proof, verified here through the JWKS (docs/merge.md).

mod common;

use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn put(blog: &Backend, token: &str, slug: &str, body: Value) {
    let resp = blog.blog(Method::PUT, &format!("/reading-list/{slug}"), Some(token), Some(body)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn list(blog: &Backend, token: &str) -> Vec<Value> {
    let resp = blog.blog(Method::GET, "/reading-list", Some(token), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

fn entry<'a>(entries: &'a [Value], slug: &str) -> &'a Value {
    entries.iter().find(|e| e["slug"] == slug).unwrap_or_else(|| panic!("{slug} in {entries:?}"))
}

async fn merge(blog: &Backend, token: &str, proof: &str) -> reqwest::Response {
    blog.blog(Method::POST, "/merge", Some(token), Some(json!({ "proof": proof }))).await
}

async fn slugs(blog: &Backend, token: &str) -> Vec<String> {
    let list: Value = blog.blog(Method::GET, "/articles", Some(token), None).await.json().await.unwrap();
    list["articles"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_merge_moves_the_union_into_the_account_and_the_newest_progress_wins() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let account = auth.account("owner@example.com").await;
    let s = slugs(&blog, &account.access_token).await;
    let guest = auth.anonymous_login().await;
    // The account, before the guest: saved s0, read s4 to 20%.
    put(&blog, &account.access_token, &s[0], json!({ "saved": true })).await;
    put(&blog, &account.access_token, &s[4], json!({ "progress": 0.2 })).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The guest: saves s0 (already the account's), s1, s2, s3; reads s4 (later: wins) and s5.
    for slug in &s[0..4] {
        put(&blog, &guest.access_token, slug, json!({ "saved": true })).await;
    }
    put(&blog, &guest.access_token, &s[4], json!({ "progress": 0.7 })).await;
    put(&blog, &guest.access_token, &s[5], json!({ "progress": 0.5 })).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The account again, after the guest, on s5: its own progress is newer and stays.
    put(&blog, &account.access_token, &s[5], json!({ "progress": 0.9 })).await;

    let (signed_in, merge_answer) = auth.merge_login(&guest, "owner@example.com").await;
    assert_eq!(signed_in.user_id, account.user_id);
    let resp = merge(&blog, &signed_in.access_token, merge_answer["proof"].as_str().unwrap()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let moved: Value = resp.json().await.unwrap();
    assert_eq!(moved["moved"], 6, "{moved}");
    assert_eq!(moved["saved_added"], 3, "s1, s2, s3: s0 was saved already; {moved}");
    assert_eq!((moved["from"].as_str(), moved["into"].as_str()), (Some(&*guest.user_id), Some(&*account.user_id)));

    let entries = list(&blog, &signed_in.access_token).await;
    assert_eq!(entries.len(), 6, "the union: {entries:?}");
    for slug in &s[0..4] {
        assert_eq!(entry(&entries, slug)["saved"], true, "{slug}");
    }
    assert_eq!(entry(&entries, &s[4])["progress"], 0.7, "the guest's progress was newer");
    assert_eq!(entry(&entries, &s[5])["progress"], 0.9, "the account's progress was newer");
    assert!(list(&blog, &guest.access_token).await.is_empty(), "nothing is left under the guest");
}

#[tokio::test]
async fn a_replayed_proof_moves_nothing_twice() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    auth.account("owner@example.com").await;
    let guest = auth.anonymous_login().await;
    let s = slugs(&blog, &guest.access_token).await;
    put(&blog, &guest.access_token, &s[0], json!({ "saved": true })).await;
    let (account, m) = auth.merge_login(&guest, "owner@example.com").await;
    let proof = m["proof"].as_str().unwrap();
    assert_eq!(merge(&blog, &account.access_token, proof).await.status(), StatusCode::OK);
    // The guest saves again (its session lives until the page completes the merge).
    put(&blog, &guest.access_token, &s[1], json!({ "saved": true })).await;
    assert_error(merge(&blog, &account.access_token, proof).await, 409, "MergeProofRedeemed").await;
    assert_eq!(list(&blog, &account.access_token).await.len(), 1, "the replay moved nothing");
    assert_eq!(list(&blog, &guest.access_token).await.len(), 1);
    assert_eq!(blog.count("merges"), 1);
}

#[tokio::test]
async fn an_expired_proof_is_refused() {
    let auth = auth_server(|c| c.merge_proof_ttl = Duration::from_secs(1)).await;
    let blog = backend(&auth, |_| {}).await;
    auth.account("owner@example.com").await;
    let guest = auth.anonymous_login().await;
    let s = slugs(&blog, &guest.access_token).await;
    put(&blog, &guest.access_token, &s[0], json!({ "saved": true })).await;
    let (account, m) = auth.merge_login(&guest, "owner@example.com").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let body =
        assert_error(merge(&blog, &account.access_token, m["proof"].as_str().unwrap()).await, 401, "InvalidMergeProof")
            .await;
    assert!(body["error"].as_str().unwrap().contains("expired"), "{body}");
    assert_eq!((blog.count("merges"), list(&blog, &guest.access_token).await.len()), (0, 1), "nothing moved");
}

#[tokio::test]
async fn a_proof_for_another_audience_is_refused() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    let account = auth.account("owner@example.com").await;
    let guest = auth.anonymous_login().await;
    // Signed with this auth server's key, for another app.
    let tokens = guestpass_server::tokens::AccessTokens::new(
        (*auth.state.tokens.ring()).clone(),
        auth.state.tokens.issuer(),
        "another-app",
        Duration::from_secs(60),
        Duration::from_secs(60),
    );
    let (proof, _) = guestpass_server::merge_proofs::MergeProofs::new(tokens, Duration::from_secs(300))
        .issue(&guest.user_id, &account.user_id, guestpass_server::ids::now_secs())
        .unwrap();
    let body = assert_error(merge(&blog, &account.access_token, &proof).await, 401, "InvalidMergeProof").await;
    assert!(body["error"].as_str().unwrap().contains("Audience"), "{body}");
    assert_eq!(blog.count("merges"), 0);
}

#[tokio::test]
async fn a_proof_with_from_and_into_swapped_is_refused() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    auth.account("owner@example.com").await;
    let guest = auth.anonymous_login().await;
    let s = slugs(&blog, &guest.access_token).await;
    put(&blog, &guest.access_token, &s[0], json!({ "saved": true })).await;
    let (account, m) = auth.merge_login(&guest, "owner@example.com").await;
    let proof = m["proof"].as_str().unwrap();
    // Presented by the guest, the proof names another account as its target.
    assert_error(merge(&blog, &guest.access_token, proof).await, 403, "MergeProofNotForYou").await;
    // Rewritten to move the account into the guest, its signature no longer holds.
    let parts: Vec<&str> = proof.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["from"] = json!(account.user_id);
    claims["into"] = json!(guest.user_id);
    let swapped = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert_error(merge(&blog, &guest.access_token, &swapped).await, 401, "InvalidMergeProof").await;
    assert_eq!(blog.count("merges"), 0);
    assert!(list(&blog, &account.access_token).await.is_empty());
    // The genuine proof, by the account it names, still works.
    assert_eq!(merge(&blog, &account.access_token, proof).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_access_token_is_not_a_proof_and_a_proof_is_not_an_access_token() {
    let auth = auth_server(|_| {}).await;
    let blog = backend(&auth, |_| {}).await;
    auth.account("owner@example.com").await;
    let guest = auth.anonymous_login().await;
    let (account, m) = auth.merge_login(&guest, "owner@example.com").await;
    let body =
        assert_error(merge(&blog, &account.access_token, &account.access_token).await, 401, "InvalidMergeProof").await;
    assert!(body["error"].is_string());
    let proof = m["proof"].as_str().unwrap();
    let as_token = blog.blog(Method::GET, "/reading-list", Some(proof), None).await;
    assert_error(as_token, 401, "InvalidSession").await;
    assert_error(
        blog.blog(Method::POST, "/merge", Some(&account.access_token), Some(json!({}))).await,
        400,
        "BadRequest",
    )
    .await;
}
