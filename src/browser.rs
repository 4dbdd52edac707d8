//! Reading Web API objects whose presence varies by browser (`navigator.locks`,
//! `navigator.storage`, `AbortSignal.timeout`), where a typed web-sys binding would assume them.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `target[name]`, when it is there (`undefined` and `null` read as `None`).
pub(crate) fn get(target: &JsValue, name: &str) -> Option<JsValue> {
    if target.is_undefined() || target.is_null() {
        return None;
    }
    Reflect::get(target, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// `target[name]` as a function.
pub(crate) fn method(target: &JsValue, name: &str) -> Option<Function> {
    get(target, name)?.dyn_into().ok()
}

/// Sets `target[name]` on a plain object made by the SDK.
pub(crate) fn set(target: &JsValue, name: &str, value: &JsValue) {
    // Only fails on frozen objects or non-objects; the SDK's are neither.
    let _ = Reflect::set(target, &JsValue::from_str(name), value);
}

/// `window.navigator[name]`.
pub(crate) fn navigator(name: &str) -> Option<JsValue> {
    get(&get(&web_sys::window()?.into(), "navigator")?, name)
}

/// Whether the page runs in WebKit (Safari, every iOS browser, WebKitGTK), told by a feature of
/// its JavaScript engine rather than the user agent: JavaScriptCore gives every `Error` its own
/// `line` property (V8 and SpiderMonkey do not). WebKit deletes a site's script-writable storage
/// after seven days without a visit (docs/webkit.md).
pub(crate) fn webkit() -> bool {
    get(&js_sys::Error::new("").into(), "line").is_some()
}
