//! Keeping tabs in sync: the page's `storage` event.
//!
//! A write to `localStorage` fires a `storage` event in every *other* document of the origin
//! (never in the one that wrote). Each tab then re-reads the concerned app's users
//! (`AppState::sync` in src/app.rs) and updates its `User` objects in place: a login, link,
//! refresh or logout in one tab shows in the others without a request. The event is only a
//! hint: what changed is read back from storage, so a missed, repeated or coalesced event does
//! no harm, and `localStorage.clear()` (an event with a `null` key) needs no special case.
//!
//! No `BroadcastChannel`: the `storage` event already reaches every tab that shares the storage,
//! and also reports what no SDK call did (another script, devtools, a clear).

use std::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

thread_local! {
    /// What [`storage_event`] callers resolve with: called at the next `storage` event.
    static WAITING: RefCell<Vec<Function>> = const { RefCell::new(Vec::new()) };
}

/// Calls `changed` with the key of every `storage` event of the page (`None`: the storage was
/// cleared), for the page's lifetime; then wakes the [`storage_event`] waiters.
pub(crate) fn listen(changed: impl Fn(Option<&str>) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let listener = Closure::<dyn Fn(web_sys::StorageEvent)>::new(move |event: web_sys::StorageEvent| {
        changed(event.key().as_deref());
        for waiting in WAITING.take() {
            let _ = waiting.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = window.add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
    listener.forget();
}

/// Resolves after the next `storage` event (the apps have synced by then), or after `ms`.
pub(crate) async fn storage_event(ms: f64) {
    let mut resolve = None;
    let event = Promise::new(&mut |res, _| resolve = Some(res));
    let (Some(resolve), Some(window)) = (resolve, web_sys::window()) else {
        return;
    };
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    WAITING.with_borrow_mut(|waiting| waiting.push(resolve));
    let _ = JsFuture::from(event).await;
}
