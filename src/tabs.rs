//! Keeping tabs in sync: the page's `storage` event.
//!
//! A write to `localStorage` fires a `storage` event in every *other* document of the origin
//! (never in the one that wrote). Each tab then re-reads the concerned app's users
//! (`AppState::sync` in src/app.rs) and updates its `User` objects in place: a login, link,
//! refresh or logout in one tab shows in the others without a request. The event is only a
//! hint: what changed is read back from storage, so a missed, repeated or coalesced event does
//! no harm, and `localStorage.clear()` (an event with a `null` key) needs no special case.
//!
//! Elsewhere no `BroadcastChannel`: the `storage` event already reaches every tab that shares the
//! storage, and also reports what no SDK call did (another script, devtools, a clear).
//!
//! WebKit (WebKitGTK 2.50, measured: docs/webkit.md) fires `storage` events only in documents of
//! the writer's own web process, never in other tabs. There the SDK also announces each of its
//! `localStorage` writes on a `BroadcastChannel` (the [`RELAY`]), and `app.fallbacks` lists
//! `"storage-events"`. A message can arrive before the write it announces shows in the
//! receiver's `localStorage` (measured: up to a few milliseconds later), so the receiver waits
//! for the announced value (or the message's retries to run out) before it syncs.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_storage::{LocalStorage, Storage as _};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::browser;

/// How often a relayed message is looked at again, 5 ms apart, before the receiver syncs anyway.
const RELAY_TRIES: f64 = 200.0;

thread_local! {
    /// What [`storage_event`] callers resolve with: called at the next `storage` event.
    static WAITING: RefCell<Vec<Function>> = const { RefCell::new(Vec::new()) };
    /// In WebKit: the page's channel to the other tabs (see the top of this file).
    static RELAY: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Calls `changed` with the key of every `storage` event of the page (`None`: the storage was
/// cleared), for the page's lifetime; then wakes the [`storage_event`] waiters. In WebKit, also
/// for every write another tab's SDK announced.
pub(crate) fn listen(changed: impl Fn(Option<&str>) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let changed = Rc::new(move |key: Option<&str>| {
        changed(key);
        for waiting in WAITING.take() {
            let _ = waiting.call0(&JsValue::UNDEFINED);
        }
    });
    let on_storage = changed.clone();
    let listener = Closure::<dyn Fn(web_sys::StorageEvent)>::new(move |event: web_sys::StorageEvent| {
        on_storage(event.key().as_deref());
    });
    let _ = window.add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
    listener.forget();
    if browser::webkit() {
        relay(&window, changed);
    }
}

/// Opens the [`RELAY`]; its messages are `[key, value or null, tries]`.
fn relay(window: &web_sys::Window, changed: Rc<impl Fn(Option<&str>) + 'static>) {
    let Some(class) = browser::get(window, "BroadcastChannel") else {
        return;
    };
    let Ok(channel) =
        Reflect::construct(class.unchecked_ref::<Function>(), &Array::of1(&JsValue::from_str("guestpass")))
    else {
        return;
    };
    let again = window.clone();
    let handler = Rc::new(RefCell::new(None::<Function>));
    let me = handler.clone();
    let on_message = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
        let data = browser::get(&event, "data").unwrap_or_default();
        let key = Reflect::get_u32(&data, 0).ok().and_then(|k| k.as_string());
        let value = Reflect::get_u32(&data, 1).ok().and_then(|v| v.as_string());
        let tries = Reflect::get_u32(&data, 2).ok().and_then(|t| t.as_f64()).unwrap_or(0.0);
        let here = key.as_deref().and_then(|key| LocalStorage::raw().get_item(key).ok().flatten());
        if here != value && tries < RELAY_TRIES {
            let _ = Reflect::set_u32(&data, 2, &(tries + 1.0).into());
            if let Some(me) = &*me.borrow() {
                let _ = again.set_timeout_with_callback_and_timeout_and_arguments_1(me, 5, &event);
            }
            return;
        }
        changed(key.as_deref());
    });
    browser::set(&channel, "onmessage", on_message.as_ref());
    *handler.borrow_mut() = Some(on_message.as_ref().clone().unchecked_into());
    on_message.forget();
    RELAY.set(Some(channel));
}

/// After the SDK wrote `value` under `key` in `localStorage` (`None`: removed it): tells the
/// other tabs, where their `storage` events would not (WebKit).
pub(crate) fn wrote(key: &str, value: Option<&str>) {
    RELAY.with_borrow(|relay| {
        let Some(channel) = relay else {
            return;
        };
        if let Some(post) = browser::method(channel, "postMessage") {
            let message = Array::of2(&key.into(), &value.map(JsValue::from).unwrap_or(JsValue::NULL));
            let _ = post.call1(channel, &message);
        }
    });
}

/// Whether this page relays its writes (WebKit: see the top of this file).
pub(crate) fn relayed() -> bool {
    RELAY.with_borrow(Option::is_some)
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
