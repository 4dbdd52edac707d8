//! Refresh, logout and revoked sessions (needs the two servers: see tests/common).

mod common;

use common::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn log_out_removes_the_anonymous_user_and_ends_its_session() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let refresh_token = get_string(&user, "refreshToken");
    forget_requests();

    call(&user, "logOut", &[]).await.unwrap();

    assert_eq!(get_string(&user, "state"), "removed");
    assert!(get(&user, "refreshToken").is_null());
    assert!(get(&user, "accessToken").is_null());
    assert!(get(&app, "currentUser").is_null());
    assert_eq!(js_sys::Object::keys(&get(&app, "allUsers").into()).length(), 0);
    assert_eq!(stored(&user_key(&id)), None);
    assert_eq!(stored(&users_key()).as_deref(), Some("[]"));
    assert_eq!(requests(), [["DELETE ", &session_url(server())].concat()]);
    assert_eq!(raw_status("POST", &session_url(server()), &refresh_token).await, 401);
}

#[wasm_bindgen_test]
async fn refresh_access_token_gets_a_new_access_token() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let access_token = get_string(&user, "accessToken");
    // Access tokens carry `iat` in seconds: let a second pass so the new one differs.
    sleep(1100).await;
    forget_requests();

    call(&user, "refreshAccessToken", &[]).await.unwrap();

    assert_eq!(requests(), [["POST ", &session_url(server())].concat()]);
    let new_token = get_string(&user, "accessToken");
    assert_ne!(new_token, access_token);
    let record = stored(&user_key(&get_string(&user, "id"))).unwrap();
    assert!(record.contains(&new_token), "the new access token is stored");
}

#[wasm_bindgen_test]
async fn an_expired_access_token_is_refreshed_once_and_the_request_retried() {
    fresh_page();
    let app = new_app(short_server());
    let user = log_in(&app, anonymous(None)).await;
    let access_token = get_string(&user, "accessToken");
    let refresh_token = get_string(&user, "refreshToken");
    sleep(3000).await; // the short server's access tokens live 2 s
    forget_requests();

    if let Err(e) = call(&user, "refreshProfile", &[]).await {
        panic!("refreshProfile failed: {}", describe(&e));
    }

    let profile = [short_server(), "/api/client/v2.0/auth/profile"].concat();
    assert_eq!(
        requests(),
        [["GET ", &profile].concat(), ["POST ", &session_url(short_server())].concat(), ["GET ", &profile].concat(),]
    );
    assert_ne!(get_string(&user, "accessToken"), access_token);
    assert_eq!(get_string(&user, "refreshToken"), refresh_token);
    let identities: js_sys::Array = get(&user, "identities").into();
    assert_eq!(identities.length(), 1);
    assert_eq!(get_string(&identities.get(0), "providerType"), "anon-user");
}

#[wasm_bindgen_test]
async fn a_revoked_session_fails_after_one_refresh_and_logs_the_user_out() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(Some(false))).await;
    let id = get_string(&user, "id");
    // Log out behind the SDK's back: the server revokes the session and deletes the
    // anonymous user, so both the access and the refresh token are refused from now on.
    let refresh_token = get_string(&user, "refreshToken");
    assert_eq!(raw_status("DELETE", &session_url(server()), &refresh_token).await, 204);
    forget_requests();

    let error = call(&user, "refreshProfile", &[]).await.unwrap_err();

    assert_eq!(get_string(&error, "code"), "InvalidSession", "{}", describe(&error));
    assert_eq!(get(&error, "status"), JsValue::from(401));
    assert_eq!(
        requests(),
        [["GET ", server(), "/api/client/v2.0/auth/profile"].concat(), ["POST ", &session_url(server())].concat(),],
        "one refresh, no retry loop"
    );
    assert_eq!(get_string(&user, "state"), "removed");
    assert!(get(&user, "accessToken").is_null());
    assert!(get(&app, "currentUser").is_null());
    assert_eq!(stored(&user_key(&id)), None);
}

#[wasm_bindgen_test]
async fn log_out_ends_the_local_session_even_when_the_server_is_unreachable() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let refresh_token = get_string(&user, "refreshToken");
    unreachable(Some("/auth/session"));

    let error = call(&user, "logOut", &[]).await.unwrap_err();

    assert_eq!(get_string(&error, "code"), "NetworkError", "{}", describe(&error));
    assert_eq!(get_string(&user, "state"), "removed");
    assert!(get(&user, "refreshToken").is_null());
    assert!(get(&app, "currentUser").is_null());
    assert_eq!(stored(&user_key(&id)), None);
    // The server was never told: its session lives on. End it so the test leaves nothing.
    unreachable(None);
    assert_eq!(raw_status("DELETE", &session_url(server()), &refresh_token).await, 204);
}

#[wasm_bindgen_test]
async fn a_refresh_that_cannot_reach_the_server_keeps_the_session() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let access_token = get_string(&user, "accessToken");
    let record = stored(&user_key(&id));
    unreachable(Some("/auth/session"));

    let error = call(&user, "refreshAccessToken", &[]).await.unwrap_err();

    assert_eq!(get_string(&error, "code"), "NetworkError", "{}", describe(&error));
    assert_eq!(get(&error, "status"), JsValue::from(0));
    assert_eq!(get_string(&user, "state"), "active");
    assert_eq!(get_string(&user, "accessToken"), access_token);
    assert_eq!(stored(&user_key(&id)), record);
    unreachable(None);
    sleep(1100).await; // the back-off after a failed refresh (tests/offline.rs)
    call(&user, "refreshAccessToken", &[]).await.unwrap();
}

#[wasm_bindgen_test]
async fn overlapping_requests_with_an_expired_token_share_one_refresh() {
    fresh_page();
    let app = new_app(short_server());
    let user = log_in(&app, anonymous(None)).await;
    sleep(3000).await; // the short server's access tokens live 2 s
    forget_requests();

    let first = start(&user, "refreshProfile", &[]);
    let second = start(&user, "refreshProfile", &[]);
    let (first, second) = (first.await, second.await);

    assert!(first.is_ok() && second.is_ok(), "both calls succeed");
    let requests = requests();
    let refreshes = requests.iter().filter(|r| r.starts_with("POST ")).count();
    assert_eq!(refreshes, 1, "one refresh for both: {requests:?}");
    assert_eq!(requests.len(), 5, "two refused, one refresh, two retried: {requests:?}");
}

/// `user.fetch(input, init)`, which must resolve; the `Response`.
async fn user_fetch(user: &JsValue, input: &str, init: Option<JsValue>) -> web_sys::Response {
    let mut args = vec![JsValue::from_str(input)];
    args.extend(init);
    match call(user, "fetch", &args).await {
        Ok(response) => response.into(),
        Err(e) => panic!("user.fetch failed: {}", describe(&e)),
    }
}

#[wasm_bindgen_test]
async fn user_fetch_adds_the_access_token_and_resolves_relative_urls() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let access_token = get_string(&user, "accessToken");
    let init = js_sys::Function::new_no_args("return { headers: { Accept: 'application/json' } };")
        .call0(&JsValue::NULL)
        .unwrap();
    forget_requests();

    let response = user_fetch(&user, "/api/client/v2.0/auth/profile", Some(init.clone())).await;

    assert_eq!(response.status(), 200);
    assert_eq!(requests(), [["GET ", server(), "/api/client/v2.0/auth/profile"].concat()]);
    assert_eq!(request_auth(), [Some(["Bearer ", &access_token].concat())]);
    let body = wasm_bindgen_futures::JsFuture::from(response.json().unwrap()).await.unwrap();
    assert_eq!(get_string(&body, "user_id"), get_string(&user, "id"));
    // The page's init is not changed.
    assert_eq!(js_sys::JSON::stringify(&init).unwrap(), "{\"headers\":{\"Accept\":\"application/json\"}}");
}

#[wasm_bindgen_test]
async fn user_fetch_refreshes_an_expired_token_once_and_retries() {
    fresh_page();
    let app = new_app(short_server());
    let user = log_in(&app, anonymous(None)).await;
    let access_token = get_string(&user, "accessToken");
    sleep(3000).await; // the short server's access tokens live 2 s
    forget_requests();

    let response = user_fetch(&user, "api/client/v2.0/auth/profile", None).await;

    assert_eq!(response.status(), 200);
    let profile = ["GET ", short_server(), "/api/client/v2.0/auth/profile"].concat();
    assert_eq!(requests(), [profile.clone(), ["POST ", &session_url(short_server())].concat(), profile]);
    let new_token = get_string(&user, "accessToken");
    assert_ne!(new_token, access_token);
    assert_eq!(request_auth()[2].as_deref(), Some(&*["Bearer ", &new_token].concat()));
}

#[wasm_bindgen_test]
async fn user_fetch_returns_other_failures_as_they_are() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let init = js_sys::Function::new_no_args(
        "return { method: 'POST', headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ username: 'nobody@example.com', password: 'password1' }) };",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let url = ["/api/client/v2.0/app/", app_id(), "/auth/providers/local-userpass/login"].concat();
    forget_requests();

    let response = user_fetch(&user, &url, Some(init)).await;

    // A 401 that is not InvalidSession: no refresh, no retry, and the page reads the answer.
    assert_eq!(response.status(), 401);
    assert_eq!(requests().len(), 1, "{:?}", requests());
    let body = wasm_bindgen_futures::JsFuture::from(response.json().unwrap()).await.unwrap();
    assert_eq!(get_string(&body, "error_code"), "InvalidPassword");
}

/// The echo server's requests to `path`, with their `Authorization` header.
async fn echo_auth(path: &str) -> Vec<Option<String>> {
    echo_seen().await.into_iter().filter(|(_, seen, _)| seen == path).map(|(_, _, auth)| auth).collect()
}

#[wasm_bindgen_test]
async fn user_fetch_sends_no_token_to_another_origin() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    // A path no other test (or run) uses, to find this request among what the server kept.
    let path = ["/other-origin-", &get_string(&user, "id")].concat();
    forget_requests();

    let response = user_fetch(&user, &[echo_server(), &path].concat(), None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(request_auth(), [None], "the page's fetch got no token");
    assert_eq!(echo_auth(&path).await, [None], "the other origin received no Authorization header");
}

#[wasm_bindgen_test]
async fn user_fetch_sends_the_token_to_another_origin_only_when_the_page_asks() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let access_token = get_string(&user, "accessToken");
    let path = ["/opted-in-", &get_string(&user, "id")].concat();
    let init =
        js_sys::Function::new_no_args("return { sendTokenToOtherOrigins: true };").call0(&JsValue::NULL).unwrap();

    let response = user_fetch(&user, &[echo_server(), &path].concat(), Some(init)).await;

    assert_eq!(response.status(), 200);
    assert_eq!(echo_auth(&path).await, [Some(["Bearer ", &access_token].concat())]);
    let wrong =
        js_sys::Function::new_no_args("return { sendTokenToOtherOrigins: 'yes' };").call0(&JsValue::NULL).unwrap();
    let error = rejection(&user, "fetch", &[[echo_server(), &path].concat().into(), wrong]).await;
    assert_error(&error, "InvalidArgument", 0);
}

#[wasm_bindgen_test]
fn a_base_url_that_would_send_tokens_in_the_clear_is_refused() {
    for base_url in ["http://example.com", "http://192.168.1.20:8080", "ftp://example.com", "not a url"] {
        let config = js_sys::Object::new();
        js_sys::Reflect::set(&config, &"id".into(), &app_id().into()).unwrap();
        js_sys::Reflect::set(&config, &"baseUrl".into(), &base_url.into()).unwrap();
        let error = guestpass::App::new(config.into()).map(drop).unwrap_err();
        assert_error(&error, "InvalidArgument", 0);
    }
    for base_url in ["https://auth.example.com", "http://localhost:8080", "http://[::1]:8080", server()] {
        new_app(base_url); // panics if it throws
    }
}
