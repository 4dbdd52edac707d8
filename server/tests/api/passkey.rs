//! Passkeys (issue 11): real ceremonies against a real server, answered by a software
//! authenticator (passkey_authenticator.rs). Run on SQLite and, in the PostgreSQL pass, on
//! PostgreSQL (`scripts/test.sh postgres`).

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::{
    helpers::*,
    passkey_authenticator::{b64, Client, SoftPasskey},
};

/// The page the tests' "browser" is on: the server's default origin without --public-url.
pub(crate) fn client(app: &TestApp) -> Client {
    Client { origin: app.base.replace("127.0.0.1", "localhost") }
}

pub(crate) fn passkey_url(app: &TestApp, action: &str) -> String {
    app.app_url(&format!("/auth/providers/passkey/{action}"))
}

pub(crate) async fn post(app: &TestApp, url: &str, body: &Value, bearer: Option<&str>) -> Response {
    let mut req = app.client.post(url).json(body);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("request sent")
}

/// Starts a registration for the bearer's user: `(challenge_id, public_key)`.
async fn start_registration(app: &TestApp, access_token: &str) -> (String, Value) {
    let resp = post(app, &passkey_url(app, "registration"), &json!({}), Some(access_token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    (body["challenge_id"].as_str().unwrap().to_owned(), body["public_key"].clone())
}

async fn finish_registration(app: &TestApp, access_token: &str, challenge_id: &str, credential: Value) -> Response {
    let body = json!({ "challenge_id": challenge_id, "credential": credential, "options": { "device": {} } });
    post(app, &format!("{}?link=true", passkey_url(app, "login")), &body, Some(access_token)).await
}

/// Links a new passkey to the user of `access_token`; the passkey and the link answer.
pub(crate) async fn link_passkey(app: &TestApp, access_token: &str) -> (SoftPasskey, Value) {
    let (challenge_id, options) = start_registration(app, access_token).await;
    let (passkey, credential) = SoftPasskey::create(&options, &client(app));
    let resp = finish_registration(app, access_token, &challenge_id, credential).await;
    assert_eq!(resp.status(), StatusCode::OK);
    (passkey, resp.json().await.unwrap())
}

pub(crate) async fn start_login(app: &TestApp) -> (String, Value) {
    let resp = post(app, &passkey_url(app, "authentication"), &json!({}), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    (body["challenge_id"].as_str().unwrap().to_owned(), body["public_key"].clone())
}

async fn finish_login(app: &TestApp, challenge_id: &str, credential: &Value) -> Response {
    let body = json!({ "challenge_id": challenge_id, "credential": credential, "options": { "device": {} } });
    post(app, &passkey_url(app, "login"), &body, None).await
}

/// A whole login with `passkey`.
async fn log_in(app: &TestApp, passkey: &mut SoftPasskey) -> Response {
    let (challenge_id, options) = start_login(app).await;
    let assertion = passkey.assert(&options, &client(app));
    finish_login(app, &challenge_id, &assertion).await
}

async fn passkey_identities(app: &TestApp, access_token: &str) -> Vec<String> {
    let profile: Value = app.profile(access_token).await.json().await.unwrap();
    profile["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["provider_type"] == "passkey")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_options_are_webauthn_json_for_a_resident_key_and_a_username_less_login() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    assert!(challenge_id.len() >= 40, "{challenge_id}");
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required", "{options}");
    assert!(options["challenge"].as_str().is_some_and(|c| !c.contains('=') && c.len() >= 43), "{options}");
    assert!(options["user"]["id"].as_str().is_some_and(|id| !id.contains(&login.user_id)), "{options}");
    let (_, request) = start_login(&app).await;
    assert!(request.get("allowCredentials").is_none(), "{request}");
    assert_eq!(request["userVerification"], "required", "{request}");
    assert_eq!(request["rpId"], "localhost");
}

#[tokio::test]
async fn linking_a_passkey_keeps_the_anonymous_user_its_id_and_its_session() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (passkey, linked) = link_passkey(&app, &login.access_token).await;
    assert_eq!(linked["user_id"], login.user_id.as_str());
    let access_token = linked["access_token"].as_str().unwrap();
    assert_eq!(claims(access_token)["sub"], login.user_id.as_str());
    let profile: Value = app.profile(access_token).await.json().await.unwrap();
    assert_eq!(claims(&login.access_token)["is_anonymous"], true);
    assert_eq!(claims(access_token)["is_anonymous"], false);
    assert!(profile["expires_at"].is_null(), "a kept user no longer expires: {profile}");
    assert_eq!(passkey_identities(&app, access_token).await, vec![b64(&passkey.credential_id)]);
    // The same session: its refresh token still works and says the user is kept.
    let refreshed = app.refresh(&login.refresh_token).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(claims(refreshed["access_token"].as_str().unwrap())["is_anonymous"], false);
    assert_eq!(app.count("passkeys"), 1);
}

#[tokio::test]
async fn a_linked_passkey_signs_back_in_as_the_same_user() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (mut passkey, _) = link_passkey(&app, &login.access_token).await;
    let resp = log_in(&app, &mut passkey).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user_id"], login.user_id.as_str());
    assert_ne!(body["refresh_token"], login.refresh_token.as_str(), "a new session");
    assert_eq!(app.refresh(body["refresh_token"].as_str().unwrap()).await.status(), StatusCode::OK);
    // The stored counter follows the assertion's.
    assert_eq!(app.db.query_i64("SELECT counter FROM passkeys"), 1);
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (mut passkey, _) = link_passkey(&app, &login.access_token).await;
    let (challenge_id, options) = start_login(&app).await;
    let assertion = passkey.assert(&options, &client(&app));
    assert_eq!(finish_login(&app, &challenge_id, &assertion).await.status(), StatusCode::OK);
    // The same request again: its challenge is used up.
    assert_error(finish_login(&app, &challenge_id, &assertion).await, 400, "PasskeyChallengeInvalid").await;
    // The same assertion against a fresh challenge: it signed another one.
    let (fresh, _) = start_login(&app).await;
    assert_error(finish_login(&app, &fresh, &assertion).await, 400, "PasskeyChallengeInvalid").await;
}

#[tokio::test]
async fn a_registration_challenge_is_single_use() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let (_, first) = SoftPasskey::create(&options, &client(&app));
    let (_, second) = SoftPasskey::create(&options, &client(&app));
    assert_eq!(finish_registration(&app, &login.access_token, &challenge_id, first).await.status(), StatusCode::OK);
    let reused = finish_registration(&app, &login.access_token, &challenge_id, second).await;
    assert_error(reused, 400, "PasskeyChallengeInvalid").await;
    assert_eq!(app.count("passkeys"), 1);
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let app = spawn_app_with(|c| c.passkey_challenge_ttl = std::time::Duration::from_secs(1)).await;
    let login = app.anonymous_login().await;
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let (mut passkey, credential) = SoftPasskey::create(&options, &client(&app));
    sleep(2.1).await;
    let resp = finish_registration(&app, &login.access_token, &challenge_id, credential).await;
    assert_error(resp, 400, "PasskeyChallengeInvalid").await;
    assert_eq!(app.count("passkeys"), 0);
    // A login too (with a passkey registered in time).
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let credential = passkey.registration_response(&options, &client(&app));
    assert_eq!(
        finish_registration(&app, &login.access_token, &challenge_id, credential).await.status(),
        StatusCode::OK
    );
    let (challenge_id, options) = start_login(&app).await;
    let assertion = passkey.assert(&options, &client(&app));
    sleep(2.1).await;
    assert_error(finish_login(&app, &challenge_id, &assertion).await, 400, "PasskeyChallengeInvalid").await;
}

#[tokio::test]
async fn a_challenge_finishes_only_its_own_ceremony_and_user() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (mut passkey, _) = link_passkey(&app, &login.access_token).await;
    // A registration challenge answered as a login.
    let (registration, options) = start_registration(&app, &login.access_token).await;
    let assertion = passkey.assert(&options, &client(&app));
    assert_error(finish_login(&app, &registration, &assertion).await, 400, "PasskeyChallengeInvalid").await;
    // A login challenge answered as a registration.
    let (authentication, options) = start_login(&app).await;
    let mut as_creation = options.clone();
    as_creation["user"] = json!({ "id": b64(b"someone"), "name": "x", "displayName": "x" });
    as_creation["rp"] = json!({ "id": "localhost", "name": "guestpass" });
    let (_, credential) = SoftPasskey::create(&as_creation, &client(&app));
    let resp = finish_registration(&app, &login.access_token, &authentication, credential).await;
    assert_error(resp, 400, "PasskeyChallengeInvalid").await;
    // Another user's registration challenge.
    let other = app.anonymous_login().await;
    let (theirs, options) = start_registration(&app, &other.access_token).await;
    let (_, credential) = SoftPasskey::create(&options, &client(&app));
    let resp = finish_registration(&app, &login.access_token, &theirs, credential).await;
    assert_error(resp, 400, "PasskeyChallengeInvalid").await;
    assert_eq!(app.count("passkeys"), 1);
}

#[tokio::test]
async fn a_ceremony_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let evil = Client { origin: "https://evil.example".into() };
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let (mut passkey, credential) = SoftPasskey::create(&options, &evil);
    let resp = finish_registration(&app, &login.access_token, &challenge_id, credential).await;
    assert_error(resp, 400, "PasskeyOriginMismatch").await;
    assert_eq!(app.count("passkeys"), 0);
    // A login assertion made on another origin with a registered passkey.
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let credential = passkey.registration_response(&options, &client(&app));
    assert_eq!(
        finish_registration(&app, &login.access_token, &challenge_id, credential).await.status(),
        StatusCode::OK
    );
    let (challenge_id, options) = start_login(&app).await;
    let assertion = passkey.assert(&options, &evil);
    assert_error(finish_login(&app, &challenge_id, &assertion).await, 400, "PasskeyOriginMismatch").await;
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused_and_the_stored_one_kept() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (mut passkey, _) = link_passkey(&app, &login.access_token).await;
    assert_eq!(log_in(&app, &mut passkey).await.status(), StatusCode::OK);
    assert_eq!(log_in(&app, &mut passkey).await.status(), StatusCode::OK);
    // A clone of the key that signed once.
    let (challenge_id, options) = start_login(&app).await;
    let cloned = passkey.assertion_with_counter(&options, &client(&app), 1);
    assert_error(finish_login(&app, &challenge_id, &cloned).await, 401, "PasskeyCounterRegressed").await;
    assert_eq!(app.db.query_i64("SELECT counter FROM passkeys"), 2);
    assert_eq!(log_in(&app, &mut passkey).await.status(), StatusCode::OK, "the real key goes on");
}

#[tokio::test]
async fn a_user_may_hold_several_passkeys_and_each_signs_in() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (mut phone, _) = link_passkey(&app, &login.access_token).await;
    let (mut laptop, linked) = link_passkey(&app, &login.access_token).await;
    let access_token = linked["access_token"].as_str().unwrap();
    let mut both = vec![b64(&phone.credential_id), b64(&laptop.credential_id)];
    both.sort();
    let mut ids = passkey_identities(&app, access_token).await;
    ids.sort();
    assert_eq!(ids, both);
    for passkey in [&mut phone, &mut laptop] {
        let body: Value = log_in(&app, passkey).await.json().await.unwrap();
        assert_eq!(body["user_id"], login.user_id.as_str());
    }
    // The second registration excluded the first passkey.
    let (_, options) = start_registration(&app, access_token).await;
    let mut excluded: Vec<String> = options["excludeCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    excluded.sort();
    assert_eq!(excluded, both);
}

#[tokio::test]
async fn a_passkey_already_registered_is_refused_for_another_user_and_for_its_own() {
    let app = spawn_app().await;
    let owner = app.anonymous_login().await;
    let (passkey, _) = link_passkey(&app, &owner.access_token).await;
    let other = app.anonymous_login().await;
    let (challenge_id, options) = start_registration(&app, &other.access_token).await;
    let credential = passkey.registration_response(&options, &client(&app));
    let resp = finish_registration(&app, &other.access_token, &challenge_id, credential).await;
    assert_error(resp, 409, "PasskeyAlreadyRegistered").await;
    let profile: Value = app.profile(&other.access_token).await.json().await.unwrap();
    assert!(profile["expires_at"].is_number(), "the other user stays anonymous: {profile}");
    let (challenge_id, options) = start_registration(&app, &owner.access_token).await;
    let credential = passkey.registration_response(&options, &client(&app));
    let resp = finish_registration(&app, &owner.access_token, &challenge_id, credential).await;
    assert_error(resp, 409, "PasskeyAlreadyRegistered").await;
    assert_eq!(app.count("passkeys"), 1);
}

#[tokio::test]
async fn a_passkey_the_admin_removed_no_longer_signs_in() {
    let app = spawn_app().await;
    let key = app.admin_key();
    let login = app.anonymous_login().await;
    let (mut passkey, linked) = link_passkey(&app, &login.access_token).await;
    let path = format!("/users/{}/passkeys", login.user_id);
    let listed: Value = app.admin(Method::GET, &path, Some(&key), None).await.json().await.unwrap();
    let listed = listed["passkeys"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["credential_id"], b64(&passkey.credential_id));
    assert_eq!(listed[0]["counter"], 0);
    assert!(listed[0]["created_at"].is_number() && listed[0]["last_used_at"].is_null(), "{listed:?}");
    assert!(listed[0].get("passkey").is_none() && listed[0].get("public_key").is_none(), "{listed:?}");
    let one = format!("{path}/{}", b64(&passkey.credential_id));
    assert_eq!(app.admin(Method::DELETE, &one, Some(&key), None).await.status(), StatusCode::NO_CONTENT);
    assert_error(log_in(&app, &mut passkey).await, 401, "PasskeyCredentialUnknown").await;
    assert_error(app.admin(Method::DELETE, &one, Some(&key), None).await, 404, "PasskeyNotFound").await;
    let access_token = linked["access_token"].as_str().unwrap();
    assert!(passkey_identities(&app, access_token).await.is_empty());
    let listed: Value = app.admin(Method::GET, &path, Some(&key), None).await.json().await.unwrap();
    assert_eq!(listed["passkeys"], json!([]));
}

#[tokio::test]
async fn deleting_a_user_deletes_its_passkeys() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (mut passkey, linked) = link_passkey(&app, &login.access_token).await;
    link_passkey(&app, linked["access_token"].as_str().unwrap()).await;
    assert_eq!(app.count("passkeys"), 2);
    assert_eq!(app.delete_me(linked["access_token"].as_str().unwrap()).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count("passkeys"), 0);
    assert_error(log_in(&app, &mut passkey).await, 401, "PasskeyCredentialUnknown").await;
}

#[tokio::test]
async fn malformed_finishes_are_400s_that_use_up_nothing() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let (_, credential) = SoftPasskey::create(&options, &client(&app));
    let link_url = format!("{}?link=true", passkey_url(&app, "login"));
    let mut no_response = credential.clone();
    no_response.as_object_mut().unwrap().remove("response");
    let mut bad_base64 = credential.clone();
    bad_base64["response"]["attestationObject"] = json!("not base64 !!");
    for body in [
        json!({}),
        json!({ "challenge_id": challenge_id }),
        json!({ "credential": credential }),
        json!({ "challenge_id": challenge_id, "credential": "a string" }),
        json!({ "challenge_id": challenge_id, "credential": no_response }),
        json!({ "challenge_id": challenge_id, "credential": bad_base64 }),
        json!({ "challenge_id": 7, "credential": credential }),
    ] {
        let resp = post(&app, &link_url, &body, Some(&login.access_token)).await;
        assert_error(resp, 400, "BadRequest").await;
    }
    let raw = app
        .client
        .post(&link_url)
        .bearer_auth(&login.access_token)
        .header("content-type", "application/json")
        .body("{\"challenge_id\": ")
        .send()
        .await
        .unwrap();
    assert_error(raw, 400, "BadRequest").await;
    let resp = post(&app, &passkey_url(&app, "login"), &json!({ "challenge_id": "x", "credential": {} }), None).await;
    assert_error(resp, 400, "BadRequest").await;
    assert_eq!(app.count("passkeys"), 0);
    // None of them used the challenge up.
    assert_eq!(
        finish_registration(&app, &login.access_token, &challenge_id, credential).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_provider_is_listed_and_switched_like_the_others() {
    let app = spawn_app().await;
    let key = app.admin_key();
    let listed: Value = app.send(Method::GET, &app.app_url("/auth/providers"), None).await.json().await.unwrap();
    assert!(listed.as_array().unwrap().iter().any(|p| p["type"] == "passkey" && p["name"] == "passkey"), "{listed}");
    let off = app.admin(Method::PUT, "/providers/passkey", Some(&key), Some(json!({ "enabled": false }))).await;
    assert_eq!(off.status(), StatusCode::OK);
    let resp = post(&app, &passkey_url(&app, "authentication"), &json!({}), None).await;
    assert_error(resp, 404, "AuthProviderNotFound").await;
    let login = app.anonymous_login().await;
    let resp = post(&app, &passkey_url(&app, "registration"), &json!({}), Some(&login.access_token)).await;
    assert_error(resp, 404, "AuthProviderNotFound").await;
    let resp = post(&app, &passkey_url(&app, "login"), &json!({}), None).await;
    assert_error(resp, 404, "AuthProviderNotFound").await;
}

#[tokio::test]
async fn a_registration_needs_a_signed_in_user() {
    let app = spawn_app().await;
    let resp = post(&app, &passkey_url(&app, "registration"), &json!({}), None).await;
    assert_error(resp, 401, "MissingAuthReq").await;
    let login = app.anonymous_login().await;
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let (_, credential) = SoftPasskey::create(&options, &client(&app));
    // The user logged out (and, anonymous, is gone) before finishing.
    assert_eq!(app.logout(&login.refresh_token).await.status(), StatusCode::NO_CONTENT);
    let resp = finish_registration(&app, &login.access_token, &challenge_id, credential).await;
    assert_error(resp, 401, "InvalidSession").await;
    assert_eq!(app.count("passkeys"), 0);
}

/// Two finishes of one login challenge at once: exactly one signs in. The passkey keeps no
/// counter (0, as synced passkeys do), so only the challenge's single use stands between.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_finishes_of_one_challenge_at_once_one_wins() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (passkey, _) = link_passkey(&app, &login.access_token).await;
    const ROUNDS: usize = 40;
    for round in 0..ROUNDS {
        let (challenge_id, options) = start_login(&app).await;
        let assertion = passkey.assertion_with_counter(&options, &client(&app), 0);
        let (a, b) =
            tokio::join!(finish_login(&app, &challenge_id, &assertion), finish_login(&app, &challenge_id, &assertion));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "round {round}");
    }
    let sessions: Value = app
        .admin(Method::GET, &format!("/users/{}/sessions", login.user_id), Some(&app.admin_key()), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), ROUNDS + 1, "one session per round, plus the first");
}

/// Two servers on one database, as behind a load balancer: a ceremony started on one finishes
/// on the other, both ways (the challenges are in the store, not in a process).
#[tokio::test]
async fn a_ceremony_started_on_one_server_finishes_on_another() {
    let app = spawn_app().await;
    let page = client(&app);
    let mut config = guestpass_server::config::Config::for_data(&app.data);
    config.files_dir = app.state.config.files_dir.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.app_id = APP_ID.into();
    config.passkey_origin = vec![page.origin.clone()];
    let other = guestpass_server::startup::Application::build(config).await.expect("second server starts");
    let other_base = format!("http://{}/api/client/v2.0/app/{APP_ID}/auth/providers/passkey", other.local_addr());
    tokio::spawn(async move { other.run_until_stopped().await.expect("second server runs") });

    let login = app.anonymous_login().await;
    let (challenge_id, options) = start_registration(&app, &login.access_token).await;
    let (mut passkey, credential) = SoftPasskey::create(&options, &page);
    let body = json!({ "challenge_id": challenge_id, "credential": credential });
    let linked = post(&app, &format!("{other_base}/login?link=true"), &body, Some(&login.access_token)).await;
    assert_eq!(linked.status(), StatusCode::OK);

    let started: Value =
        post(&app, &format!("{other_base}/authentication"), &json!({}), None).await.json().await.unwrap();
    let assertion = passkey.assert(&started["public_key"], &page);
    let resp = finish_login(&app, started["challenge_id"].as_str().unwrap(), &assertion).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user_id"], login.user_id.as_str());
}

#[tokio::test]
async fn the_admin_passkey_routes_need_the_admin_key_and_a_known_user() {
    let app = spawn_app().await;
    let login = app.anonymous_login().await;
    let (passkey, _) = link_passkey(&app, &login.access_token).await;
    let list = format!("/users/{}/passkeys", login.user_id);
    let one = format!("{list}/{}", b64(&passkey.credential_id));
    for (method, path) in [(Method::GET, &list), (Method::DELETE, &one)] {
        assert_error(app.admin(method.clone(), path, None, None).await, 401, "InvalidAdminKey").await;
        assert_error(app.admin(method, path, Some(&login.access_token), None).await, 401, "InvalidAdminKey").await;
    }
    assert_eq!(app.count("passkeys"), 1, "nothing removed");
    let key = app.admin_key();
    let unknown = app.admin(Method::GET, "/users/650000000000000000000000/passkeys", Some(&key), None).await;
    assert_error(unknown, 404, "UserNotFound").await;
    // Another user's path does not reach this user's passkey.
    let other = app.anonymous_login().await;
    let theirs = format!("/users/{}/passkeys/{}", other.user_id, b64(&passkey.credential_id));
    assert_error(app.admin(Method::DELETE, &theirs, Some(&key), None).await, 404, "PasskeyNotFound").await;
    assert_eq!(app.count("passkeys"), 1);
}

#[tokio::test]
async fn failed_passkey_logins_count_against_the_address_throttle() {
    let app = spawn_app_with(|c| {
        c.login_failure_limit_per_address = guestpass_server::config::parse_rate("3/1h").unwrap();
    })
    .await;
    let login = app.anonymous_login().await;
    let (mut passkey, _) = link_passkey(&app, &login.access_token).await;
    let evil = Client { origin: "https://evil.example".into() };
    // Three failures fill the bucket; the fourth is past it, and the address is refused.
    for _ in 0..4 {
        let (challenge_id, options) = start_login(&app).await;
        let assertion = passkey.assert(&options, &evil);
        assert_error(finish_login(&app, &challenge_id, &assertion).await, 400, "PasskeyOriginMismatch").await;
    }
    let resp = post(&app, &passkey_url(&app, "authentication"), &json!({}), None).await;
    assert_error(resp, 429, "TooManyRequests").await;
}

#[tokio::test]
async fn behind_a_public_url_on_an_ip_address_the_server_runs_without_passkeys() {
    let app = spawn_app_with(|c| c.public_url = Some("http://127.0.0.1:9".into())).await;
    let providers: Value = app.client.get(app.app_url("/auth/providers")).send().await.unwrap().json().await.unwrap();
    let types: Vec<&str> = providers.as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert!(!types.contains(&"passkey") && types.contains(&"anon-user"), "{types:?}");
    let resp = post(&app, &passkey_url(&app, "authentication"), &json!({}), None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.anonymous_login().await.user_id.len(), 24, "the other providers work");
}
