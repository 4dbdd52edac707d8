//! The passkey provider's bodies and answers (docs/wire.md, "Passkeys").
//!
//! A ceremony is two requests: a start (`P/registration` to link a passkey, `P/authentication`
//! to log in with one, both with the body `{}`) answered by a [`PasskeyChallenge`], then
//! `P/login` (`?link=true` to link) with a [`PasskeyLoginBody`]. The WebAuthn options and the
//! credential travel in WebAuthn Level 3's JSON forms, which the browser makes and reads itself
//! (`PublicKeyCredential.parseCreationOptionsFromJSON`, `credential.toJSON()`), so they are a
//! type parameter here: the server fills it with its WebAuthn library's types or a JSON value,
//! the SDK with the browser's value, and neither models WebAuthn for the other.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::bodies::LoginOptions;

/// The provider type (and name) of passkeys; `P` is `A/auth/providers/passkey`.
pub const PASSKEY: &str = "passkey";

/// The route that starts linking a passkey to the signed-in user: `POST P/registration`.
pub const REGISTRATION_ROUTE: &str = "registration";
/// The route that starts a login with a discoverable passkey: `POST P/authentication`.
pub const AUTHENTICATION_ROUTE: &str = "authentication";

/// A client code: the reader dismissed the browser's prompt, or the authenticator refused
/// (the browser's `NotAllowedError`). No request is involved.
pub const PASSKEY_CANCELLED: &str = "PasskeyCancelled";
/// A client code: this browser has no WebAuthn (or lacks its JSON helpers), or the page is not
/// a secure context. No request is made.
pub const PASSKEY_UNSUPPORTED: &str = "PasskeyUnsupported";
/// The server's code for a credential id it already stores (409), also what a client says when
/// the authenticator already holds one of the user's passkeys (the browser's
/// `InvalidStateError` for an `excludeCredentials` match).
pub const PASSKEY_ALREADY_REGISTERED: &str = "PasskeyAlreadyRegistered";

/// The answer to a ceremony's start: which challenge to finish, and the options to hand the
/// browser (`PublicKeyCredentialCreationOptionsJSON` for a registration,
/// `PublicKeyCredentialRequestOptionsJSON` for a login).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyChallenge<Options> {
    /// Opaque, single use, bound to its ceremony (and, for a registration, its user).
    pub challenge_id: String,
    /// The WebAuthn options, in their JSON form.
    pub public_key: Options,
}

/// The body of `P/login` (a login, or a link with `?link=true`): the challenge it answers and
/// the browser's credential in its JSON form (`RegistrationResponseJSON` after
/// `navigator.credentials.create`, `AuthenticationResponseJSON` after `get`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyLoginBody<Credential> {
    /// The `challenge_id` of the start's answer.
    pub challenge_id: String,
    /// `credential.toJSON()`.
    pub credential: Credential,
    /// What the client says about itself, as in every login body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<LoginOptions>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bodies::{Device, DeviceId};
    use serde_json::{json, Value};

    #[test]
    fn a_registration_challenge_keeps_its_options_as_they_came() {
        let text = r#"{"challenge_id":"c1","public_key":{"challenge":"q83v","rp":{"id":"localhost","name":"guestpass"},"user":{"id":"AAE","name":"n","displayName":"d"},"pubKeyCredParams":[{"type":"public-key","alg":-7}],"authenticatorSelection":{"residentKey":"required","userVerification":"preferred"},"excludeCredentials":[{"type":"public-key","id":"AQI"}]}}"#;
        let challenge: PasskeyChallenge<Value> = serde_json::from_str(text).unwrap();
        assert_eq!(challenge.challenge_id, "c1");
        assert_eq!(challenge.public_key["excludeCredentials"][0]["id"], "AQI");
        let back: Value = serde_json::from_str(&serde_json::to_string(&challenge).unwrap()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap(), "encodes back to the same JSON");
    }

    #[test]
    fn a_challenge_without_its_id_or_options_is_refused() {
        assert!(serde_json::from_str::<PasskeyChallenge<Value>>(r#"{"public_key":{}}"#).is_err());
        assert!(serde_json::from_str::<PasskeyChallenge<Value>>(r#"{"challenge_id":"c1"}"#).is_err());
        assert!(serde_json::from_str::<PasskeyChallenge<Value>>(r#"{"challenge_id":7,"public_key":{}}"#).is_err());
    }

    #[test]
    fn a_finish_body_is_the_challenge_the_credential_and_the_device() {
        let body = PasskeyLoginBody {
            challenge_id: "c1".into(),
            credential: json!({"id": "AQI", "rawId": "AQI", "type": "public-key",
                "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "MEU", "userHandle": "AAE"},
                "clientExtensionResults": {}}),
            options: Some(LoginOptions {
                device: Some(Device {
                    sdk_version: Some("0.1.0".into()),
                    platform: Some("web".into()),
                    device_id: Some(DeviceId::Plain("650000000000000000000002".into())),
                }),
            }),
        };
        let text = serde_json::to_string(&body).unwrap();
        assert!(text.starts_with(r#"{"challenge_id":"c1","credential":{"#), "{text}");
        assert!(
            text.ends_with(
                r#""options":{"device":{"sdkVersion":"0.1.0","platform":"web","deviceId":"650000000000000000000002"}}}"#
            ),
            "{text}"
        );
        let back: PasskeyLoginBody<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn a_finish_body_without_options_reads_and_one_without_a_credential_does_not() {
        let bare: PasskeyLoginBody<Value> = serde_json::from_str(r#"{"challenge_id":"c1","credential":{}}"#).unwrap();
        assert_eq!(bare.options, None);
        assert_eq!(serde_json::to_string(&bare).unwrap(), r#"{"challenge_id":"c1","credential":{}}"#);
        assert!(serde_json::from_str::<PasskeyLoginBody<Value>>(r#"{"challenge_id":"c1"}"#).is_err());
        assert!(serde_json::from_str::<PasskeyLoginBody<Value>>(r#"{"credential":{}}"#).is_err());
    }
}
