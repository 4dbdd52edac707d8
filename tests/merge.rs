//! Signing in to an existing account with `mergeAnonymous` (docs/merge.md): the login resolves
//! with the account and a pending merge, which survives a reload and whose `complete()` deletes
//! the anonymous user on the server. Without the option nothing changes (needs the servers: see
//! tests/common).

mod common;

use common::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PASSWORD: &str = "correct horse";

fn merge_key() -> String {
    ["guestpass:", app_id(), ":merge"].concat()
}

/// `{ mergeAnonymous: value }`.
fn merging(value: JsValue) -> JsValue {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"mergeAnonymous".into(), &value).unwrap();
    options.into()
}

/// An account that exists on the server (registered and logged in once, in another browser).
async fn existing_account() -> String {
    let email = unique_email();
    let elsewhere = new_app_config(server(), &[("storage", "memory".into())]);
    register(&elsewhere, &email, PASSWORD).await;
    log_in(&elsewhere, email_password(&email, PASSWORD)).await;
    email
}

async fn merge_log_in(app: &JsValue, email: &str) -> JsValue {
    match call(app, "logIn", &[email_password(email, PASSWORD), merging(JsValue::TRUE)]).await {
        Ok(user) => user,
        Err(e) => panic!("logIn with mergeAnonymous failed: {}", describe(&e)),
    }
}

fn profile_url() -> String {
    [server(), "/api/client/v2.0/auth/profile"].concat()
}

#[wasm_bindgen_test]
async fn a_merge_login_resolves_with_the_account_and_keeps_the_guest_until_complete() {
    fresh_page();
    let email = existing_account().await;
    let app = new_app(server());
    let guest = log_in(&app, anonymous(None)).await;
    let (guest_id, guest_token) = (get_string(&guest, "id"), get_string(&guest, "accessToken"));
    forget_requests();

    let user = merge_log_in(&app, &email).await;

    let login = ["POST ", &provider_url(server(), "local-userpass", "login?merge=true")].concat();
    // gloo-net ends a URL that has a query with `&` (its own, empty, parameters).
    let sent = requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0] == login || sent[0] == [&login, "&"].concat(), "{sent:?}");
    assert_eq!(request_auth(), [Some(["Bearer ", &guest_token].concat())], "sent with the guest's own token");
    let account_id = get_string(&user, "id");
    assert_ne!(account_id, guest_id);
    assert_eq!(get(&user, "isAnonymous"), JsValue::FALSE);
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), account_id, "the account is current");
    let merge = get(&user, "merge");
    assert_eq!((get_string(&merge, "from"), get_string(&merge, "into")), (guest_id.clone(), account_id.clone()));
    assert_eq!(get_string(&merge, "proof").split('.').count(), 3, "a JWT");
    assert_eq!(get_string(&get(&app, "pendingMerge"), "proof"), get_string(&merge, "proof"));
    assert!(get(&guest, "merge").is_null(), "the merge is the account's");
    assert_eq!(get_string(&guest, "state"), "active", "the guest stays until complete()");
    assert!(all_user_ids(&app).contains(&guest_id));
    assert!(stored(&merge_key()).is_some_and(|m| m.contains(&guest_id)), "the merge is stored");
    assert_eq!(raw_status("GET", &profile_url(), &guest_token).await, 200, "the guest still exists on the server");

    if let Err(e) = call(&merge, "complete", &[]).await {
        panic!("complete failed: {}", describe(&e));
    }

    assert_eq!(raw_status("GET", &profile_url(), &guest_token).await, 401, "the guest is gone on the server");
    assert!(!all_user_ids(&app).contains(&guest_id), "and here");
    assert_eq!(get_string(&guest, "state"), "removed");
    assert!(get(&app, "pendingMerge").is_null());
    assert_eq!(stored(&merge_key()), None);
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), account_id);
}

#[wasm_bindgen_test]
async fn a_reload_between_log_in_and_complete_finds_the_merge_again() {
    fresh_page();
    let email = existing_account().await;
    let app = new_app(server());
    let guest = log_in(&app, anonymous(None)).await;
    let (guest_id, guest_token) = (get_string(&guest, "id"), get_string(&guest, "accessToken"));
    let user = merge_log_in(&app, &email).await;
    let proof = get_string(&get(&user, "merge"), "proof");
    drop(app);

    // The reloaded page: a new App on the same storage.
    let reloaded = new_app(server());
    let merge = get(&reloaded, "pendingMerge");
    assert!(!merge.is_null(), "the merge is found again");
    assert_eq!(get_string(&merge, "proof"), proof);
    assert_eq!(get_string(&merge, "from"), guest_id);
    let account = get(&reloaded, "currentUser");
    assert_eq!(get_string(&account, "id"), get_string(&merge, "into"));
    assert_eq!(get_string(&get(&account, "merge"), "proof"), proof);
    assert!(all_user_ids(&reloaded).contains(&guest_id), "the guest is still stored");

    call(&merge, "complete", &[]).await.unwrap();

    assert_eq!(raw_status("GET", &profile_url(), &guest_token).await, 401);
    assert!(!all_user_ids(&reloaded).contains(&guest_id));
    assert!(get(&new_app(server()), "pendingMerge").is_null(), "and a later reload finds nothing");
}

#[wasm_bindgen_test]
async fn abandon_forgets_the_merge_and_keeps_the_guest() {
    fresh_page();
    let email = existing_account().await;
    let app = new_app(server());
    let guest = log_in(&app, anonymous(None)).await;
    let guest_token = get_string(&guest, "accessToken");
    let user = merge_log_in(&app, &email).await;

    let abandon: js_sys::Function = get(&get(&user, "merge"), "abandon").into();
    abandon.call0(&get(&user, "merge")).unwrap();

    assert!(get(&app, "pendingMerge").is_null());
    assert_eq!(stored(&merge_key()), None);
    assert_eq!(get_string(&guest, "state"), "active", "the guest stays, not current");
    assert_eq!(raw_status("GET", &profile_url(), &guest_token).await, 200);
}

#[wasm_bindgen_test]
async fn without_the_option_link_is_a_409_and_log_in_is_a_plain_login() {
    fresh_page();
    let email = existing_account().await;
    let app = new_app(server());
    let guest = log_in(&app, anonymous(None)).await;
    let guest_id = get_string(&guest, "id");
    forget_requests();

    let error = rejection(&guest, "linkCredentials", &[email_password(&email, PASSWORD)]).await;
    assert_error(&error, "AccountNameInUse", 409);
    assert_eq!(get(&guest, "isAnonymous"), JsValue::TRUE);

    let user = log_in(&app, email_password(&email, PASSWORD)).await;
    let login = ["POST ", &provider_url(server(), "local-userpass", "login")].concat();
    assert_eq!(requests()[1], login, "no ?merge=true");
    assert_eq!(request_auth()[1], None, "and no token");
    assert!(get(&user, "merge").is_null());
    assert!(get(&app, "pendingMerge").is_null());
    assert_eq!(stored(&merge_key()), None);
    assert!(all_user_ids(&app).contains(&guest_id));
    // `mergeAnonymous: false` is the same plain login.
    let again = call(&app, "logIn", &[email_password(&email, PASSWORD), merging(JsValue::FALSE)]).await.unwrap();
    assert!(get(&again, "merge").is_null());
}

#[wasm_bindgen_test]
async fn a_failed_merge_login_leaves_the_guest_current_and_nothing_pending() {
    fresh_page();
    let email = existing_account().await;
    let app = new_app(server());
    let guest = log_in(&app, anonymous(None)).await;
    let guest_id = get_string(&guest, "id");

    let wrong = rejection(&app, "logIn", &[email_password(&email, "not the password"), merging(JsValue::TRUE)]).await;
    assert_error(&wrong, "InvalidPassword", 401);
    let typo = rejection(&app, "logIn", &[email_password(&email, PASSWORD), merging("yes".into())]).await;
    assert_error(&typo, "InvalidArgument", 0);

    assert_eq!(get_string(&get(&app, "currentUser"), "id"), guest_id);
    assert!(get(&app, "pendingMerge").is_null());
    assert_eq!(stored(&merge_key()), None);
}

#[wasm_bindgen_test]
async fn with_no_anonymous_current_user_merge_anonymous_is_a_plain_login() {
    fresh_page();
    let email = existing_account().await;
    let app = new_app(server());
    forget_requests();

    let user = merge_log_in(&app, &email).await;

    assert_eq!(requests(), [["POST ", &provider_url(server(), "local-userpass", "login")].concat()]);
    assert!(get(&user, "merge").is_null());
    assert!(get(&app, "pendingMerge").is_null());
}

#[wasm_bindgen_test]
async fn a_merge_anonymous_that_is_not_a_boolean_is_refused_before_any_request() {
    fresh_page();
    let email = existing_account().await;
    let app = new_app(server());
    let guest = log_in(&app, anonymous(None)).await;
    forget_requests();

    for value in [JsValue::from_str("yes"), JsValue::from(1), JsValue::NULL] {
        let error = call(&app, "logIn", &[email_password(&email, PASSWORD), merging(value)]).await.unwrap_err();
        assert_error(&error, "InvalidArgument", 0);
    }

    assert_eq!(requests(), Vec::<String>::new(), "nothing was sent");
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), get_string(&guest, "id"));
    assert!(get(&app, "pendingMerge").is_null());
}
