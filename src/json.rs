//! Reading and building JSON through the JS engine (`JSON.parse`, `Reflect`), so no serde is
//! linked: serde_json and serde-wasm-bindgen cost tens of kilobytes (docs/PERFORMANCE.md).
//!
//! Everything read here comes from a server or from storage, so nothing is trusted: a missing
//! field or a field of the wrong type reads as `None`.

use alloc::string::String;
use js_sys::{Array, Function, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

/// Parses JSON text; `None` when it is not JSON.
pub(crate) fn parse(text: &str) -> Option<JsValue> {
    JSON::parse(text).ok()
}

/// Serialises a value built with [`object`] and [`set`].
pub(crate) fn stringify(value: &JsValue) -> String {
    // Only called on plain objects of strings, nulls and parsed JSON, which always serialise.
    JSON::stringify(value).map(String::from).unwrap_or_default()
}

/// A new empty plain object.
pub(crate) fn object() -> Object {
    Object::new()
}

/// Sets `key` on a plain object.
pub(crate) fn set(target: &Object, key: &str, value: &JsValue) {
    // Reflect.set only fails on frozen objects or non-objects; ours are neither.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `value[key]`, when `value` is an object that has it (`undefined` and `null` read as `None`).
pub(crate) fn get(value: &JsValue, key: &str) -> Option<JsValue> {
    if !value.is_object() {
        return None;
    }
    Reflect::get(value, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// `value[key]` when it is a string.
pub(crate) fn get_string(value: &JsValue, key: &str) -> Option<String> {
    get(value, key)?.as_string()
}

/// `target[method](arg)`, when `target` has that method and it returns without throwing.
///
/// For browser methods that return a string (`getItem`, `atob`): typed web-sys bindings would
/// each add their own string-copying glue, where this one import path and `as_string` serve all.
pub(crate) fn call(target: &JsValue, method: &str, arg: &JsValue) -> Option<JsValue> {
    get(target, method)?.dyn_into::<Function>().ok()?.call1(target, arg).ok()
}

/// `value` as an array, when it is one.
pub(crate) fn as_array(value: &JsValue) -> Option<Array> {
    value.dyn_ref::<Array>().cloned()
}

/// `Some(string)` as a JS string, `None` as `null`.
pub(crate) fn string_or_null(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}
