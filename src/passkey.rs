//! The browser's half of a passkey ceremony: WebAuthn's `navigator.credentials.create` (to link
//! a passkey) and `get` (to log in with one), with the options and the credential in WebAuthn
//! Level 3's JSON forms, which the browser itself turns into and out of its binary ones
//! (`PublicKeyCredential.parseCreationOptionsFromJSON`, `parseRequestOptionsFromJSON`,
//! `credential.toJSON()`): the SDK holds no base64 or CBOR code, and never looks inside them.
//!
//! The calls are made through `Reflect` on the objects the browser has, as `browser.rs` does:
//! web-sys's bindings of the JSON helpers are behind its crate-wide `web_sys_unstable_apis`
//! flag, and a browser without them must read as [`supported`] `false` rather than throw.
//!
//! The requests around a ceremony (its start and finish) are made by `app.rs` (login) and
//! `session.rs` (link), through the transport.

use std::borrow::Cow;

use guestpass_protocol::passkey::{PASSKEY_ALREADY_REGISTERED, PASSKEY_CANCELLED, PASSKEY_UNSUPPORTED};
use js_sys::{Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::browser;
use crate::error::{Error, Result, INVALID_SERVER_RESPONSE, PASSKEY_FAILED};

/// What a ceremony needs from the browser: `PublicKeyCredential` (the class, holding the JSON
/// helpers) and `navigator.credentials`.
struct WebAuthn {
    class: JsValue,
    container: JsValue,
}

impl WebAuthn {
    /// The browser's WebAuthn, when the page may use it: a secure context (https, or http on
    /// localhost) with `PublicKeyCredential`, its JSON helpers and `navigator.credentials`.
    fn find() -> Option<WebAuthn> {
        let window = web_sys::window()?;
        if !window.is_secure_context() {
            return None;
        }
        let class = browser::get(&window, "PublicKeyCredential")?;
        browser::method(&class, "parseCreationOptionsFromJSON")?;
        browser::method(&class, "parseRequestOptionsFromJSON")?;
        browser::method(&browser::get(&class, "prototype")?, "toJSON")?;
        let container = browser::navigator("credentials")?;
        browser::method(&container, "create")?;
        browser::method(&container, "get")?;
        Some(WebAuthn { class, container })
    }
}

/// Whether passkeys can be used here (`app.passkeysSupported`).
pub(crate) fn supported() -> bool {
    WebAuthn::find().is_some()
}

/// `PasskeyUnsupported` unless passkeys can be used here: checked before a ceremony's first
/// request, so an unsupported browser costs no round trip.
pub(crate) fn require() -> Result<()> {
    if supported() {
        Ok(())
    } else {
        Err(unsupported())
    }
}

/// Creates a passkey with the server's `PublicKeyCredentialCreationOptionsJSON`; the new
/// credential's `toJSON()` (a `RegistrationResponseJSON`).
pub(crate) async fn create(options: &JsValue) -> Result<JsValue> {
    ceremony("parseCreationOptionsFromJSON", "create", options).await
}

/// Asks for one of the site's passkeys with the server's
/// `PublicKeyCredentialRequestOptionsJSON` (the browser's account picker); the assertion's
/// `toJSON()` (an `AuthenticationResponseJSON`).
pub(crate) async fn get(options: &JsValue) -> Result<JsValue> {
    ceremony("parseRequestOptionsFromJSON", "get", options).await
}

/// `navigator.credentials[call]({ publicKey: PublicKeyCredential[parse](options) })`, then the
/// credential's JSON form.
async fn ceremony(parse: &str, call: &str, options: &JsValue) -> Result<JsValue> {
    let webauthn = WebAuthn::find().ok_or_else(unsupported)?;
    let parse = browser::method(&webauthn.class, parse).ok_or_else(unsupported)?;
    // The options come from the server: ones the browser cannot read are the server's fault.
    let public_key = parse.call1(&webauthn.class, options).map_err(|_| {
        Error::client(INVALID_SERVER_RESPONSE, "the server's passkey options are not WebAuthn's JSON form")
    })?;
    let request = Object::new();
    browser::set(&request, "publicKey", &public_key);
    let call = browser::method(&webauthn.container, call).ok_or_else(unsupported)?;
    let pending: Promise = call.call1(&webauthn.container, &request).map_err(refused)?.unchecked_into();
    let credential = JsFuture::from(pending).await.map_err(refused)?;
    // `null` only comes with a mediation the SDK does not ask for; read it as a dismissal.
    let to_json: Function = browser::method(&credential, "toJSON").ok_or_else(cancelled)?;
    to_json.call0(&credential).map_err(refused)
}

fn unsupported() -> Error {
    Error::client(PASSKEY_UNSUPPORTED, "passkeys are not available in this browser (or not in a secure context)")
}

fn cancelled() -> Error {
    Error::client(PASSKEY_CANCELLED, "the passkey prompt was dismissed or the authenticator refused")
}

/// The browser's refusal of a ceremony, by the `DOMException`'s name. WebAuthn gives a
/// dismissed prompt, a timeout and a failed user verification the one name `NotAllowedError`
/// on purpose (a page must not tell them apart); `AbortError` is an aborted ceremony.
fn refused(error: JsValue) -> Error {
    let name = browser::get(&error, "name").and_then(|name| name.as_string()).unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "AbortError" => cancelled(),
        // `excludeCredentials` matched: this authenticator already holds one of the user's passkeys.
        "InvalidStateError" => {
            Error::client(PASSKEY_ALREADY_REGISTERED, "this authenticator already holds a passkey of this user")
        }
        _ => Error {
            message: Cow::Owned(["the browser refused the passkey ceremony: ", &name].concat()),
            ..Error::client(PASSKEY_FAILED, "")
        },
    }
}
