//! A handler panic answers 500 in the protocol's shape and the server goes on serving
//! (the release build is checked the same way by the `release` suite).

use reqwest::{Method, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    let app = spawn_app_with(|c| c.test_panic_route = true).await;
    for _ in 0..3 {
        let resp = app.send(Method::GET, &format!("{}/api/test/panic", app.base), None).await;
        assert_error(resp, 500, "InternalServerError").await;
    }
    app.anonymous_login().await;
}

#[tokio::test]
async fn the_panic_route_is_off_by_default() {
    let app = spawn_app().await;
    let resp = app.send(Method::GET, &format!("{}/api/test/panic", app.base), None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
