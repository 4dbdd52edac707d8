//! `--merge-webhook`: each merge proof is POSTed to a real local receiver (axum on port 0),
//! signed with HMAC-SHA256, delivered once, and retried with back-off after a 500.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::*;

const SECRET: &str = "a-webhook-secret-of-at-least-32-bytes";

/// What the receiver got: each request's signature header and body.
#[derive(Default)]
struct Received {
    requests: Vec<(Option<String>, String)>,
    /// Answers 500 to this many requests first.
    fail_first: usize,
}

type Receiver = Arc<Mutex<Received>>;

async fn receive(State(received): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let mut r = received.lock().unwrap();
    let signature = headers.get("guestpass-signature").map(|v| v.to_str().unwrap().to_owned());
    r.requests.push((signature, body));
    if r.requests.len() <= r.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// A receiver on a free port answering 500 to its first `fail_first` requests; its URL.
async fn receiver(fail_first: usize) -> (String, Receiver) {
    let received: Receiver = Arc::new(Mutex::new(Received { fail_first, ..Default::default() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/merge", listener.local_addr().unwrap());
    let app = Router::new().route("/hooks/merge", post(receive)).with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// A guest merged into an account on `app`: the answer's `merge` object.
async fn merge(app: &TestApp) -> Value {
    assert_eq!(app.register("owner@example.com", "password1").await.status(), 201);
    let guest = app.anonymous_login().await;
    let resp = app
        .client
        .post(app.app_url("/auth/providers/local-userpass/login?merge=true"))
        .bearer_auth(&guest.access_token)
        .json(&json!({ "username": "owner@example.com", "password": "password1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["merge"].clone()
}

async fn wait_for_requests(received: &Receiver, n: usize, within: Duration) {
    let start = Instant::now();
    while received.lock().unwrap().requests.len() < n {
        assert!(
            start.elapsed() < within,
            "{n} requests within {within:?}; got {}",
            received.lock().unwrap().requests.len()
        );
        sleep(0.05).await;
    }
}

/// Checks `t=<ts>,v1=<hex>` against the body, as a receiver would.
fn assert_signed(signature: Option<&str>, body: &str) {
    let signature = signature.expect("a Guestpass-Signature header");
    let (t, v1) = signature.split_once(",v1=").expect("t=...,v1=...");
    let t = t.strip_prefix("t=").unwrap();
    let age = guestpass_server::ids::now_secs().abs_diff(t.parse::<u64>().unwrap());
    assert!(age <= 60, "a fresh timestamp: {age} s old");
    let mut mac = <Hmac<Sha256>>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&hex::decode(v1).unwrap()).expect("a valid HMAC-SHA256 of t.body");
}

fn delivery_row(app: &TestApp) -> (i64, i64, i64) {
    (
        app.db.query_i64("SELECT CAST(attempts AS BIGINT) FROM merge_webhooks"),
        app.db.query_i64("SELECT CAST(coalesce(last_status, 0) AS BIGINT) FROM merge_webhooks"),
        app.db.query_i64(
            "SELECT count(*) FROM merge_webhooks WHERE delivered_at IS NOT NULL AND next_attempt_at IS NULL",
        ),
    )
}

#[tokio::test]
async fn each_proof_is_delivered_once_with_a_valid_signature() {
    let (url, received) = receiver(0).await;
    let app = spawn_app_with(|c| {
        c.merge_webhook = Some(url);
        c.merge_webhook_secret = Some(SECRET.into());
    })
    .await;
    let answered = merge(&app).await;
    wait_for_requests(&received, 1, Duration::from_secs(5)).await;
    sleep(1.5).await; // long enough for a second, wrong, delivery to come
    let requests = received.lock().unwrap().requests.clone();
    assert_eq!(requests.len(), 1, "delivered once");
    let (signature, body) = &requests[0];
    assert_signed(signature.as_deref(), body);
    let sent: Value = serde_json::from_str(body).unwrap();
    assert_eq!((&sent["type"], &sent["from"], &sent["into"]), (&json!("merge"), &answered["from"], &answered["into"]));
    assert_eq!(sent["proof"], answered["proof"], "the proof the page got");
    assert_eq!(delivery_row(&app), (1, 204, 1), "recorded as delivered");
}

#[tokio::test]
async fn a_delivery_answered_500_is_retried_with_back_off_until_it_is_delivered() {
    let (url, received) = receiver(1).await;
    let app = spawn_app_with(|c| {
        c.merge_webhook = Some(url);
        c.merge_webhook_secret = Some(SECRET.into());
    })
    .await;
    merge(&app).await;
    wait_for_requests(&received, 1, Duration::from_secs(5)).await;
    let first = Instant::now();
    assert_eq!(app.db.query_i64("SELECT CAST(coalesce(last_status, 0) AS BIGINT) FROM merge_webhooks"), 500);
    wait_for_requests(&received, 2, Duration::from_secs(5)).await;
    assert!(first.elapsed() >= Duration::from_millis(500), "not retried at once: after {:?}", first.elapsed());
    sleep(1.5).await;
    let requests = received.lock().unwrap().requests.clone();
    assert_eq!(requests.len(), 2, "one failure, one delivery, then nothing");
    assert_eq!(requests[0].1, requests[1].1, "the same body");
    for (signature, body) in &requests {
        assert_signed(signature.as_deref(), body);
    }
    assert_eq!(delivery_row(&app), (2, 204, 1));
}

#[tokio::test]
async fn without_the_option_nothing_is_queued() {
    let app = spawn_app().await;
    merge(&app).await;
    assert_eq!(app.count("merge_webhooks"), 0);
    assert_eq!(app.count("merge_proofs"), 1);
}
