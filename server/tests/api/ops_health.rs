//! `/healthz` and `/readyz`: unauthenticated, in the protocol's JSON shape, and `/readyz`
//! answers 503 once the store stops answering.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_answer_ok_without_a_key() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let resp = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/json", "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], "ok", "{path}");
    }
}

#[tokio::test]
async fn probes_are_not_shed_when_every_request_slot_is_taken() {
    // One slot, held by a request whose body never finishes arriving.
    let app = spawn_app_with(|c| c.concurrency_limit = 1).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/client/v2.0/app/{APP_ID}/auth/providers/anon-user/login HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    tokio::io::AsyncWriteExt::write_all(&mut held, head.as_bytes()).await.unwrap();
    // The slot is taken: another API request is shed with 503...
    let mut shed = false;
    for _ in 0..50 {
        let resp = app.client.get(app.app_url("/location")).send().await.unwrap();
        if resp.status() == StatusCode::SERVICE_UNAVAILABLE {
            shed = true;
            break;
        }
        sleep(0.05).await;
    }
    assert!(shed, "the held request never took the only slot");
    // ...while the probes still answer.
    for path in ["/healthz", "/readyz"] {
        let resp = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path} was shed with the API");
    }
    drop(held);
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    let TestDb::Postgres { server, name } = &app.db else {
        // A SQLite file cannot be taken from under open connections; this is PostgreSQL's case.
        eprintln!("readyz_answers_503_when_the_database_is_gone: skipped, it needs GUESTPASS_TEST_DATABASE_URL");
        return;
    };
    let ready = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let sql = format!("DROP DATABASE {name} WITH (FORCE)");
    with_postgres(server, |c| c.batch_execute(&sql)).unwrap();
    let resp = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    let body = assert_error(resp, 503, "ServiceUnavailable").await;
    assert!(body["error"].as_str().unwrap().contains("store"), "{body}");
    // The process itself is still up.
    let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}
