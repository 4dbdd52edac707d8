//! Where the identity lives and what tells the page it may be lost: storage choices and
//! fallbacks, corrupt data, `persistence`, `requestPersistentStorage`, identity-at-risk events
//! (needs a running server: see tests/common).
//!
//! Users an app keeps in memory stay in the page's memory map for the rest of the test file
//! (there is no reload between tests), so memory tests make new users (`anonymous(false)`).

mod common;

use common::*;
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn persistence(app: &JsValue) -> (String, bool, bool) {
    let p = get(app, "persistence");
    (get_string(&p, "storage"), get(&p, "durable") == JsValue::TRUE, get(&p, "fallback") == JsValue::TRUE)
}

#[wasm_bindgen_test]
async fn local_storage_is_the_default_and_durable() {
    fresh_page();
    let app = new_app(server());
    let events = listen(&app);

    let user = log_in(&app, anonymous(None)).await;

    assert_eq!(persistence(&app), ("local".into(), true, false));
    assert!(stored(&user_key(&get_string(&user, "id"))).is_some());
    assert_eq!(events.kinds(), ["login"], "no risk: the user is stored durably");
}

#[wasm_bindgen_test]
async fn when_local_storage_throws_the_app_falls_back_to_memory_and_says_so() {
    fresh_page();
    let broken = break_storage(true);
    let app = new_app(server());
    let events = listen(&app);

    let user = log_in(&app, anonymous(Some(false))).await;
    let id = get_string(&user, "id");
    let current = get(&app, "currentUser");
    // Another App of the page finds the user in memory, without a request.
    let again = new_app(server());
    let found = get(&again, "allUsers");
    drop(broken);

    assert_eq!(persistence(&app), ("memory".into(), false, true));
    assert_eq!(events.kinds(), ["login", "identity-at-risk:memory"]);
    assert_eq!(events.user_ids(), [id.clone(), id.clone()]);
    assert_eq!(get_string(&current, "id"), id);
    assert!(get(&found, &id).is_object(), "the page's other App sees the user");
    assert_eq!(persistence(&again), ("memory".into(), false, true));
    assert_eq!(stored(&users_key()), None, "nothing reached localStorage");
    assert_eq!(requests().len(), 1);
}

#[wasm_bindgen_test]
async fn a_storage_that_starts_refusing_writes_moves_the_users_to_memory() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(Some(false))).await;
    let id = get_string(&user, "id");
    let events = listen(&app);
    assert_eq!(persistence(&app), ("local".into(), true, false));

    // The quota fills up: the next write (the refreshed token) is refused.
    let broken = break_storage(false);
    call(&user, "refreshAccessToken", &[]).await.unwrap();
    let later = new_app(server()); // made while writes still fail: memory too
    drop(broken);

    assert_eq!(persistence(&app), ("memory".into(), false, true));
    assert_eq!(events.kinds(), ["refresh", "identity-at-risk:memory"]);
    assert_eq!(get_string(&user, "state"), "active");
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), id);
    let moved = get(&get(&later, "allUsers"), &id);
    assert_eq!(get_string(&moved, "refreshToken"), get_string(&user, "refreshToken"), "the users were moved to memory");
}

#[wasm_bindgen_test]
async fn session_storage_keeps_the_user_for_the_tab() {
    fresh_page();
    let app = new_app_config(server(), &[("storage", "session".into())]);
    let events = listen(&app);

    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let reloaded = new_app_config(server(), &[("storage", "session".into())]);

    assert_eq!(persistence(&app), ("session".into(), false, false));
    assert!(session_storage().get_item(&user_key(&id)).unwrap().is_some());
    assert_eq!(stored(&users_key()), None, "nothing in localStorage");
    assert_eq!(get_string(&get(&reloaded, "currentUser"), "id"), id);
    assert_eq!(events.kinds(), ["login"]);
    assert!(get(&new_app(server()), "currentUser").is_null(), "a localStorage app does not see it");
}

#[wasm_bindgen_test]
async fn memory_storage_keeps_the_user_for_the_page_and_says_it_is_at_risk() {
    fresh_page();
    let app = new_app_config(server(), &[("storage", "memory".into())]);
    let events = listen(&app);

    let user = log_in(&app, anonymous(Some(false))).await;

    assert_eq!(persistence(&app), ("memory".into(), false, false));
    assert_eq!(events.kinds(), ["login", "identity-at-risk:memory"]);
    assert_eq!(stored(&users_key()), None);
    assert_eq!(session_storage().get_item(&users_key()).unwrap(), None);
    let same_page = new_app_config(server(), &[("storage", "memory".into())]);
    assert!(get(&get(&same_page, "allUsers"), &get_string(&user, "id")).is_object());
}

#[wasm_bindgen_test]
fn an_unknown_storage_is_an_invalid_argument() {
    let config = js_sys::Object::new();
    Reflect::set(&config, &"id".into(), &app_id().into()).unwrap();
    Reflect::set(&config, &"storage".into(), &"indexeddb".into()).unwrap();
    let error = guestpass::App::new(config.into()).unwrap_err();
    assert_eq!(get_string(&error, "code"), "InvalidArgument");
}

#[wasm_bindgen_test]
async fn corrupt_or_partial_records_are_dropped_at_construction_without_throwing() {
    fresh_page();
    let storage = storage();
    let good = log_in(&new_app(server()), anonymous(None)).await;
    let good_id = get_string(&good, "id");
    let good_record = stored(&user_key(&good_id)).unwrap();
    let bad = [
        ("aaaaaaaaaaaaaaaaaaaaaaaa", "null"),
        ("bbbbbbbbbbbbbbbbbbbbbbbb", "[1,2]"),
        ("cccccccccccccccccccccccc", "\"a string\""),
        (
            "dddddddddddddddddddddddd",
            r#"{"providerType":"anon-user","accessToken":5,"refreshToken":"r","profile":null}"#,
        ),
        ("eeeeeeeeeeeeeeeeeeeeeeee", r#"{"providerType":"anon-user","refreshToken":"r","profile":"profile"}"#),
        ("ffffffffffffffffffffffff", r#"{"providerType":"","refreshToken":"r"}"#),
        ("abababababababababababab", r#"{"providerType":"anon-user","refreshToken":"r","pro"#),
    ];
    let mut list = String::from("[");
    for (id, record) in bad {
        storage.set_item(&user_key(id), record).unwrap();
        list.push_str(&["\"", id, "\","].concat());
    }
    list.push_str(&["\"", &good_id, "\",\"", &good_id, "\",{},[],\"\"]"].concat());
    storage.set_item(&users_key(), &list).unwrap();

    let app = new_app(server());

    assert_eq!(all_user_ids(&app), std::slice::from_ref(&good_id), "only the valid user, once");
    assert_eq!(get_string(&get(&app, "currentUser"), "id"), good_id);
    for (id, _) in bad {
        assert_eq!(stored(&user_key(id)), None, "{id}'s record is removed");
    }
    assert_eq!(stored(&users_key()).unwrap(), ["[\"", &good_id, "\"]"].concat());
    assert_eq!(stored(&user_key(&good_id)).unwrap(), good_record);

    // A list that is not an array, and records of the wrong type in sessionStorage.
    storage.set_item(&users_key(), "{\"0\":\"x\"}").unwrap();
    assert!(get(&new_app(server()), "currentUser").is_null());
    assert_eq!(stored(&users_key()), None);
    session_storage().set_item(&users_key(), "[\"x\"]").unwrap();
    session_storage().set_item(&user_key("x"), "{\"providerType\":7}").unwrap();
    let session = new_app_config(server(), &[("storage", "session".into())]);
    assert!(get(&session, "currentUser").is_null());
    assert_eq!(session_storage().get_item(&users_key()).unwrap().as_deref(), Some("[]"));
}

#[wasm_bindgen_test]
async fn request_persistent_storage_asks_the_browser_only_for_local_storage() {
    fresh_page();
    // Stub `navigator.storage` (Firefox would prompt; WebKitGTK has none): count the calls to
    // `persist`, answer `true`. An own property of `navigator` shadows the prototype's getter.
    let stub = js_sys::Function::new_no_args(
        "window.__persistCalls = 0;
         const persist = () => { window.__persistCalls++; return Promise.resolve(true); };
         Object.defineProperty(navigator, 'storage', { value: { persist }, configurable: true });",
    );
    stub.call0(&JsValue::NULL).unwrap();
    let restore = js_sys::Function::new_no_args("delete navigator.storage;");

    let local = call(&new_app(server()), "requestPersistentStorage", &[]).await;
    let memory = new_app_config(server(), &[("storage", "memory".into())]);
    let in_memory = call(&memory, "requestPersistentStorage", &[]).await;
    let calls = get(&window(), "__persistCalls");
    restore.call0(&JsValue::NULL).unwrap();

    assert_eq!(local.unwrap(), JsValue::TRUE);
    assert_eq!(in_memory.unwrap(), JsValue::FALSE, "persisting storage cannot keep a user held in memory");
    assert_eq!(calls, JsValue::from(1));
}

#[wasm_bindgen_test]
async fn request_persistent_storage_resolves_a_boolean_in_a_real_browser() {
    fresh_page();
    // Chromium answers by its own rules, with no prompt. Firefox would show a prompt that a
    // headless browser never answers, so this only checks the shape where there is none.
    let navigator = Reflect::get(&window(), &"navigator".into()).unwrap();
    let firefox = get_string(&navigator, "userAgent").contains("Firefox");
    if firefox {
        return;
    }
    let answer = call(&new_app(server()), "requestPersistentStorage", &[]).await.unwrap();
    assert!(answer.as_bool().is_some(), "{answer:?}");
}

#[wasm_bindgen_test]
async fn an_anonymous_user_the_server_will_delete_soon_is_at_risk() {
    fresh_page();
    // The test server deletes anonymous users after 90 days without activity: a warning
    // threshold of 100 days makes that "soon".
    let app = new_app_config(server(), &[("expiryWarningSeconds", JsValue::from(100.0 * 86400.0))]);
    let events = listen(&app);

    let user = log_in(&app, anonymous(None)).await;

    assert_eq!(events.kinds(), ["login", "identity-at-risk:expiring"]);
    let risk = &events.events()[1];
    let expires_at = get(risk, "expiresAt").as_f64().unwrap();
    let now = js_sys::Date::now() / 1000.0;
    let in_days = (expires_at - now) / 86400.0;
    assert!((89.9..90.1).contains(&in_days), "expires in {in_days} days");
    assert!(get(&user, "isAnonymous") == JsValue::TRUE);

    // Once per user: a refresh with the expiry still near says nothing new.
    call(&user, "refreshAccessToken", &[]).await.unwrap();
    assert_eq!(events.kinds(), ["login", "identity-at-risk:expiring", "refresh"]);

    // The default threshold (7 days) is far from 90 days: no warning.
    fresh_page();
    let quiet = new_app(server());
    let quiet_events = listen(&quiet);
    log_in(&quiet, anonymous(None)).await;
    assert_eq!(quiet_events.kinds(), ["login"]);
}
