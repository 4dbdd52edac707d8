//! What a login proves: which provider, and what it needs in the request body.
//!
//! Only the anonymous provider exists today; email/password and custom tokens become more
//! variants of [`Provider`], each saying its route name and filling the login body.

use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::json;

/// The provider type of anonymous users (`anon-user`), as the server and realm-web name it.
pub(crate) const ANONYMOUS: &str = "anon-user";

/// The credentials of one login.
#[derive(Clone, Debug)]
pub(crate) enum Provider {
    /// A new anonymous user, or the stored one when `reuse` is set (realm-core's rule).
    Anonymous { reuse: bool },
}

impl Provider {
    /// The provider type, also the route segment: `A/auth/providers/<type>/login`.
    pub(crate) fn provider_type(&self) -> &'static str {
        match self {
            Provider::Anonymous { .. } => ANONYMOUS,
        }
    }

    /// Whether a stored active anonymous user may answer this login without a request.
    pub(crate) fn reuses_anonymous(&self) -> bool {
        matches!(self, Provider::Anonymous { reuse: true })
    }

    /// The login body: the provider's fields plus `options.device` (PROTOCOL.md §4.2).
    pub(crate) fn login_body(&self, device_id: Option<&str>) -> Object {
        let device = json::object();
        json::set(&device, "sdkVersion", &JsValue::from_str(env!("CARGO_PKG_VERSION")));
        json::set(&device, "platform", &JsValue::from_str("web"));
        if let Some(id) = device_id {
            json::set(&device, "deviceId", &JsValue::from_str(id));
        }
        let options = json::object();
        json::set(&options, "device", &device);
        let body = json::object();
        json::set(&body, "options", &options);
        body
    }
}
