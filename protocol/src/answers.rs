//! What the server answers (docs/wire.md, "Routes" and "Errors").
//!
//! Required fields are the ones a client cannot do without; the rest default, so that a server
//! of the same protocol that leaves them out (App Services) still reads. A wrong type anywhere
//! is an error, which the SDK reports as `InvalidServerResponse`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// `POST A/auth/providers/<type>/login`: a new session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginAnswer<Data> {
    /// A JWT for the API.
    pub access_token: Secret,
    /// The session's opaque refresh token.
    pub refresh_token: Secret,
    /// 24 lowercase hex digits.
    pub user_id: String,
    /// The device id the server gave this browser, sent back with later logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The user's profile, sent with the login by guestpass (not by App Services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile<Data>>,
}

/// `POST A/auth/providers/<type>/login?link=true`: the same user, a new access token, and no
/// refresh token (the session's one stays valid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkAnswer<Data> {
    /// A new JWT, saying the user is no longer anonymous.
    pub access_token: Secret,
    /// The linking user: a client checks it is the one it linked.
    pub user_id: String,
    /// The session's device id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The profile with the new identity (guestpass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile<Data>>,
}

/// `POST C/auth/session`: a new access token (the refresh token is not rotated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshAnswer {
    /// The new JWT.
    pub access_token: Secret,
}

/// What a client reads from any answer that grants or renews a session (login, link, refresh):
/// one type for the three, so that a client decodes them with one piece of code. The exact
/// shapes, which a server answers with, are [`LoginAnswer`], [`LinkAnswer`] and
/// [`RefreshAnswer`]; a client checks that the fields its route promises are there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAnswer<Data> {
    /// A JWT for the API (every such answer has one).
    pub access_token: Secret,
    /// Logins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Logins and links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Logins and links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Logins and links, from guestpass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile<Data>>,
    /// Merge logins only (`?merge=true`, [`crate::merge::MergeLoginAnswer`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeAnswer>,
}

/// What a merge login adds to a login: whose data may move where, and the signed proof
/// (docs/merge.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeAnswer {
    /// The anonymous user whose data moves.
    pub from: String,
    /// The account it moves into (the logged-in user).
    pub into: String,
    /// A short-lived JWT (`typ: merge`) naming both, redeemable once.
    pub proof: Secret,
}

/// A user's profile: `GET C/auth/profile`, and the `profile` of login answers.
///
/// `Data` is the free-form JSON of `data` (`{email, name, ...}`) and of each identity's
/// `provider_data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile<Data> {
    /// The user's id.
    #[serde(default)]
    pub user_id: String,
    /// The app id.
    #[serde(default)]
    pub domain_id: String,
    /// Always `"normal"`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Every identity of the user, the anonymous one included.
    pub identities: Vec<Identity<Data>>,
    /// What the identities say about the user (`{email}` once an email is linked).
    #[serde(default)]
    pub data: Data,
    /// When the user was made, epoch seconds.
    #[serde(default)]
    pub creation_date: u64,
    /// The user's last activity, epoch seconds.
    #[serde(default)]
    pub last_authentication_date: u64,
    /// For an anonymous user: when the server will delete it if it stays inactive, epoch
    /// seconds (a guestpass extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// For a signed-in (not anonymous) user: when the session ends unless it is refreshed
    /// before (its idle lifetime), or at the latest (its absolute lifetime), epoch seconds (a
    /// guestpass extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<u64>,
}

/// One identity of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity<Data> {
    /// The identity's id.
    pub id: String,
    /// `anon-user`, `local-userpass`, `custom-token`.
    pub provider_type: String,
    /// The provider's name (guestpass: the same as its type).
    #[serde(default)]
    pub provider_id: String,
    /// What the provider knows of the identity.
    #[serde(default)]
    pub provider_data: Data,
}

/// An entry of `GET A/auth/providers` (the enabled providers), also what
/// `app.getAuthProviders()` gives the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthProvider {
    /// The provider's name.
    pub name: String,
    /// The provider's type.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET A/location`: where a client should send its requests (realm-web asks first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Always `"GLOBAL"`.
    pub deployment_model: String,
    /// Always `"local"`.
    pub location: String,
    /// The server's public URL, without a trailing slash.
    pub hostname: String,
    /// The same with a `ws` scheme.
    pub ws_hostname: String,
}

/// Every error answer: `{error, error_code, link}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A human-readable message.
    pub error: String,
    /// The machine-readable code (`InvalidSession`, `TooManyRequests`...).
    pub error_code: String,
    /// Always empty.
    #[serde(default)]
    pub link: String,
}

/// The claims of an access token that a client reads (it checks nothing: only the server can).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccessTokenTimes {
    /// When the token was issued, epoch seconds.
    #[serde(default)]
    pub iat: u64,
    /// For an anonymous user: when the server will delete it if it stays inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_expires_at: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    type Json = Value;

    // The answers as server/src/routes/login.rs, session.rs and app.rs build them.
    const ANONYMOUS_LOGIN: &str = r#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2NTAwIn0.sig","refresh_token":"q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c","user_id":"650000000000000000000001","device_id":"650000000000000000000002","profile":{"user_id":"650000000000000000000001","domain_id":"blog","type":"normal","identities":[{"id":"650000000000000000000003","provider_type":"anon-user","provider_id":"anon-user","provider_data":{}}],"data":{},"creation_date":1764547200,"last_authentication_date":1764547200,"expires_at":1772323200}}"#;
    const LINK: &str = r#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2NTAwIn0.sig2","user_id":"650000000000000000000001","device_id":"650000000000000000000002","profile":{"user_id":"650000000000000000000001","domain_id":"blog","type":"normal","identities":[{"id":"650000000000000000000003","provider_type":"anon-user","provider_id":"anon-user","provider_data":{}},{"id":"650000000000000000000004","provider_type":"local-userpass","provider_id":"local-userpass","provider_data":{"email":"reader@example.com"}}],"data":{"email":"reader@example.com"},"creation_date":1764547200,"last_authentication_date":1764547260}}"#;

    #[test]
    fn an_anonymous_login_answer_decodes_exactly_and_encodes_back_the_same() {
        let answer: LoginAnswer<Json> = serde_json::from_str(ANONYMOUS_LOGIN).unwrap();
        assert_eq!(answer.access_token.expose(), "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2NTAwIn0.sig");
        assert_eq!(answer.refresh_token.expose(), "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c");
        assert_eq!(answer.user_id, "650000000000000000000001");
        assert_eq!(answer.device_id.as_deref(), Some("650000000000000000000002"));
        let profile = answer.profile.as_ref().unwrap();
        assert_eq!(profile.kind, "normal");
        assert_eq!(profile.domain_id, "blog");
        assert_eq!(profile.identities.len(), 1);
        assert_eq!(profile.identities[0].provider_type, "anon-user");
        assert_eq!(profile.identities[0].provider_data, json!({}));
        assert_eq!(profile.data, json!({}));
        assert_eq!(profile.creation_date, 1764547200);
        assert_eq!(profile.expires_at, Some(1772323200));
        // The server can build its answer from the type: the same JSON, field for field.
        let back: Value = serde_json::to_value(&answer).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(ANONYMOUS_LOGIN).unwrap());
    }

    #[test]
    fn a_link_answer_has_no_refresh_token_and_the_new_identity() {
        let answer: LinkAnswer<Json> = serde_json::from_str(LINK).unwrap();
        assert_eq!(answer.user_id, "650000000000000000000001");
        let profile = answer.profile.as_ref().unwrap();
        assert_eq!(profile.identities[1].provider_type, "local-userpass");
        assert_eq!(profile.data, json!({"email": "reader@example.com"}));
        assert_eq!(profile.expires_at, None, "a linked user does not expire");
        assert_eq!(serde_json::to_value(&answer).unwrap(), serde_json::from_str::<Value>(LINK).unwrap());
        // A link answer is not a login answer: it has no refresh token.
        assert!(serde_json::from_str::<LoginAnswer<Json>>(LINK).is_err());
    }

    #[test]
    fn a_login_answer_without_a_profile_or_device_id_reads_as_app_services_sends_it() {
        let answer: LoginAnswer<Json> =
            serde_json::from_str(r#"{"access_token":"a","refresh_token":"r","user_id":"u"}"#).unwrap();
        assert!(answer.profile.is_none() && answer.device_id.is_none());
    }

    #[test]
    fn malformed_login_answers_are_refused() {
        for text in [
            r#"{"refresh_token":"r","user_id":"u"}"#,
            r#"{"access_token":"a","user_id":"u"}"#,
            r#"{"access_token":"a","refresh_token":"r"}"#,
            r#"{"access_token":5,"refresh_token":"r","user_id":"u"}"#,
            r#"{"access_token":"a","refresh_token":"r","user_id":"u","profile":{"data":{}}}"#,
            r#"{"access_token":"a","refresh_token":"r","user_id":"u","profile":{"identities":[{"id":"i"}]}}"#,
            r#"{"access_token":"a","refresh_token":"r","user_id":"u","profile":"p"}"#,
            r#"[]"#,
            r#"null"#,
        ] {
            assert!(serde_json::from_str::<LoginAnswer<Json>>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_client_reads_every_session_answer_with_one_type() {
        let login: SessionAnswer<Json> = serde_json::from_str(ANONYMOUS_LOGIN).unwrap();
        assert_eq!(
            login.refresh_token.as_ref().map(Secret::expose),
            Some("q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c")
        );
        assert_eq!(login.user_id.as_deref(), Some("650000000000000000000001"));
        assert_eq!(login.profile.unwrap().identities.len(), 1);
        let link: SessionAnswer<Json> = serde_json::from_str(LINK).unwrap();
        assert!(link.refresh_token.is_none(), "a link keeps the session's refresh token");
        assert_eq!(link.profile.unwrap().identities.len(), 2);
        let refresh: SessionAnswer<Json> = serde_json::from_str(r#"{"access_token":"eyJ.new.sig"}"#).unwrap();
        assert_eq!(refresh.access_token.expose(), "eyJ.new.sig");
        assert!(refresh.user_id.is_none() && refresh.profile.is_none());
        for text in [
            r#"{}"#,
            r#"{"access_token":7}"#,
            r#"{"access_token":"a","user_id":5}"#,
            r#"{"access_token":"a","profile":{}}"#,
            "[]",
        ] {
            assert!(serde_json::from_str::<SessionAnswer<Json>>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_refresh_answer_is_one_access_token() {
        let answer: RefreshAnswer = serde_json::from_str(r#"{"access_token":"eyJ.new.sig"}"#).unwrap();
        assert_eq!(answer.access_token.expose(), "eyJ.new.sig");
        assert_eq!(serde_json::to_string(&answer).unwrap(), r#"{"access_token":"eyJ.new.sig"}"#);
        assert!(serde_json::from_str::<RefreshAnswer>("{}").is_err());
        assert!(serde_json::from_str::<RefreshAnswer>(r#"{"access_token":null}"#).is_err());
    }

    #[test]
    fn the_providers_list_decodes_and_a_malformed_entry_is_refused() {
        let list: Vec<AuthProvider> = serde_json::from_str(
            r#"[{"name":"anon-user","type":"anon-user"},{"name":"local-userpass","type":"local-userpass"}]"#,
        )
        .unwrap();
        assert_eq!(list[1], AuthProvider { name: "local-userpass".into(), kind: "local-userpass".into() });
        assert!(serde_json::from_str::<Vec<AuthProvider>>(r#"[{"name":"anon-user"}]"#).is_err());
        assert!(serde_json::from_str::<Vec<AuthProvider>>(r#"{"name":"anon-user","type":"anon-user"}"#).is_err());
    }

    #[test]
    fn an_error_body_decodes_as_the_server_sends_it() {
        let text =
            r#"{"error":"invalid session: failed to find refresh token","error_code":"InvalidSession","link":""}"#;
        let body: ErrorBody = serde_json::from_str(text).unwrap();
        assert_eq!(body.error_code, crate::INVALID_SESSION);
        assert_eq!(serde_json::to_string(&body).unwrap(), text);
        assert!(serde_json::from_str::<ErrorBody>(r#"{"error":"x"}"#).is_err(), "no error_code: not the shape");
        assert!(serde_json::from_str::<ErrorBody>("\"<h1>Bad Gateway</h1>\"").is_err());
    }

    #[test]
    fn the_location_answer_round_trips() {
        let text = r#"{"deployment_model":"GLOBAL","location":"local","hostname":"http://127.0.0.1:8080","ws_hostname":"ws://127.0.0.1:8080"}"#;
        let location: Location = serde_json::from_str(text).unwrap();
        assert_eq!(location.ws_hostname, "ws://127.0.0.1:8080");
        assert_eq!(serde_json::to_string(&location).unwrap(), text);
    }

    #[test]
    fn access_token_times_read_the_claims_a_client_needs() {
        let claims = r#"{"sub":"u","iat":1764547200,"exp":1764549000,"aud":"blog","typ":"access","baas_device_id":"d","baas_domain_id":"blog","baas_id":"s","is_anonymous":true,"anonymous_expires_at":1772323200}"#;
        let times: AccessTokenTimes = serde_json::from_str(claims).unwrap();
        assert_eq!(times, AccessTokenTimes { iat: 1764547200, anonymous_expires_at: Some(1772323200) });
        assert!(serde_json::from_str::<AccessTokenTimes>(r#"{"iat":"soon"}"#).is_err());
    }
}
