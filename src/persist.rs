//! `navigator.storage`: asking the browser to keep the site's data.
//!
//! `localStorage` is "best effort": the browser may evict it under storage pressure, and Safari
//! deletes a site's script-writable storage after days without a visit. A page can ask for its
//! storage to be persistent; browsers grant it by their own rules (Chromium from engagement,
//! without a prompt; Firefox asks the user; Safari decides). The SDK only asks when the page
//! says so (`app.requestPersistentStorage()`), never by itself, since Firefox shows a prompt.

use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::json;

/// `navigator.storage.persist()`: whether the site's storage is (now) persistent. `false` where
/// the browser has no `navigator.storage` (not a secure context, old browsers) or refuses.
pub(crate) async fn persist() -> bool {
    let navigator = web_sys::window().and_then(|window| json::get(&window, "navigator"));
    let Some(manager) = navigator.and_then(|navigator| json::get(&navigator, "storage")) else {
        return false;
    };
    let Some(persist) = json::get(&manager, "persist").and_then(|f| f.dyn_into::<Function>().ok()) else {
        return false;
    };
    let Ok(answer) = persist.call0(&manager) else {
        return false;
    };
    JsFuture::from(Promise::resolve(&answer)).await.ok() == Some(JsValue::TRUE)
}
