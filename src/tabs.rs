//! Keeping tabs in sync: the page's apps, and the `storage` event.
//!
//! A write to `localStorage` fires a `storage` event in every *other* document of the origin
//! (never in the one that wrote). Each tab then re-reads the concerned app's users
//! ([`AppState::sync`]) and updates its `User` objects in place, firing listeners: a login,
//! link, refresh or logout in one tab shows in the others without a request. The event is only
//! a hint: what changed is read back from storage, so a missed, repeated or coalesced event does
//! no harm, and `localStorage.clear()` (an event with a `null` key) needs no special case.
//!
//! No `BroadcastChannel`: the `storage` event already reaches every tab that shares the storage,
//! and also reports what no SDK call did (another script, devtools, a clear).
//!
//! Several `App`s of one page with the same id and storage do not get `storage` events from
//! each other, so an app that wrote tells its siblings directly ([`wrote`]). Only
//! `localStorage` is shared between tabs: `sessionStorage` belongs to one tab, memory to one
//! page; apps on those sync with their siblings only.

use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::app::AppState;
use crate::json;

crate::page_local! {
    /// Every app made in this page (dropped ones are pruned as apps are added).
    static APPS: RefCell<Vec<Weak<AppState>>> = const { RefCell::new(Vec::new()) };
    static LISTENING: Cell<bool> = const { Cell::new(false) };
    /// What [`storage_event`] callers resolve with: called at the next `storage` event.
    static WAITING: RefCell<Vec<Function>> = const { RefCell::new(Vec::new()) };
}

/// Registers a new app; the first one installs the page's `storage` listener (one for the page,
/// kept for its lifetime).
pub(crate) fn join(app: &Rc<AppState>) {
    APPS.with_borrow_mut(|apps| {
        apps.retain(|known| known.strong_count() > 0);
        apps.push(Rc::downgrade(app));
    });
    if LISTENING.replace(true) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    // `-> JsValue` like the Web Locks callback (locks.rs): one closure signature, one shim.
    let listener = Closure::<dyn FnMut(JsValue) -> JsValue>::new(|event: JsValue| {
        let key = json::get_string(&event, "key");
        for app in apps() {
            if app.storage.watches(key.as_deref()) {
                app.sync();
            }
        }
        for waiting in WAITING.take() {
            let _ = waiting.call0(&JsValue::UNDEFINED);
        }
        JsValue::UNDEFINED
    });
    let _ = window.add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
    listener.forget();
}

/// `app` changed its storage: the page's other apps on the same storage catch up.
pub(crate) fn wrote(app: &AppState) {
    for other in apps() {
        if !core::ptr::eq(&*other, app) && other.storage.shares(&app.storage) {
            other.sync();
        }
    }
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

/// The live apps, copied out so that syncing one (which calls listeners, which may make apps)
/// does not hold the registry.
fn apps() -> Vec<Rc<AppState>> {
    APPS.with_borrow(|apps| apps.iter().filter_map(Weak::upgrade).collect())
}
