//! `navigator.storage`: asking the browser to keep the site's data.
//!
//! `localStorage` is "best effort": the browser may evict it under storage pressure, and Safari
//! deletes a site's script-writable storage after days without a visit. A page can ask for its
//! storage to be persistent; browsers grant it by their own rules (Chromium from engagement,
//! without a prompt; Firefox asks the user; Safari decides). The SDK only asks when the page
//! says so (`app.requestPersistentStorage()`), never by itself, since Firefox shows a prompt.

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::browser;

/// `navigator.storage` and its `persist`, where the browser has them (not WebKitGTK 2.50, not a
/// page that is not a secure context, not old browsers).
fn manager() -> Option<(JsValue, Function)> {
    let manager = browser::navigator("storage")?;
    let persist = browser::method(&manager, "persist")?;
    Some((manager, persist))
}

/// Whether the browser can be asked to keep the site's storage.
pub(crate) fn available() -> bool {
    manager().is_some()
}

/// `navigator.storage.persist()`: whether the site's storage is (now) persistent. `false` where
/// the browser has no `navigator.storage.persist` or refuses.
pub(crate) async fn persist() -> bool {
    let Some((manager, persist)) = manager() else {
        return false;
    };
    let Ok(answer) = persist.call0(&manager) else {
        return false;
    };
    JsFuture::from(Promise::resolve(&answer)).await.ok() == Some(JsValue::TRUE)
}
