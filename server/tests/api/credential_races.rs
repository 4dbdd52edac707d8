//! A session is made only with a credential that is still current when it is written: logins
//! and links racing a password reset or the account's deletion, reset tokens after a reset,
//! and one identity per provider per user.

use futures::future::join_all;
use guestpass_server::{
    ids,
    store::{NewUserpassToken, TokenPurpose},
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// Rounds of each race. Each round lets the two requests go at once; before the fix the
/// defect showed in most rounds (the report names the counts), so this many show it reliably.
const ROUNDS: usize = 30;

/// A reset token for `email`, stored the way `reset/send` stores one (the setup does not go
/// through `reset/send`, so its rate limits cannot interfere): `(tokenId, token)`.
async fn reset_token(app: &TestApp, email: &str) -> (String, String) {
    let secret = hex::encode(ids::random_bytes::<16>());
    let token = NewUserpassToken {
        id: ids::object_id(ids::now_secs()),
        hash: Sha256::digest(secret.as_bytes()).into(),
        purpose: TokenPurpose::Reset,
        expires_at: ids::now_secs() + 600,
    };
    let (email, id) = (email.to_owned(), token.id.clone());
    app.state.store(move |store| store.add_userpass_token(&email, &token)).await.expect("token stored");
    (id, secret)
}

fn reset_body(token_id: &str, token: &str, password: &str) -> String {
    json!({ "tokenId": token_id, "token": token, "password": password }).to_string()
}

/// Rows of `sql` (a `count(*)` query), read straight from the database.
fn count_where(app: &TestApp, sql: &str) -> i64 {
    app.db.query_i64(sql)
}

#[tokio::test]
async fn a_login_racing_a_reset_never_keeps_a_session_made_with_the_old_password() {
    let app = spawn_app().await;
    let email = "racer@example.com";
    assert_eq!(app.register(email, "password-0").await.status(), StatusCode::CREATED);
    // The first login creates the user, so each round logs in to an existing one.
    assert_eq!(app.email_login(email, "password-0", None).await.status(), StatusCode::OK);
    let (mut won, mut survived) = (0, Vec::new());
    for round in 0..ROUNDS {
        let (old, new) = (format!("password-{round}"), format!("password-{}", round + 1));
        let (token_id, token) = reset_token(&app, email).await;
        let reset_url = app.userpass_url("reset");
        let body = reset_body(&token_id, &token, &new);
        let (reset, login) = tokio::join!(app.post_json(&reset_url, &body), app.email_login(email, &old, None));
        assert_eq!(reset.status(), StatusCode::NO_CONTENT, "round {round}: the reset itself succeeds");
        if login.status() == StatusCode::OK {
            won += 1;
            let login: Value = login.json().await.unwrap();
            if app.refresh(login["refresh_token"].as_str().unwrap()).await.status() == StatusCode::OK {
                survived.push(round);
            }
        } else {
            // The old password lost: the answer a wrong password gets.
            assert_error(login, 401, "InvalidPassword").await;
        }
    }
    assert!(
        survived.is_empty(),
        "a session made with the old password outlived the reset in rounds {survived:?} of {ROUNDS} \
         ({won} logins answered 200)"
    );
    assert_eq!(app.count("sessions"), 0, "every session is older than the last reset, so none is left");
    assert_eq!(app.email_login(email, &format!("password-{ROUNDS}"), None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_link_racing_a_reset_never_keeps_a_session_linked_with_the_old_password() {
    let app = spawn_app().await;
    let (mut linked, mut survived) = (0, Vec::new());
    for round in 0..ROUNDS {
        let email = format!("linker-{round}@example.com");
        assert_eq!(app.register(&email, "old-password").await.status(), StatusCode::CREATED);
        let anon = app.anonymous_login().await;
        let (token_id, token) = reset_token(&app, &email).await;
        let reset_url = app.userpass_url("reset");
        let body = reset_body(&token_id, &token, "new-password");
        let (reset, link) = tokio::join!(
            app.post_json(&reset_url, &body),
            app.email_login(&email, "old-password", Some(&anon.access_token))
        );
        assert_eq!(reset.status(), StatusCode::NO_CONTENT, "round {round}: the reset itself succeeds");
        if link.status() == StatusCode::OK {
            // Linked before the reset: the reset then ended the (now linked) user's session.
            linked += 1;
            if app.refresh(&anon.refresh_token).await.status() == StatusCode::OK {
                survived.push(round);
            }
        } else {
            assert_error(link, 401, "InvalidPassword").await;
            assert_eq!(
                app.refresh(&anon.refresh_token).await.status(),
                StatusCode::OK,
                "a failed link changes nothing"
            );
        }
    }
    assert!(
        survived.is_empty(),
        "a session linked with the old password outlived the reset in rounds {survived:?} of {ROUNDS} \
         ({linked} links answered 200)"
    );
}

#[tokio::test]
async fn a_login_racing_the_users_deletion_never_brings_the_account_back() {
    let app = spawn_app().await;
    let mut resurrected = Vec::new();
    for round in 0..ROUNDS {
        let email = format!("leaving-{round}@example.com");
        assert_eq!(app.register(&email, "password1").await.status(), StatusCode::CREATED);
        let first: Value = app.email_login(&email, "password1", None).await.json().await.unwrap();
        let access = first["access_token"].as_str().unwrap();
        let (deleted, login) = tokio::join!(app.delete_me(access), app.email_login(&email, "password1", None));
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "round {round}: the deletion itself succeeds");
        if login.status() != StatusCode::OK {
            assert_error(login, 401, "InvalidPassword").await;
        }
        // Whichever went first, the user and its account are gone, and nothing logs in as it.
        let left = count_where(
            &app,
            &format!(
                "SELECT count(*) FROM identities WHERE provider_type = 'local-userpass' AND provider_uid = '{email}'"
            ),
        );
        if left > 0 {
            resurrected.push(round);
        }
        assert_error(app.email_login(&email, "password1", None).await, 401, "InvalidPassword").await;
    }
    assert!(resurrected.is_empty(), "the deleted account came back in rounds {resurrected:?} of {ROUNDS}");
    assert_eq!((app.count("users"), app.count("identities"), app.count("sessions")), (0, 0, 0));
}

#[tokio::test]
async fn a_successful_reset_ends_every_other_reset_token_of_the_account() {
    let app = spawn_app().await;
    let email = "twice@example.com";
    app.register(email, "password-0").await;
    app.register("bystander@example.com", "password-0").await;
    let first = reset_token(&app, email).await;
    let second = reset_token(&app, email).await;
    let bystander = reset_token(&app, "bystander@example.com").await;
    let url = app.userpass_url("reset");
    let used = app.post_json(&url, &reset_body(&second.0, &second.1, "password-2")).await;
    assert_eq!(used.status(), StatusCode::NO_CONTENT);
    let stale = app.post_json(&url, &reset_body(&first.0, &first.1, "password-1")).await;
    assert_error(stale, 400, "UserpassTokenInvalid").await;
    assert_error(app.email_login(email, "password-1", None).await, 401, "InvalidPassword").await;
    assert_eq!(app.email_login(email, "password-2", None).await.status(), StatusCode::OK);
    // Another account's reset token is not touched.
    let other = app.post_json(&url, &reset_body(&bystander.0, &bystander.1, "password-3")).await;
    assert_eq!(other.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count("userpass_tokens"), 0);
}

#[tokio::test]
async fn a_user_links_at_most_one_email_even_when_twenty_links_race() {
    // All twenty links must reach the write at once: a password queue that holds them all.
    let app = spawn_app_with(|c| c.password_queue = 32).await;
    let anon = app.anonymous_login().await;
    let emails: Vec<String> = (0..20).map(|n| format!("second-{n}@example.com")).collect();
    for email in &emails {
        assert_eq!(app.register(email, "password1").await.status(), StatusCode::CREATED);
    }
    let links = emails.iter().map(|email| app.email_login(email, "password1", Some(&anon.access_token)));
    let answers = join_all(links).await;
    let mut linked = Vec::new();
    for (email, answer) in emails.iter().zip(answers) {
        if answer.status() == StatusCode::OK {
            linked.push(email.clone());
        } else {
            let body = assert_error(answer, 409, "IdentityAlreadyExists").await;
            assert_ne!(body["error"], "unauthorized", "realm-web would retry that forever");
        }
    }
    assert_eq!(linked.len(), 1, "exactly one link wins: {linked:?}");
    let profile: Value = app.profile(&anon.access_token).await.json().await.unwrap();
    let types: Vec<&str> =
        profile["identities"].as_array().unwrap().iter().map(|i| i["provider_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["anon-user", "local-userpass"]);
    assert_eq!(profile["data"]["email"], linked[0].as_str(), "the profile data is the winner's, not a mix");
    assert_eq!((app.count("users"), app.count("identities")), (1, 2), "no half-written link");
    // Linking the one it has again is still fine; another email, even alone, is refused.
    assert_eq!(app.email_login(&linked[0], "password1", Some(&anon.access_token)).await.status(), StatusCode::OK);
    let loser = emails.iter().find(|e| **e != linked[0]).unwrap();
    assert_error(app.email_login(loser, "password1", Some(&anon.access_token)).await, 409, "IdentityAlreadyExists")
        .await;
    // A losing account is untouched: it logs in, as a user of its own.
    let own: Value = app.email_login(loser, "password1", None).await.json().await.unwrap();
    assert_ne!(own["user_id"], anon.user_id.as_str());
}
