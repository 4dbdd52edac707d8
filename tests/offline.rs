//! Offline, server faults and rate limits: what fails, what is kept (needs the servers: see
//! tests/common).

mod common;

use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn offline_calls_fail_with_network_error_and_keep_the_session() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let record = stored(&user_key(&id));
    let events = listen(&app);
    unreachable(Some(server())); // every request to the server fails, as with no network

    let profile = call(&user, "refreshProfile", &[]).await.unwrap_err();
    let fetched = call(&user, "fetch", &["/api/client/v2.0/auth/profile".into()]).await.unwrap_err();
    let other = call(&app, "logIn", &[anonymous(Some(false))]).await.unwrap_err();
    unreachable(None);

    for error in [&profile, &fetched, &other] {
        assert_error(error, "NetworkError", 0);
        assert!(get(error, "retryAfter").is_undefined());
    }
    assert_eq!(get_string(&user, "state"), "active");
    assert!(js_sys::Object::is(&get(&app, "currentUser"), &user));
    assert_eq!(stored(&user_key(&id)), record, "the stored session is untouched");
    assert!(events.kinds().is_empty(), "nothing changed: {:?}", events.kinds());
    // Back online, the same session works.
    call(&user, "refreshProfile", &[]).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_server_fault_on_refresh_keeps_the_session_and_backs_off() {
    fresh_page();
    let app = new_app(short_server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let token = get_string(&user, "accessToken");
    let record = stored(&user_key(&id));
    let refresh = ["POST ", &session_url(short_server())].concat();
    let refreshes = || requests().iter().filter(|r| **r == refresh).count();
    sleep(3000).await; // the short server's access tokens live 2 s
                       // The real server cannot be made to fail: the page's fetch answers 503 for the refresh.
    failing(Some("/auth/session"));

    // A call with the expired token needs a refresh, which fails: the call fails with the
    // refresh's error, and the user stays logged in with its session stored.
    let first = call(&user, "refreshProfile", &[]).await.unwrap_err();
    assert_error(&first, "HttpError", 503);
    assert_eq!(refreshes(), 1);
    assert_eq!(get_string(&user, "state"), "active");
    assert_eq!(get_string(&user, "accessToken"), token);
    assert_eq!(stored(&user_key(&id)), record);

    // Within the back-off (1 s): the same error at once, no refresh request.
    let again = call(&user, "refreshAccessToken", &[]).await.unwrap_err();
    assert_error(&again, "HttpError", 503);
    let call_again = call(&user, "refreshProfile", &[]).await.unwrap_err();
    assert_error(&call_again, "HttpError", 503);
    assert_eq!(refreshes(), 1, "no refresh during the back-off: {:?}", requests());

    // After it: one more try, which fails too; the back-off doubles (2 s).
    sleep(1100).await;
    call(&user, "refreshAccessToken", &[]).await.unwrap_err();
    assert_eq!(refreshes(), 2);
    sleep(1100).await;
    call(&user, "refreshAccessToken", &[]).await.unwrap_err();
    assert_eq!(refreshes(), 2, "still backing off after 1.1 s of a 2 s back-off");
    assert_eq!(get_string(&user, "state"), "active");

    // The server is back: after the back-off, the call refreshes and goes through.
    failing(None);
    sleep(1300).await;
    call(&user, "refreshProfile", &[]).await.unwrap();
    assert_eq!(refreshes(), 3);
    assert_ne!(get_string(&user, "accessToken"), token);
    // A success resets the back-off: a failure now waits 1 s again, not 4.
    failing(Some("/auth/session"));
    call(&user, "refreshAccessToken", &[]).await.unwrap_err();
    sleep(1100).await;
    call(&user, "refreshAccessToken", &[]).await.unwrap_err();
    failing(None);
    assert_eq!(refreshes(), 5);
}

#[wasm_bindgen_test]
async fn a_network_failure_on_refresh_backs_off_too() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    unreachable(Some("/auth/session"));

    let first = call(&user, "refreshAccessToken", &[]).await.unwrap_err();
    let second = call(&user, "refreshAccessToken", &[]).await.unwrap_err();
    unreachable(None);

    assert_error(&first, "NetworkError", 0);
    assert_error(&second, "NetworkError", 0);
    assert_eq!(requests().iter().filter(|r| r.ends_with("/auth/session")).count(), 1);
    assert_eq!(get_string(&user, "state"), "active");
}

#[wasm_bindgen_test]
async fn too_many_anonymous_sign_ups_is_a_typed_error_with_the_wait() {
    fresh_page();
    // The server allows two sign-ups an hour from one address, for both browsers' runs: the
    // first or the third attempt is refused, depending on which browser runs first.
    let app = new_app(limited_server());
    for attempt in 1..=3 {
        match call(&app, "logIn", &[anonymous(Some(false))]).await {
            Ok(_) => continue,
            Err(error) => {
                assert_error(&error, "TooManyRequests", 429);
                let wait = get(&error, "retryAfter").as_f64().expect("retryAfter is a number");
                assert!(wait > 0.0 && wait <= 3600.0, "retryAfter {wait}");
                assert!(error.is_instance_of::<js_sys::Error>());
                assert_eq!(requests().len(), attempt, "one request per attempt");
                return;
            }
        }
    }
    panic!("three sign-ups from one address were all accepted");
}
