//! Change listeners, several users, and keeping up with other tabs and other `App`s of the
//! page (needs a running server: see tests/common).
//!
//! Another tab is played by writing localStorage as that tab would and firing the `storage`
//! event the browser would deliver (`storage_event`); the real thing, with several pages, is in
//! e2e/tabs.test.mjs.

mod common;

use common::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A registered account's email (password `password1`).
async fn new_account(app: &JsValue) -> String {
    let email = unique_email();
    register(app, &email, "password1").await;
    email
}

#[wasm_bindgen_test]
async fn app_listeners_hear_login_link_refresh_logout_and_removal() {
    fresh_page();
    let app = new_app(server());
    let events = listen(&app);

    let user = log_in(&app, anonymous(None)).await;
    let email = new_account(&app).await;
    call(&user, "linkCredentials", &[email_password(&email, "password1")]).await.unwrap();
    call(&user, "refreshAccessToken", &[]).await.unwrap();
    call(&user, "logOut", &[]).await.unwrap();
    call(&app, "removeUser", std::slice::from_ref(&user)).await.unwrap();

    assert_eq!(events.kinds(), ["login", "link", "refresh", "logout", "removed"]);
    let id = get_string(&user, "id");
    assert_eq!(events.user_ids(), vec![id; 5]);
    let first = &events.events()[0];
    assert!(js_sys::Object::is(&get(first, "user"), &user), "the event carries the page's User object");
    assert_eq!(get(first, "remote"), JsValue::FALSE);
    assert!(get(first, "reason").is_undefined());
}

#[wasm_bindgen_test]
async fn an_anonymous_logout_is_a_removal() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let events = listen(&app);
    let user_events = listen(&user);

    call(&user, "logOut", &[]).await.unwrap();

    assert_eq!(events.kinds(), ["removed"]);
    assert_eq!(user_events.kinds(), ["removed"]);
    assert_eq!(get_string(&user, "state"), "removed");
}

#[wasm_bindgen_test]
async fn remove_listener_stops_the_calls() {
    fresh_page();
    let app = new_app(server());
    let events = listen(&app);
    let user = log_in(&app, anonymous(None)).await;
    let user_events = listen(&user);

    call_sync(&app, "removeListener", &events.listener);
    call_sync(&user, "removeListener", &user_events.listener);
    call(&user, "refreshAccessToken", &[]).await.unwrap();

    assert_eq!(events.kinds(), ["login"]);
    assert!(user_events.kinds().is_empty());
}

#[wasm_bindgen_test]
async fn a_listener_added_twice_is_called_once_and_one_that_throws_does_not_stop_the_others() {
    fresh_page();
    let app = new_app(server());
    let thrower = js_sys::Function::new_no_args("throw new Error('a broken listener');");
    call_sync(&app, "addListener", &thrower);
    let events = listen(&app);
    call_sync(&app, "addListener", &events.listener);

    let user = log_in(&app, anonymous(None)).await;

    assert_eq!(events.kinds(), ["login"]);
    assert_eq!(get_string(&user, "state"), "active", "the login went through");
}

#[wasm_bindgen_test]
async fn user_listeners_hear_only_their_user_and_switching_is_heard() {
    fresh_page();
    let app = new_app(server());
    let email = new_account(&app).await;
    let member = log_in(&app, email_password(&email, "password1")).await;
    let guest = log_in(&app, anonymous(None)).await;
    let events = listen(&app);
    let member_events = listen(&member);
    let guest_events = listen(&guest);

    call_sync(&app, "switchUser", &member);
    call_sync(&app, "switchUser", &member); // already current: nothing to hear
    call(&guest, "refreshAccessToken", &[]).await.unwrap();

    assert_eq!(events.kinds(), ["switch", "refresh"]);
    assert_eq!(member_events.kinds(), ["switch"]);
    assert_eq!(guest_events.kinds(), ["refresh"]);
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), get_string(&member, "id"));
}

#[wasm_bindgen_test]
async fn remove_and_delete_user_are_heard_as_removals() {
    fresh_page();
    let app = new_app(server());
    let email = new_account(&app).await;
    let member = log_in(&app, email_password(&email, "password1")).await;
    let guest = log_in(&app, anonymous(None)).await;
    let events = listen(&app);

    call(&app, "removeUser", std::slice::from_ref(&guest)).await.unwrap();
    call(&app, "deleteUser", std::slice::from_ref(&member)).await.unwrap();

    // Removing the current user makes the other one current: that is heard too.
    assert_eq!(events.kinds(), ["removed", "switch", "removed"]);
    let (guest_id, member_id) = (get_string(&guest, "id"), get_string(&member, "id"));
    assert_eq!(events.user_ids(), [guest_id, member_id.clone(), member_id]);
    assert!(get(&app, "currentUser").is_null());
    assert!(all_user_ids(&app).is_empty());
}

#[wasm_bindgen_test]
async fn two_apps_of_one_page_logging_in_together_make_one_user() {
    fresh_page();
    let first = new_app(server());
    let second = new_app(server());
    let second_events = listen(&second);

    let one = start(&first, "logIn", &[anonymous(None)]);
    let two = start(&second, "logIn", &[anonymous(None)]);
    let (one, two) = (one.await.unwrap(), two.await.unwrap());

    assert_eq!(get_string(&one, "id"), get_string(&two, "id"));
    assert_eq!(requests().len(), 1, "one login request: {:?}", requests());
    // Whichever logged in, the other heard of it through storage, before reusing it.
    assert_eq!(second_events.kinds().len(), 1, "{:?}", second_events.kinds());
}

#[wasm_bindgen_test]
async fn another_app_of_the_page_follows_logins_refreshes_and_logouts() {
    fresh_page();
    let first = new_app(server());
    let second = new_app(server());
    let events = listen(&second);

    let user = log_in(&first, anonymous(None)).await;
    let id = get_string(&user, "id");
    let mirror = get(&second, "currentUser");
    assert_eq!(get_string(&mirror, "id"), id);
    sleep(1100).await; // a new `iat`, so the refreshed token differs
    call(&user, "refreshAccessToken", &[]).await.unwrap();
    assert_eq!(get_string(&mirror, "accessToken"), get_string(&user, "accessToken"));
    call(&user, "logOut", &[]).await.unwrap();

    assert_eq!(events.kinds(), ["~login", "~refresh", "~removed"]);
    assert!(get(&second, "currentUser").is_null());
    assert_eq!(get_string(&mirror, "state"), "removed");
}

#[wasm_bindgen_test]
async fn another_tabs_refresh_and_logout_update_the_same_user_object() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let events = listen(&app);
    let user_events = listen(&user);
    let record = stored(&user_key(&id)).unwrap();
    let token = get_string(&user, "accessToken");

    // Another tab refreshed: its record has a new access token.
    storage().set_item(&user_key(&id), &record.replace(&token, "another-tabs-token")).unwrap();
    storage_event(Some(&user_key(&id)));
    assert_eq!(get_string(&user, "accessToken"), "another-tabs-token", "updated in place");
    assert!(js_sys::Object::is(&get(&app, "currentUser"), &user), "still the same object");

    // An event for another app, or for nothing that changed, changes nothing.
    storage_event(Some("guestpass:another-app:users"));
    storage_event(Some(&users_key()));

    // Another tab logged the anonymous user out: the list first, then the record.
    storage().set_item(&users_key(), "[]").unwrap();
    storage_event(Some(&users_key()));
    storage().remove_item(&user_key(&id)).unwrap();
    storage_event(Some(&user_key(&id)));

    assert_eq!(events.kinds(), ["~refresh", "~removed"]);
    assert_eq!(user_events.kinds(), ["~refresh", "~removed"]);
    assert_eq!(get_string(&user, "state"), "removed");
    assert!(get(&app, "currentUser").is_null());
    assert_eq!(requests().len(), 1, "no request for any of it");
}

#[wasm_bindgen_test]
async fn a_login_in_another_tab_becomes_current_here() {
    fresh_page();
    let app = new_app(server());
    let events = listen(&app);
    // "Another tab": a second App whose writes this one only learns of through the event.
    let other = new_app_config(server(), &[("storage", "session".into())]);
    let theirs = log_in(&other, anonymous(None)).await;
    let id = get_string(&theirs, "id");
    storage().set_item(&user_key(&id), &session_storage().get_item(&user_key(&id)).unwrap().unwrap()).unwrap();
    storage().set_item(&users_key(), &["[\"", &id, "\"]"].concat()).unwrap();
    storage_event(Some(&users_key()));

    assert_eq!(events.kinds(), ["~login"]);
    let current = get(&app, "currentUser");
    assert_eq!(get_string(&current, "id"), id);
    assert_eq!(get_string(&current, "refreshToken"), get_string(&theirs, "refreshToken"));
}

#[wasm_bindgen_test]
async fn storage_cleared_in_another_tab_puts_the_anonymous_user_at_risk_and_keeps_it_here() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let events = listen(&app);

    storage().clear().unwrap();
    storage_event(None);
    storage_event(None); // said once

    assert_eq!(events.kinds(), ["~identity-at-risk:storage-cleared"]);
    assert!(js_sys::Object::is(&get(&app, "currentUser"), &user), "this tab keeps the session");
    assert_eq!(get_string(&user, "state"), "active");
    assert_eq!(stored(&users_key()), None, "not written back by itself");
    // A later anonymous login reuses it rather than making a new user.
    let again = log_in(&app, anonymous(None)).await;
    assert!(js_sys::Object::is(&again, &user));
    assert_eq!(requests().len(), 1);
    // Used again (a refresh), it is stored again.
    call(&user, "refreshAccessToken", &[]).await.unwrap();
    assert!(stored(&user_key(&get_string(&user, "id"))).is_some());
}

#[wasm_bindgen_test]
async fn corrupt_data_written_by_another_tab_is_ignored() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let events = listen(&app);

    storage().set_item(&user_key(&id), "{broken").unwrap();
    storage_event(Some(&user_key(&id)));
    storage().set_item(&users_key(), "not a list").unwrap();
    storage_event(Some(&users_key()));

    // The record reads as gone (said once), the session is kept, nothing throws.
    assert_eq!(events.kinds(), ["~identity-at-risk:storage-cleared"]);
    assert_eq!(get_string(&user, "state"), "active");
    assert!(js_sys::Object::is(&get(&app, "currentUser"), &user));
}

/// `object[method](arg)` for a synchronous method, which must not throw.
fn call_sync(object: &JsValue, method: &str, arg: &JsValue) {
    let function: js_sys::Function = get(object, method).into();
    if let Err(e) = function.call1(object, arg) {
        panic!("{method} threw: {}", describe(&e));
    }
}
