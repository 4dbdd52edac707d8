//! What a login proves: which provider, and what it needs in the request body.
//!
//! Each variant of [`Provider`] says its route name and fills the login body; a link sends the
//! same body to the same route (PROTOCOL.md §5.1). Secrets (passwords, tokens) live only here and
//! in the body built from them: nothing prints or returns them.

use core::fmt;

use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::json;

/// The provider type of anonymous users (`anon-user`), as the server and realm-web name it.
pub(crate) const ANONYMOUS: &str = "anon-user";

/// The credentials of one login. Not `Debug`-derived: it holds secrets.
#[derive(Clone)]
pub(crate) enum Provider {
    /// A new anonymous user, or the stored one when `reuse` is set (realm-core's rule).
    Anonymous { reuse: bool },
    /// `local-userpass`: an account registered with `emailPasswordAuth.registerUser`. The page's
    /// strings are kept as JS values: they only ever go into a request body.
    EmailPassword { email: JsValue, password: JsValue },
    /// `custom-token`: a JWT issued by the app's own backend.
    Jwt { token: JsValue },
}

impl Provider {
    /// The provider type, also the route segment: `A/auth/providers/<type>/login`.
    pub(crate) fn provider_type(&self) -> &'static str {
        match self {
            Provider::Anonymous { .. } => ANONYMOUS,
            Provider::EmailPassword { .. } => "local-userpass",
            Provider::Jwt { .. } => "custom-token",
        }
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        matches!(self, Provider::Anonymous { .. })
    }

    /// Whether a stored active anonymous user may answer this login without a request.
    pub(crate) fn reuses_anonymous(&self) -> bool {
        matches!(self, Provider::Anonymous { reuse: true })
    }

    /// The login (or link) body: the provider's fields plus `options.device` (PROTOCOL.md §4.2).
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
        match self {
            Provider::Anonymous { .. } => {}
            Provider::EmailPassword { email, password } => {
                json::set(&body, "username", email);
                json::set(&body, "password", password);
            }
            Provider::Jwt { token } => json::set(&body, "token", token),
        }
        json::set(&body, "options", &options);
        body
    }
}

impl fmt::Debug for Provider {
    // By hand: the password and the token must never be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider").field("type", &self.provider_type()).finish_non_exhaustive()
    }
}
