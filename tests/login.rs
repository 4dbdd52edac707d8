//! Logging in, reusing and restoring users (needs a running server: see tests/common).

mod common;

use common::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn anonymous_login_makes_one_request_and_stores_the_user() {
    fresh_page();
    let app = new_app(server());

    let user = log_in(&app, anonymous(None)).await;

    let id = get_string(&user, "id");
    assert!(is_hex_id(&id), "user id {id:?} is not 24 hex digits");
    assert_eq!(get(&user, "isAnonymous"), JsValue::TRUE);
    assert_eq!(get_string(&user, "state"), "active");
    assert_eq!(get_string(&user, "providerType"), "anon-user");
    assert!(!get_string(&user, "accessToken").is_empty());
    let refresh_token = get_string(&user, "refreshToken");
    assert!(!refresh_token.is_empty());
    assert_eq!(
        requests(),
        [[server(), "/api/client/v2.0/app/", app_id(), "/auth/providers/anon-user/login"].concat()]
            .map(|url| ["POST ", &url].concat())
    );
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), id);
    assert_eq!(stored(&users_key()).as_deref(), Some(&*["[\"", &id, "\"]"].concat()));
    assert_eq!(
        request_bodies(),
        [Some(
            [r#"{"options":{"device":{"sdkVersion":""#, env!("CARGO_PKG_VERSION"), r#"","platform":"web"}}}"#].concat()
        )]
    );
    let device_id = stored(&device_key()).expect("the device id is stored");
    assert!(is_hex_id(&device_id), "device id {device_id:?}");
    let record = stored(&user_key(&id)).expect("the user is stored");
    assert!(record.contains(&refresh_token), "the stored record holds the refresh token");
    assert!(record.contains("\"providerType\":\"anon-user\""));
}

#[wasm_bindgen_test]
async fn second_anonymous_login_reuses_the_user_without_a_request() {
    fresh_page();
    let app = new_app(server());
    let first = log_in(&app, anonymous(None)).await;
    forget_requests();

    let second = log_in(&app, anonymous(None)).await;

    assert_eq!(get_string(&second, "id"), get_string(&first, "id"));
    assert_eq!(requests(), Vec::<String>::new());
}

#[wasm_bindgen_test]
async fn anonymous_false_makes_a_new_user_every_time() {
    fresh_page();
    let app = new_app(server());
    let first = log_in(&app, anonymous(None)).await;

    let second = log_in(&app, anonymous(Some(false))).await;

    assert_ne!(get_string(&second, "id"), get_string(&first, "id"));
    assert_eq!(requests().len(), 2);
    let device_id = stored(&device_key()).unwrap();
    let second_body = request_bodies().pop().flatten().unwrap();
    assert!(
        second_body.contains(&[r#""deviceId":""#, &device_id, "\""].concat()),
        "the second login sends the stored device id: {second_body}"
    );
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), get_string(&second, "id"));
    let all = js_sys::Object::keys(&get(&app, "allUsers").into());
    assert_eq!(all.length(), 2, "both users are listed");
}

#[wasm_bindgen_test]
async fn a_new_app_restores_the_user_without_a_request() {
    fresh_page();
    let user = log_in(&new_app(server()), anonymous(None)).await;
    forget_requests();

    // What a reloaded page does.
    let app = new_app(server());
    let current = get(&app, "currentUser");
    let again = log_in(&app, anonymous(None)).await;

    assert_eq!(get_string(&current, "id"), get_string(&user, "id"));
    assert_eq!(get_string(&current, "refreshToken"), get_string(&user, "refreshToken"));
    assert_eq!(get_string(&current, "state"), "active");
    assert_eq!(get(&current, "isAnonymous"), JsValue::TRUE);
    assert_eq!(get_string(&again, "id"), get_string(&user, "id"));
    assert_eq!(requests(), Vec::<String>::new());
}

#[wasm_bindgen_test]
async fn after_clearing_storage_anonymous_login_is_a_new_user() {
    fresh_page();
    let user = log_in(&new_app(server()), anonymous(None)).await;

    storage().clear().unwrap();
    let app = new_app(server());
    assert!(get(&app, "currentUser").is_null());
    let other = log_in(&app, anonymous(None)).await;

    assert_ne!(get_string(&other, "id"), get_string(&user, "id"));
}

#[wasm_bindgen_test]
async fn corrupt_storage_is_dropped_and_login_still_works() {
    fresh_page();
    let storage = storage();
    let ghost = "0123456789abcdef01234567";
    storage.set_item(&users_key(), "{not json").unwrap();
    assert!(get(&new_app(server()), "currentUser").is_null());
    assert_eq!(stored(&users_key()), None, "an unparseable list is removed");

    // A valid list naming records that are garbage or incomplete.
    let half = "aaaaaaaaaaaaaaaaaaaaaaaa";
    storage.set_item(&users_key(), &["[\"", ghost, "\",\"", half, "\",5,null]"].concat()).unwrap();
    storage.set_item(&user_key(ghost), "garbage{").unwrap();
    storage.set_item(&user_key(half), "{\"accessToken\":\"x\",\"refreshToken\":\"y\"}").unwrap();
    let app = new_app(server());

    assert!(get(&app, "currentUser").is_null());
    assert_eq!(stored(&user_key(ghost)), None);
    assert_eq!(stored(&user_key(half)), None);
    assert_eq!(stored(&users_key()).as_deref(), Some("[]"));
    let user = log_in(&app, anonymous(None)).await;
    assert!(is_hex_id(&get_string(&user, "id")));
    assert_eq!(requests().len(), 1);
}

#[wasm_bindgen_test]
async fn auth_providers_include_anonymous() {
    fresh_page();
    let app = new_app(server());

    let providers = call(&app, "getAuthProviders", &[]).await.unwrap();

    let providers: js_sys::Array = providers.into();
    let anonymous = providers
        .iter()
        .find(|p| get(p, "type").as_string().as_deref() == Some("anon-user"))
        .expect("anon-user is listed");
    assert_eq!(get_string(&anonymous, "name"), "anon-user");
}

#[wasm_bindgen_test]
async fn when_storage_throws_users_live_in_memory_for_the_page() {
    fresh_page();
    let break_storage = js_sys::Function::new_with_args(
        "broken",
        "const p = Storage.prototype;
         if (!p.__realSetItem) p.__realSetItem = p.setItem;
         p.setItem = broken
           ? function () { throw new DOMException('no room', 'QuotaExceededError'); }
           : p.__realSetItem;",
    );
    break_storage.call1(&JsValue::NULL, &JsValue::TRUE).unwrap();

    let user = log_in(&new_app(server()), anonymous(None)).await;
    let login_requests = requests().len();
    // A second App of the same page finds the user without localStorage.
    let again = log_in(&new_app(server()), anonymous(None)).await;
    let total_requests = requests().len();
    let in_local_storage = stored(&users_key());
    break_storage.call1(&JsValue::NULL, &JsValue::FALSE).unwrap();

    assert_eq!(login_requests, 1);
    assert_eq!(get_string(&again, "id"), get_string(&user, "id"));
    assert_eq!(total_requests, 1, "the second App reused the user from memory");
    assert_eq!(in_local_storage, None);
}
