//! What differs in WebKit, handled by the SDK and reported (`app.fallbacks`, `identity-at-risk` /
//! `storage-capped`); how tabs follow each other there is e2e/webkit-tabs.test.mjs's. These run in every browser: where a feature is only missing in some, the
//! test removes it from the page (an own property of `navigator` shadows the prototype's), so
//! the fallback is exercised everywhere, and in WebKit for real (docs/webkit.md).

mod common;

use common::*;
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Hides `navigator[name]` until the returned guard is dropped.
struct Hidden(&'static str);

fn hide(name: &'static str) -> Hidden {
    let hide = Function::new_with_args(
        "name",
        "Object.defineProperty(navigator, name, { value: undefined, configurable: true });",
    );
    hide.call1(&JsValue::NULL, &name.into()).unwrap();
    Hidden(name)
}

impl Drop for Hidden {
    fn drop(&mut self) {
        let show = Function::new_with_args("name", "delete navigator[name];");
        show.call1(&JsValue::NULL, &self.0.into()).unwrap();
    }
}

fn fallbacks(app: &JsValue) -> Vec<String> {
    let list: Array = get(app, "fallbacks").dyn_into().unwrap();
    list.iter().map(|name| name.as_string().unwrap()).collect()
}

/// Whether this page runs in WebKit, told the way the test's reader would check it: the
/// engine's name in `navigator.vendor` (the SDK itself tells by a feature, src/browser.rs).
fn in_webkit() -> bool {
    let navigator = Reflect::get(&window(), &"navigator".into()).unwrap();
    get_string(&navigator, "vendor").starts_with("Apple")
}

#[wasm_bindgen_test]
async fn without_web_locks_the_app_says_so_and_still_logs_in_once() {
    fresh_page();
    let hidden = hide("locks");
    let app = new_app(server());

    let user = log_in(&app, anonymous(None)).await;
    let again = log_in(&app, anonymous(None)).await;

    assert!(fallbacks(&app).contains(&"web-locks".to_owned()), "{:?}", fallbacks(&app));
    assert_eq!(get_string(&user, "id"), get_string(&again, "id"));
    assert_eq!(requests().len(), 1, "{:?}", requests());
    drop(hidden);
    assert!(!fallbacks(&app).contains(&"web-locks".to_owned()), "every browser here has Web Locks");
}

#[wasm_bindgen_test]
async fn without_storage_persist_the_app_says_so_and_resolves_false() {
    fresh_page();
    let hidden = hide("storage");
    let app = new_app(server());

    let answer = call(&app, "requestPersistentStorage", &[]).await.unwrap();

    assert_eq!(answer, JsValue::FALSE);
    assert!(fallbacks(&app).contains(&"storage-persist".to_owned()), "{:?}", fallbacks(&app));
    drop(hidden);
    // WebKitGTK has no `navigator.storage` at all (docs/webkit.md); Chromium and Firefox do.
    assert_eq!(fallbacks(&app).contains(&"storage-persist".to_owned()), in_webkit(), "{:?}", fallbacks(&app));
}

#[wasm_bindgen_test]
async fn in_webkit_an_anonymous_user_in_local_storage_is_at_risk_of_the_storage_cap() {
    fresh_page();
    let app = new_app(server());
    let events = listen(&app);

    log_in(&app, anonymous(None)).await;
    call(&get(&app, "currentUser"), "refreshAccessToken", &[]).await.unwrap();

    let capped = if in_webkit() { vec!["identity-at-risk:storage-capped"] } else { vec![] };
    assert_eq!(events.all_kinds(), [vec!["login"], capped.clone(), vec!["refresh"]].concat(), "once per user");

    // Not for a user kept in sessionStorage (it is lost with the tab anyway), nor for one that
    // can log in again.
    fresh_page();
    let session = new_app_config(server(), &[("storage", "session".into())]);
    let session_events = listen(&session);
    log_in(&session, anonymous(None)).await;
    assert_eq!(session_events.all_kinds(), ["login"]);

    fresh_page();
    let email = unique_email();
    let local = new_app(server());
    register(&local, &email, "password1").await;
    let local_events = listen(&local);
    log_in(&local, email_password(&email, "password1")).await;
    assert_eq!(local_events.all_kinds(), ["login"]);
}
