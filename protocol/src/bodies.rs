//! What a client sends (docs/wire.md, "Routes").

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// The body of a login or a link: the provider's fields at the top level, plus `options`.
///
/// `anon-user` sends only `options`; `local-userpass` `username` and `password`;
/// `custom-token` `token`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginBody {
    /// `local-userpass`: the email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `local-userpass`: the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// `custom-token`: the JWT from the app's backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// What the client says about itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<LoginOptions>,
}

/// `options` of a login body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginOptions {
    /// The device the login comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
}

/// `options.device` of a login body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// The client's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk_version: Option<String>,
    /// `"web"` for a browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The device id an earlier login answered with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<DeviceId>,
}

/// A device id as clients send it: a plain string (guestpass, stitch) or EJSON
/// `{"$oid": "..."}` (realm-web).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DeviceId {
    /// `"650000000000000000000002"`
    Plain(String),
    /// `{"$oid": "650000000000000000000002"}`
    ObjectId {
        /// The 24 hex digits.
        #[serde(rename = "$oid")]
        oid: String,
    },
}

impl DeviceId {
    /// The id, whichever way it was sent.
    pub fn as_str(&self) -> &str {
        match self {
            DeviceId::Plain(id) | DeviceId::ObjectId { oid: id } => id,
        }
    }
}

/// `local-userpass/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// The account's email.
    pub email: String,
    /// Its password.
    pub password: Secret,
}

/// `local-userpass/confirm/send` and `reset/send`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailOnly {
    /// The account's email.
    pub email: String,
}

/// `local-userpass/confirm`: the confirmation link's token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// The link's secret.
    pub token: Secret,
    /// The link's token id.
    pub token_id: String,
}

/// `local-userpass/reset`: the reset link's token and the new password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordReset {
    /// The link's secret.
    pub token: Secret,
    /// The link's token id.
    pub token_id: String,
    /// The new password.
    pub password: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn an_anonymous_login_body_is_only_the_device() {
        let body = LoginBody {
            options: Some(LoginOptions {
                device: Some(Device {
                    sdk_version: Some("0.1.0".into()),
                    platform: Some("web".into()),
                    device_id: Some(DeviceId::Plain("650000000000000000000002".into())),
                }),
            }),
            ..LoginBody::default()
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"options":{"device":{"sdkVersion":"0.1.0","platform":"web","deviceId":"650000000000000000000002"}}}"#
        );
    }

    #[test]
    fn an_email_login_body_puts_the_account_first() {
        let body = LoginBody {
            username: Some("reader@example.com".into()),
            password: Some(Secret::new("correct horse".into())),
            ..LoginBody::default()
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"username":"reader@example.com","password":"correct horse"}"#
        );
        assert!(!alloc::format!("{body:?}").contains("horse"), "the password stays out of Debug");
    }

    #[test]
    fn the_server_reads_either_device_id_encoding_and_an_empty_body() {
        let oid: LoginBody =
            serde_json::from_str(r#"{"options":{"device":{"deviceId":{"$oid":"650000000000000000000001"}}}}"#).unwrap();
        let device = oid.options.unwrap().device.unwrap();
        assert_eq!(device.device_id.unwrap().as_str(), "650000000000000000000001");
        let plain: LoginBody = serde_json::from_str(r#"{"options":{"device":{"deviceId":"6500"}}}"#).unwrap();
        assert_eq!(plain.options.unwrap().device.unwrap().device_id, Some(DeviceId::Plain("6500".into())));
        assert_eq!(serde_json::from_str::<LoginBody>("{}").unwrap(), LoginBody::default());
        assert!(serde_json::from_str::<LoginBody>(r#"{"password":5}"#).is_err());
        assert!(serde_json::from_str::<LoginBody>(r#"{"options":{"device":{"deviceId":5}}}"#).is_err());
    }

    #[test]
    fn the_account_routes_send_exactly_their_fields() {
        let registration = Registration { email: "a@example.com".into(), password: Secret::new("pw123456".into()) };
        assert_eq!(serde_json::to_string(&registration).unwrap(), r#"{"email":"a@example.com","password":"pw123456"}"#);
        let reset = PasswordReset {
            token: Secret::new("t".into()),
            token_id: "650000000000000000000009".into(),
            password: Secret::new("new password".into()),
        };
        assert_eq!(
            serde_json::to_string(&reset).unwrap(),
            r#"{"token":"t","tokenId":"650000000000000000000009","password":"new password"}"#
        );
        let confirmation: Confirmation = serde_json::from_str(r#"{"token":"t","tokenId":"i","extra":1}"#).unwrap();
        assert_eq!(confirmation.token_id, "i");
        assert_eq!(
            serde_json::to_string(&EmailOnly { email: "a@example.com".to_string() }).unwrap(),
            r#"{"email":"a@example.com"}"#
        );
    }

    #[test]
    fn an_account_body_without_a_field_or_with_a_wrong_type_is_refused() {
        assert!(serde_json::from_str::<Registration>(r#"{"email":"a@example.com"}"#).is_err());
        assert!(serde_json::from_str::<PasswordReset>(r#"{"token":"x"}"#).is_err());
        assert!(serde_json::from_str::<EmailOnly>(r#"{"email":7}"#).is_err());
    }
}
