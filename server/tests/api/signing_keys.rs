//! Issue 10: ES256 access tokens signed with keys kept in the store, published, rotated.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use futures::future::join_all;
use guestpass_server::{config::Config, startup::Application};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn header(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap()
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    let resp = app.client.get(format!("{}/.well-known/jwks.json", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn tokens_are_es256_with_a_published_kid_the_issuer_and_the_app_as_audience() {
    let app = spawn_app_with(|c| c.public_url = Some("https://auth.example.test/".into())).await;
    let login = app.anonymous_login().await;
    let header = header(&login.access_token);
    assert_eq!(header["alg"], "ES256");
    let kid = header["kid"].as_str().unwrap().to_owned();
    assert_eq!(published_kids(&app).await, vec![kid]);
    let claims = claims(&login.access_token);
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some("https://auth.example.test"), Some(APP_ID)));
    let jwks = app.client.get(format!("{}/.well-known/jwks.json", app.base)).send().await.unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=300");
    let key = &jwks.json::<Value>().await.unwrap()["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert!(key.get("d").is_none(), "no private part is published");
    let config: Value = app
        .client
        .get(format!("{}/.well-known/openid-configuration", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["issuer"], "https://auth.example.test");
    assert_eq!(config["jwks_uri"], "https://auth.example.test/.well-known/jwks.json");
    assert_eq!(config["id_token_signing_alg_values_supported"], json!(["ES256"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_starting_at_once_on_an_empty_store_all_sign_with_one_key() {
    const ROUNDS: usize = 5;
    const SERVERS: usize = 4;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(dir.path());
        let config = || {
            let mut config = Config::for_data(db.data());
            config.files_dir = dir.path().to_owned();
            config.listen = "127.0.0.1:0".parse().unwrap();
            config.admin_key = Some("an-admin-key-every-server-shares-0123456789".into());
            config
        };
        let apps = join_all((0..SERVERS).map(|_| tokio::spawn(Application::build(config())))).await;
        let mut kids = Vec::new();
        for app in apps {
            let app = app.unwrap().expect("server starts");
            let ring = app.state().tokens.ring();
            kids.push(ring.signing(guestpass_server::ids::now_millis()).unwrap().kid.clone().unwrap());
        }
        kids.dedup();
        assert_eq!(kids.len(), 1, "round {round}: every server signs with the same key");
        assert_eq!(db.query_i64("SELECT count(*) FROM signing_keys"), 1, "round {round}: one key was made");
    }
}

#[tokio::test]
async fn a_rotation_signs_new_tokens_with_the_new_key_and_old_tokens_stay_valid() {
    let app = spawn_app().await;
    let before = app.anonymous_login().await;
    let old_kid = header(&before.access_token)["kid"].as_str().unwrap().to_owned();
    let key = app.admin_key();
    let resp = app.admin(Method::POST, "/signing-keys", Some(&key), None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let new_kid = resp.json::<Value>().await.unwrap()["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let after = app.anonymous_login().await;
    assert_eq!(header(&after.access_token)["kid"], new_kid.as_str());
    assert_eq!(app.profile(&before.access_token).await.status(), StatusCode::OK, "the old key still verifies");
    assert_eq!(app.profile(&after.access_token).await.status(), StatusCode::OK);
    let mut kids = published_kids(&app).await;
    kids.sort();
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(kids, both);
    let list: Value = app.admin(Method::GET, "/signing-keys", Some(&key), None).await.json().await.unwrap();
    let states: Vec<(&str, &str)> = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, vec![(old_kid.as_str(), "retired"), (new_kid.as_str(), "signing")]);
}

#[tokio::test]
async fn a_key_rotated_for_later_is_published_at_once_and_signs_only_then() {
    let app = spawn_app().await;
    let old_kid = header(&app.anonymous_login().await.access_token)["kid"].as_str().unwrap().to_owned();
    let resp = app.admin(Method::POST, "/signing-keys", Some(&app.admin_key()), Some(json!({"starts_in": 2}))).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let next = resp.json::<Value>().await.unwrap()["kid"].as_str().unwrap().to_owned();
    assert!(published_kids(&app).await.contains(&next), "published before it signs");
    assert_eq!(header(&app.anonymous_login().await.access_token)["kid"], old_kid.as_str());
    sleep(3.1).await;
    assert_eq!(header(&app.anonymous_login().await.access_token)["kid"], next.as_str());
}

#[tokio::test]
async fn bad_rotation_requests_are_refused_and_add_no_key() {
    let app = spawn_app().await;
    let key = app.admin_key();
    let resp = app.admin(Method::POST, "/signing-keys", Some(&key), Some(json!({"starts_in": 86_401}))).await;
    assert_error(resp, 400, "BadRequest").await;
    let resp = app.admin(Method::POST, "/signing-keys", Some(&key), Some(json!({"starts_in": "soon"}))).await;
    assert_error(resp, 400, "BadRequest").await;
    let resp = app.admin(Method::POST, "/signing-keys", Some(&key), Some(json!({"start_in": 5}))).await;
    assert_error(resp, 400, "BadRequest").await;
    assert_error(app.admin(Method::POST, "/signing-keys", None, None).await, 401, "InvalidAdminKey").await;
    assert_eq!(app.count("signing_keys"), 1, "nothing was added");
}

#[tokio::test]
async fn tokens_signed_with_the_old_key_file_stay_valid_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path());
    let secret = [42u8; 32];
    let config = |signing_key: Option<&str>| {
        let mut config = Config::for_data(db.data());
        config.files_dir = dir.path().to_owned();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.app_id = APP_ID.into();
        config.signing_key = signing_key.map(Into::into);
        config
    };
    // Before the upgrade: an HS256 key (here given, as the old file's bytes would be).
    let old = Application::build(config(Some(std::str::from_utf8(&secret).unwrap()))).await.unwrap();
    let base = format!("http://{}", old.local_addr());
    let server = tokio::spawn(old.run_until_stopped());
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/client/v2.0/app/{APP_ID}/auth/providers/anon-user/login"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.abort();
    let old_token = login["access_token"].as_str().unwrap().to_owned();
    assert_eq!(header(&old_token)["alg"], "HS256");
    assert!(header(&old_token).get("kid").is_none());
    // The old server kept its key here; the upgraded one finds it.
    let upgraded_config = config(None);
    std::fs::write(upgraded_config.signing_key_path(), URL_SAFE_NO_PAD.encode(secret)).unwrap();
    let upgraded = Application::build(upgraded_config).await.unwrap();
    let base = format!("http://{}", upgraded.local_addr());
    let _server = tokio::spawn(upgraded.run_until_stopped());
    let profile = |token: String| {
        let client = client.clone();
        let url = format!("{base}/api/client/v2.0/auth/profile");
        async move { client.get(url).bearer_auth(token).send().await.unwrap().status() }
    };
    assert_eq!(profile(old_token.clone()).await, StatusCode::OK, "a token issued before the upgrade still verifies");
    let refreshed: Value = client
        .post(format!("{base}/api/client/v2.0/auth/session"))
        .bearer_auth(login["refresh_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_token = refreshed["access_token"].as_str().unwrap();
    assert_eq!(header(new_token)["alg"], "ES256", "new tokens are ES256");
    let jwks: Value = client.get(format!("{base}/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "the HS256 secret is never published");
}

#[tokio::test]
async fn a_pem_signing_key_from_the_operator_signs_es256_and_cannot_be_rotated_here() {
    // A P-256 key in PKCS#8 PEM, made for this test with
    // `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.
    const PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRlvvpTTDRE80p3uJ\n\
        brncpLriCq6U5S3Nm7FCr8lJwKuhRANCAARQPYKJ48ARgdZ+9uofYveRN3OsUh66\n\
        O9/ojiJpeeG+IWYdUvWUkHzE3KVZ3xwOwDcaOiu5q0phOmSU4eGRVkrb\n\
        -----END PRIVATE KEY-----\n";
    let app = spawn_app_with(|c| c.signing_key = Some(PEM.into())).await;
    let token = app.anonymous_login().await.access_token;
    assert_eq!(header(&token)["alg"], "ES256");
    assert_eq!(published_kids(&app).await, vec![header(&token)["kid"].as_str().unwrap().to_owned()]);
    assert_eq!(app.count("signing_keys"), 0, "the operator's key is not stored");
    let resp = app.admin(Method::POST, "/signing-keys", Some(&app.admin_key()), None).await;
    assert_error(resp, 409, "KeysManagedOutside").await;
}

#[tokio::test]
async fn keys_rotate_on_the_command_line_reaches_the_running_server() {
    // Another process writes the key (on PostgreSQL, the way servers share them).
    let app = spawn_app().await;
    let old_kid = header(&app.anonymous_login().await.access_token)["kid"].as_str().unwrap().to_owned();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
        .args(["keys", "rotate", "--data"])
        .arg(&app.data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let new_kid = printed.split_whitespace().nth(1).unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let mut signed_with = String::new();
    for _ in 0..40 {
        signed_with = header(&app.anonymous_login().await.access_token)["kid"].as_str().unwrap().to_owned();
        if signed_with == new_kid {
            break;
        }
        sleep(0.1).await;
    }
    assert_eq!(signed_with, new_kid, "the server re-read the keys");
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_guestpass-server"))
        .args(["keys", "list", "--data"])
        .arg(&app.data)
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(list.lines().any(|l| l.starts_with(&old_kid) && l.contains("\tretired\t")), "{list}");
    assert!(list.lines().any(|l| l.starts_with(&new_kid) && l.contains("\tsigning\t")), "{list}");
}

#[tokio::test]
async fn an_operator_hs256_secret_signs_kidless_tokens_and_is_never_published() {
    let app = spawn_app_with(|c| c.signing_key = Some("s".repeat(32).as_str().into())).await;
    let token = app.anonymous_login().await.access_token;
    assert_eq!(header(&token)["alg"], "HS256");
    assert!(header(&token).get("kid").is_none());
    assert_eq!(app.profile(&token).await.status(), StatusCode::OK);
    assert!(published_kids(&app).await.is_empty(), "a secret is never published");
    let config: Value = app
        .client
        .get(format!("{}/.well-known/openid-configuration", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["id_token_signing_alg_values_supported"], json!([]), "nothing a backend could verify");
}
