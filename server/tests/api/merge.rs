//! Merging a guest into an existing account (issue 14): `login?merge=true` issues a proof only
//! to the holder of both the anonymous session and the account's credentials, and
//! `auth/merge/redeem` accepts each proof once. Both stores: the postgres stage runs these too.

use std::time::Duration;

use futures::future::join_all;
use guestpass_server::{merge_proofs::MergeProofs, store::MergeProofRecord, tokens::AccessTokens};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const PASSWORD: &str = "password1";

/// An anonymous user (the guest) and an existing, separate email account.
async fn guest_and_account(app: &TestApp, email: &str) -> (Login, String) {
    assert_eq!(app.register(email, PASSWORD).await.status(), StatusCode::CREATED);
    let owner: Value = app.email_login(email, PASSWORD, None).await.json().await.unwrap();
    let guest = app.anonymous_login().await;
    (guest, owner["user_id"].as_str().unwrap().to_owned())
}

async fn merge_login(app: &TestApp, email: &str, password: &str, bearer: Option<&str>) -> reqwest::Response {
    let url = app.app_url("/auth/providers/local-userpass/login?merge=true");
    let mut req = app.client.post(url).json(&json!({ "username": email, "password": password }));
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("request sent")
}

async fn redeem(app: &TestApp, proof: &str) -> reqwest::Response {
    app.post_json(&app.url("/auth/merge/redeem"), &json!({ "proof": proof }).to_string()).await
}

/// A guest merged into a new account: the answer's body.
async fn merged(app: &TestApp, email: &str) -> (Login, String, Value) {
    let (guest, account) = guest_and_account(app, email).await;
    let resp = merge_login(app, email, PASSWORD, Some(&guest.access_token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    (guest, account, resp.json().await.unwrap())
}

fn header(jwt: &str) -> Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap()
}

#[tokio::test]
async fn a_merge_login_logs_in_to_the_account_and_answers_a_signed_proof_naming_both_users() {
    let app = spawn_app().await;
    let (guest, account, body) = merged(&app, "owner@example.com").await;
    assert_eq!(body["user_id"], account.as_str(), "logged in to the existing account");
    assert!(body["refresh_token"].is_string(), "a session of its own, as a login");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["is_anonymous"], false);
    assert_eq!(body["merge"]["from"], guest.user_id.as_str());
    assert_eq!(body["merge"]["into"], account.as_str());
    let proof = body["merge"]["proof"].as_str().unwrap();
    let c = claims(proof);
    assert_eq!(
        (c["typ"].as_str(), c["from"].as_str(), c["into"].as_str()),
        (Some("merge"), Some(&*guest.user_id), Some(&*account))
    );
    assert_eq!(c["aud"], APP_ID);
    assert_eq!(c["iss"], app.base.as_str());
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 300, "five minutes by default");
    let h = header(proof);
    assert_eq!((h["typ"].as_str(), h["alg"].as_str()), (Some("merge+jwt"), Some("ES256")));
    let jwks: Value =
        app.client.get(format!("{}/.well-known/jwks.json", app.base)).send().await.unwrap().json().await.unwrap();
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == h["kid"]), "signed by a published key");
    assert_eq!(app.count("merge_proofs"), 1, "its jti recorded");
    // The guest stays until the page completes the merge.
    assert_eq!(app.profile(&guest.access_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_the_anonymous_session_no_proof_and_no_session_are_issued() {
    let app = spawn_app_with(|c| c.access_token_ttl = Duration::from_secs(1)).await;
    let (guest, _) = guest_and_account(&app, "owner@example.com").await;
    let sessions = app.count("sessions");
    assert_error(merge_login(&app, "owner@example.com", PASSWORD, None).await, 401, "MissingAuthReq").await;
    let mut forged = guest.access_token.clone();
    forged.pop();
    assert_error(merge_login(&app, "owner@example.com", PASSWORD, Some(&forged)).await, 401, "InvalidSession").await;
    sleep(2.1).await;
    let expired = merge_login(&app, "owner@example.com", PASSWORD, Some(&guest.access_token)).await;
    assert_error(expired, 401, "InvalidSession").await;
    assert_eq!((app.count("merge_proofs"), app.count("sessions")), (0, sessions), "nothing issued");
}

#[tokio::test]
async fn a_guest_that_logged_out_cannot_merge() {
    let app = spawn_app().await;
    let (guest, _) = guest_and_account(&app, "owner@example.com").await;
    assert_eq!(app.logout(&guest.refresh_token).await.status(), StatusCode::NO_CONTENT);
    let resp = merge_login(&app, "owner@example.com", PASSWORD, Some(&guest.access_token)).await;
    assert_error(resp, 401, "InvalidSession").await;
    assert_eq!(app.count("merge_proofs"), 0);
}

#[tokio::test]
async fn without_the_accounts_credentials_no_proof_is_issued() {
    let app = spawn_app().await;
    let (guest, _) = guest_and_account(&app, "owner@example.com").await;
    let sessions = app.count("sessions");
    let wrong = merge_login(&app, "owner@example.com", "not-the-password", Some(&guest.access_token)).await;
    assert_error(wrong, 401, "InvalidPassword").await;
    let nobody = merge_login(&app, "nobody@example.com", PASSWORD, Some(&guest.access_token)).await;
    assert_error(nobody, 401, "InvalidPassword").await;
    assert_eq!((app.count("merge_proofs"), app.count("sessions")), (0, sessions), "nothing issued");
    assert_eq!(app.profile(&guest.access_token).await.status(), StatusCode::OK, "the guest is untouched");
}

#[tokio::test]
async fn a_signed_in_user_is_not_merged_from() {
    let app = spawn_app().await;
    let (_, _) = guest_and_account(&app, "owner@example.com").await;
    let member = app.reader_with_account("member@example.com").await;
    let resp = merge_login(&app, "owner@example.com", PASSWORD, Some(&member.access_token)).await;
    assert_error(resp, 400, "MergeFromNotAnonymous").await;
    assert_eq!(app.count("merge_proofs"), 0);
}

#[tokio::test]
async fn merge_cannot_be_asked_of_an_anonymous_login_or_together_with_link() {
    let app = spawn_app().await;
    let (guest, _) = guest_and_account(&app, "owner@example.com").await;
    let anon = app
        .client
        .post(app.app_url("/auth/providers/anon-user/login?merge=true"))
        .bearer_auth(&guest.access_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(anon, 400, "BadRequest").await;
    let both = app
        .client
        .post(app.app_url("/auth/providers/local-userpass/login?link=true&merge=true"))
        .bearer_auth(&guest.access_token)
        .json(&json!({ "username": "owner@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_error(both, 400, "BadRequest").await;
    assert_eq!(app.count("merge_proofs"), 0);
}

#[tokio::test]
async fn a_proof_is_redeemed_once_and_then_refused() {
    let app = spawn_app().await;
    let (guest, account, body) = merged(&app, "owner@example.com").await;
    let proof = body["merge"]["proof"].as_str().unwrap();
    let first = redeem(&app, proof).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.json::<Value>().await.unwrap(), json!({ "from": guest.user_id, "into": account }));
    assert_error(redeem(&app, proof).await, 409, "MergeProofRedeemed").await;
}

#[tokio::test]
async fn of_redemptions_racing_on_one_proof_exactly_one_succeeds() {
    let app = spawn_app().await;
    let (guest, _) = guest_and_account(&app, "owner@example.com").await;
    for round in 0..30 {
        let resp = merge_login(&app, "owner@example.com", PASSWORD, Some(&guest.access_token)).await;
        let body: Value = resp.json().await.unwrap();
        let proof = body["merge"]["proof"].as_str().unwrap().to_owned();
        let answers = join_all((0..8).map(|_| redeem(&app, &proof))).await;
        let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "round {round}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "round {round}: {statuses:?}");
    }
}

#[tokio::test]
async fn a_tampered_proof_is_refused() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let app = spawn_app().await;
    let (guest, account, body) = merged(&app, "owner@example.com").await;
    let proof = body["merge"]["proof"].as_str().unwrap();
    let parts: Vec<&str> = proof.split('.').collect();
    let mut c = claims(proof);
    c["from"] = json!(account);
    c["into"] = json!(guest.user_id);
    let payload = URL_SAFE_NO_PAD.encode(c.to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert_error(redeem(&app, &tampered).await, 401, "InvalidMergeProof").await;
    assert_error(redeem(&app, "not-a-jwt").await, 401, "InvalidMergeProof").await;
    assert_eq!(redeem(&app, proof).await.status(), StatusCode::OK, "the untampered one still redeems");
}

#[tokio::test]
async fn an_expired_proof_is_refused() {
    let app = spawn_app_with(|c| c.merge_proof_ttl = Duration::from_secs(1)).await;
    let (_, _, body) = merged(&app, "owner@example.com").await;
    sleep(2.1).await;
    let resp = redeem(&app, body["merge"]["proof"].as_str().unwrap()).await;
    let err = assert_error(resp, 401, "InvalidMergeProof").await;
    assert!(err["error"].as_str().unwrap().contains("expired"), "{err}");
}

#[tokio::test]
async fn a_proof_for_another_audience_is_refused_though_signed_by_this_servers_key() {
    let app = spawn_app().await;
    let (guest, account) = guest_and_account(&app, "owner@example.com").await;
    let ring = (*app.state.tokens.ring()).clone();
    let elsewhere = AccessTokens::new(
        ring,
        app.state.tokens.issuer(),
        "another-app",
        Duration::from_secs(60),
        Duration::from_secs(60),
    );
    let (proof, c) = MergeProofs::new(elsewhere, Duration::from_secs(300))
        .issue(&guest.user_id, &account, guestpass_server::ids::now_secs())
        .unwrap();
    assert_eq!(claims(&proof)["aud"], "another-app");
    // Recorded as if issued here, so that only the audience can refuse it.
    let record =
        MergeProofRecord { jti: c.jti, from_user: c.from, into_user: c.into, issued_at: c.iat, expires_at: c.exp };
    let store = std::sync::Arc::clone(&app.state.store);
    tokio::task::spawn_blocking(move || store.record_merge_proof(&record, None)).await.unwrap().unwrap();
    assert_error(redeem(&app, &proof).await, 401, "InvalidMergeProof").await;
}

#[tokio::test]
async fn an_access_token_is_not_a_proof_and_a_proof_is_not_an_access_token() {
    let app = spawn_app().await;
    let (guest, _, body) = merged(&app, "owner@example.com").await;
    assert_error(redeem(&app, &guest.access_token).await, 401, "InvalidMergeProof").await;
    assert_error(redeem(&app, body["access_token"].as_str().unwrap()).await, 401, "InvalidMergeProof").await;
    let proof = body["merge"]["proof"].as_str().unwrap();
    assert_error(app.profile(proof).await, 401, "InvalidSession").await;
    // Nor does a proof open a merge of its own.
    let resp = merge_login(&app, "owner@example.com", PASSWORD, Some(proof)).await;
    assert_error(resp, 401, "InvalidSession").await;
}

#[tokio::test]
async fn a_redeem_without_a_proof_is_a_bad_request_that_changes_nothing() {
    let app = spawn_app().await;
    assert_error(app.post_json(&app.url("/auth/merge/redeem"), "{}").await, 400, "BadRequest").await;
    assert_error(app.post_json(&app.url("/auth/merge/redeem"), "").await, 400, "BadRequest").await;
    assert_error(app.post_json(&app.url("/auth/merge/redeem"), r#"{"proof": 7}"#).await, 400, "BadRequest").await;
}
