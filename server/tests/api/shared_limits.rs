//! The limits hold across processes on one PostgreSQL database: three processes do not give
//! a client three times its sign-ups or three times its password guesses. PostgreSQL pass
//! only (one process has a SQLite file).

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::postgres::{app_url, new_database, postgres_server, start_process_with, Process};

fn three_processes(db: &crate::helpers::TestDb, dir: &std::path::Path, args: &[&str]) -> Vec<Process> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    (0..3)
        .map(|_| {
            start_process_with(db, dir, |c| {
                c.args(&args);
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_anonymous_sign_ups_over_three_processes_get_exactly_the_limit_of_ten() {
    let Some(server) = postgres_server("shared sign-up limit") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    // A later option wins: this replaces the lifted limit the test processes start with.
    let processes = three_processes(&db, dir.path(), &["--anonymous-signup-limit", "10/1h"]);
    let client = reqwest::Client::new();
    let sign_ups = (0..30).map(|i| {
        client.post(app_url(&processes[i % 3].base, "/auth/providers/anon-user/login")).json(&json!({})).send()
    });
    let answers: Vec<reqwest::Response> = join_all(sign_ups).await.into_iter().map(Result::unwrap).collect();
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((ok, limited), (10, 20), "{statuses:?}");
    // One token comes back every 6 minutes: no refusal waits longer, none says "now".
    for refused in answers.iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS) {
        let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=360).contains(&wait), "Retry-After {wait}");
    }
    assert_eq!(db.query_i64("SELECT count(*) FROM users"), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_tried_on_three_processes_in_turn_are_throttled_as_on_one() {
    let Some(server) = postgres_server("shared login throttle") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let processes = three_processes(
        &db,
        dir.path(),
        &["--login-failure-limit", "3/1h", "--login-failure-limit-per-address", "100000/1h"],
    );
    let client = reqwest::Client::new();
    let registered = client
        .post(app_url(&processes[0].base, "/auth/providers/local-userpass/register"))
        .json(&json!({ "email": "guessed@example.com", "password": "the-right-one" }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let mut statuses = Vec::new();
    let mut waits = Vec::new();
    for i in 0..9 {
        let resp = client
            .post(app_url(&processes[i % 3].base, "/auth/providers/local-userpass/login"))
            .json(&json!({ "username": "guessed@example.com", "password": format!("guess-{i}") }))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        if let Some(wait) = resp.headers().get("retry-after") {
            waits.push(wait.to_str().unwrap().parse::<u64>().unwrap());
        }
    }
    // Three failures at once, the fourth is judged and starts the backoff, then every attempt
    // is refused unjudged, on whichever process it lands.
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429, 429, 429, 429]);
    // Refused until one failure's token is back: at most 20 minutes (1 h / 3).
    assert!(waits.len() == 5 && waits.iter().all(|w| (1..=1200).contains(w)), "Retry-After {waits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_admin_keys_tried_on_three_processes_in_turn_are_throttled_as_on_one() {
    let Some(server) = postgres_server("shared admin-key limit") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let processes = three_processes(
        &db,
        dir.path(),
        &["--admin-key", "an-admin-key-every-server-shares-0123456789", "--admin-key-failure-limit", "2/1h"],
    );
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let resp = client
            .get(format!("{}/api/admin/users", processes[i % 3].base))
            .bearer_auth(format!("a-wrong-admin-key-{i}-0123456789012345678901234"))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shared_bucket_refills_one_token_per_period_over_count_whichever_process_takes_it() {
    let Some(server) = postgres_server("shared bucket refill") else { return };
    let db = new_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let processes = three_processes(&db, dir.path(), &["--anonymous-signup-limit", "2/2s"]);
    let client = reqwest::Client::new();
    let sign_up = |i: usize| {
        let url = app_url(&processes[i % 3].base, "/auth/providers/anon-user/login");
        let client = client.clone();
        async move { client.post(url).json(&json!({})).send().await.unwrap().status().as_u16() }
    };
    let burst = [sign_up(0).await, sign_up(1).await, sign_up(2).await];
    assert_eq!(burst, [200, 200, 429], "a burst of two");
    // One token back after a second (2 per 2 s), taken on another process; then none again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!([sign_up(2).await, sign_up(0).await], [200, 429], "one token came back");
}
