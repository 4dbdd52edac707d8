//! JSON and JS values, without serde_json in the wasm (it would cost tens of kilobytes):
//! text ⇄ `JsValue` goes through the browser's own `JSON`, `JsValue` ⇄ Rust through
//! serde-wasm-bindgen and the protocol's types.
//!
//! Everything decoded here comes from a server, from storage or from the page, so nothing is
//! trusted: a value that does not fit its type decodes to `None`, and the caller says what that
//! means (`InvalidServerResponse`, a dropped record, `InvalidArgument`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use wasm_bindgen::JsValue;

/// Free-form JSON (a profile's `data`, an identity's `provider_data`, an event's `user`) kept
/// as the browser's value: serde-wasm-bindgen passes it through untouched either way.
#[derive(Debug, Clone)]
pub(crate) struct JsData(pub JsValue);

impl Default for JsData {
    fn default() -> Self {
        JsData(JsValue::UNDEFINED)
    }
}

impl Serialize for JsData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_wasm_bindgen::preserve::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for JsData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_wasm_bindgen::preserve::deserialize(deserializer).map(JsData)
    }
}

/// A Rust value as a JS value (plain objects for structs; `None` fields left out where the
/// protocol says so, `null` otherwise, as `JSON` writes them).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    // Only the protocol's types come here: strings, numbers within 2^53, booleans, JS values.
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true))
        .unwrap_or(JsValue::UNDEFINED)
}

/// A JS value as a Rust value, when it has the type's shape.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

/// JSON text as a Rust value, when it parses and has the type's shape.
pub(crate) fn from_text<T: DeserializeOwned>(text: &str) -> Option<T> {
    from_js(parse(text)?)
}

/// A Rust value as JSON text.
pub(crate) fn to_text<T: Serialize + ?Sized>(value: &T) -> String {
    stringify(&to_js(value))
}

/// Parses JSON text; `None` when it is not JSON.
pub(crate) fn parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

/// JSON text of a JS value made by [`to_js`] (always serialisable: no cycles, no BigInts).
pub(crate) fn stringify(value: &JsValue) -> String {
    js_sys::JSON::stringify(value).map(String::from).unwrap_or_default()
}
