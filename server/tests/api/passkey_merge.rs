//! A guest who signs in with an existing account's passkey brings its data along (issues 11 and
//! 14): the passkey login takes `?merge=true` as the email/password login does.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::*,
    passkey::{client, link_passkey, passkey_url, post, start_login},
};

/// Finishes a passkey login with `?merge=true` and the bearer given.
async fn merge_with_passkey(
    app: &TestApp,
    passkey: &mut crate::passkey_authenticator::SoftPasskey,
    bearer: Option<&str>,
) -> reqwest::Response {
    let (challenge_id, options) = start_login(app).await;
    let assertion = passkey.assert(&options, &client(app));
    let body = json!({ "challenge_id": challenge_id, "credential": assertion, "options": { "device": {} } });
    post(app, &format!("{}?merge=true", passkey_url(app, "login")), &body, bearer).await
}

#[tokio::test]
async fn a_passkey_login_with_merge_answers_a_proof_from_the_guest_into_the_passkeys_owner() {
    let app = spawn_app().await;
    let owner = app.anonymous_login().await;
    let (mut passkey, _) = link_passkey(&app, &owner.access_token).await;
    let guest = app.anonymous_login().await;
    let resp = merge_with_passkey(&app, &mut passkey, Some(&guest.access_token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user_id"], owner.user_id.as_str(), "signed in as the passkey's owner");
    assert_eq!(body["merge"]["from"], guest.user_id.as_str());
    assert_eq!(body["merge"]["into"], owner.user_id.as_str());
    let redeemed =
        app.post_json(&app.url("/auth/merge/redeem"), &json!({ "proof": body["merge"]["proof"] }).to_string()).await;
    assert_eq!(redeemed.status(), StatusCode::OK);
    let redeemed: Value = redeemed.json().await.unwrap();
    assert_eq!((&redeemed["from"], &redeemed["into"]), (&body["merge"]["from"], &body["merge"]["into"]));
}

#[tokio::test]
async fn without_an_anonymous_bearer_a_passkey_merge_issues_nothing_and_keeps_the_challenge_unused() {
    let app = spawn_app().await;
    let owner = app.anonymous_login().await;
    let (mut passkey, _) = link_passkey(&app, &owner.access_token).await;
    let sessions = app.count("sessions");
    assert_error(merge_with_passkey(&app, &mut passkey, None).await, 401, "MissingAuthReq").await;
    // The owner is signed in now (it linked a passkey): not a guest whose data could move.
    let resp = merge_with_passkey(&app, &mut passkey, Some(&owner.access_token)).await;
    assert_error(resp, 400, "MergeFromNotAnonymous").await;
    assert_eq!((app.count("merge_proofs"), app.count("sessions")), (0, sessions), "nothing issued");
    assert_eq!(
        app.db.query_i64("SELECT count(*) FROM passkey_challenges WHERE used AND ceremony = 'authentication'"),
        0,
        "no login challenge used up"
    );
}

#[tokio::test]
async fn a_passkey_merge_cannot_be_asked_together_with_link() {
    let app = spawn_app().await;
    let guest = app.anonymous_login().await;
    let body = json!({ "challenge_id": "x", "credential": {}, "options": { "device": {} } });
    let resp =
        post(&app, &format!("{}?link=true&merge=true", passkey_url(&app, "login")), &body, Some(&guest.access_token))
            .await;
    assert_error(resp, 400, "BadRequest").await;
}
