//! What a login proves: which provider, and what it puts in the request body.
//!
//! Each variant of [`Provider`] says its route name and fills the protocol's login body; a link
//! sends the same body to the same route (docs/wire.md). A passkey's body is the outcome of a
//! browser ceremony instead (src/passkey.rs); it shares only [`Provider::login_options`]. Secrets (passwords, tokens) are the
//! protocol's `Secret`s: nothing prints or returns them.

use guestpass_protocol::bodies::{Device, DeviceId, LoginBody, LoginOptions};
use guestpass_protocol::passkey::{PasskeyLoginBody, PASSKEY};
use guestpass_protocol::{Secret, ANON_USER, CUSTOM_TOKEN, LOCAL_USERPASS};

use crate::codec::{self, JsData};

/// The credentials of one login.
#[derive(Clone, Debug)]
pub(crate) enum Provider {
    /// A new anonymous user, or the stored one when `reuse` is set (realm-core's rule).
    Anonymous { reuse: bool },
    /// `local-userpass`: an account registered with `emailPasswordAuth.registerUser`.
    EmailPassword { email: String, password: Secret },
    /// `custom-token`: a JWT issued by the app's own backend.
    Jwt { token: Secret },
    /// `passkey`: a WebAuthn ceremony in the browser, started and finished on the server.
    Passkey,
}

impl Provider {
    /// The provider type, also the route segment: `A/auth/providers/<type>/login`.
    pub(crate) fn provider_type(&self) -> &'static str {
        match self {
            Provider::Anonymous { .. } => ANON_USER,
            Provider::EmailPassword { .. } => LOCAL_USERPASS,
            Provider::Jwt { .. } => CUSTOM_TOKEN,
            Provider::Passkey => PASSKEY,
        }
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        matches!(self, Provider::Anonymous { .. })
    }

    /// Whether a stored active anonymous user may answer this login without a request.
    pub(crate) fn reuses_anonymous(&self) -> bool {
        matches!(self, Provider::Anonymous { reuse: true })
    }

    /// The login (or link) body: the provider's fields plus `options.device`.
    pub(crate) fn login_body(&self, device_id: Option<String>) -> LoginBody {
        let mut body = LoginBody { options: Some(Provider::login_options(device_id)), ..LoginBody::default() };
        match self {
            Provider::Anonymous { .. } | Provider::Passkey => {}
            Provider::EmailPassword { email, password } => {
                body.username = Some(email.clone());
                body.password = Some(password.clone());
            }
            Provider::Jwt { token } => body.token = Some(token.clone()),
        }
        body
    }

    /// `options` of every login (and link) body: the SDK, the platform and the device id.
    pub(crate) fn login_options(device_id: Option<String>) -> LoginOptions {
        let device = Device {
            sdk_version: Some(env!("CARGO_PKG_VERSION").into()),
            platform: Some("web".into()),
            device_id: device_id.map(DeviceId::Plain),
        };
        LoginOptions { device: Some(device) }
    }

    /// The body that finishes a passkey ceremony (`P/login`, `?link=true` to link): the
    /// challenge it answers and the browser's `credential.toJSON()`, as JSON text.
    pub(crate) fn passkey_body(challenge_id: String, credential: JsData, device_id: Option<String>) -> String {
        codec::to_text(&PasskeyLoginBody {
            challenge_id,
            credential,
            options: Some(Provider::login_options(device_id)),
        })
    }
}
