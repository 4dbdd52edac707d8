//! What a page hands the SDK and what it gets back: the shapes of the SDK's JavaScript surface
//! (typed in the SDK's `.d.ts`), so that their field names live here with the wire's.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// `new App({ id, baseUrl?, storage?, expiryWarningSeconds? })`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppConfiguration {
    /// The app id, as the server knows it.
    pub id: String,
    /// Where the server is; the page's origin when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Where the users are kept; `local` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageArea>,
    /// How long before the server deletes an inactive anonymous user the page is warned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_warning_seconds: Option<f64>,
}

/// The `storage` option, and `persistence.storage`.
///
/// Read as a string, then matched (`TryFrom<String>`): the SDK decodes no other enum, and
/// serde's enum machinery (variant access, payload checks) would cost the wasm about 1 KB for
/// this one three-word option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum StorageArea {
    /// `localStorage`: shared by the tabs, kept across restarts.
    Local,
    /// `sessionStorage`: this tab, until it closes.
    Session,
    /// This page, until it reloads.
    Memory,
}

impl TryFrom<String> for StorageArea {
    type Error = &'static str;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        match name.as_str() {
            "local" => Ok(StorageArea::Local),
            "session" => Ok(StorageArea::Session),
            "memory" => Ok(StorageArea::Memory),
            _ => Err("expected \"local\", \"session\" or \"memory\""),
        }
    }
}

/// `app.persistence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persistence {
    /// The storage in use: the chosen one, or memory after a fallback.
    pub storage: StorageArea,
    /// Whether the identity outlives the tab.
    pub durable: bool,
    /// Whether the chosen storage failed and memory replaced it.
    pub fallback: bool,
}

/// An entry of `user.identities`, borrowed from the profile it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    /// The identity's id.
    pub id: &'a str,
    /// Its provider type.
    pub provider_type: &'a str,
}

/// `user.state`: realm-web's three states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserStatus {
    /// Holds a session.
    Active,
    /// Listed without tokens.
    LoggedOut,
    /// Gone from the list and from storage.
    Removed,
}

/// What a change listener is told (`ChangeEvent` in the `.d.ts`). `User` is the page's `User`
/// object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEvent<User> {
    /// What changed.
    pub kind: ChangeKind,
    /// The user it changed for.
    pub user: User,
    /// Whether another tab or `App` made the change.
    pub remote: bool,
    /// For `identity-at-risk`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RiskReason>,
    /// For `identity-at-risk` / `expiring`: when the server deletes the user, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<f64>,
}

/// `event.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A new session.
    Login,
    /// A new identity.
    Link,
    /// A new access token.
    Refresh,
    /// The session ended; the user stays listed.
    Logout,
    /// The user left the list.
    Removed,
    /// The user became `app.currentUser`.
    Switch,
    /// Its stored data changed otherwise, or vanished.
    Storage,
    /// An anonymous user may be lost.
    IdentityAtRisk,
}

/// `event.reason` of `identity-at-risk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskReason {
    /// It lives only in this page's memory.
    Memory,
    /// Its stored record vanished while this tab holds it.
    StorageCleared,
    /// It is kept in a storage the browser deletes after days without a visit (WebKit's cap).
    StorageCapped,
    /// The server will delete it for inactivity soon.
    Expiring,
}

/// The fields the SDK puts on the `GuestpassError` a promise rejects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorFields<'a> {
    /// The server's `error_code` or a client code (`NetworkError`...).
    pub code: &'a str,
    /// The HTTP status, 0 without a response.
    pub status: u16,
    /// Seconds to wait before trying again (`Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

/// What a page passes to an `emailPasswordAuth` method: the fields of all of them, each
/// optional, read once; the SDK sends the route's own body (`bodies`) made from them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountDetails {
    /// `registerUser`, `resendConfirmationEmail`, `sendResetPasswordEmail`.
    #[serde(default)]
    pub email: Option<String>,
    /// `registerUser`, `resetPassword`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// `confirmUser`, `resetPassword`: the link's secret.
    #[serde(default)]
    pub token: Option<Secret>,
    /// `confirmUser`, `resetPassword`: the link's token id.
    #[serde(default)]
    pub token_id: Option<String>,
}

/// The options of `app.logIn(credentials, options)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogInOptions {
    /// With an anonymous current user: log in to the account and bring the guest's data along
    /// (docs/merge.md).
    #[serde(default)]
    pub merge_anonymous: bool,
}

/// Per-call options of `user.fetch(input, init)` that are the SDK's, not `fetch`'s: read from
/// the same `init` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchOptions {
    /// Send the access token to a URL outside `baseUrl`'s origin too (it goes only to that
    /// origin otherwise).
    #[serde(default)]
    pub send_token_to_other_origins: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn app_options_read_what_a_page_passes() {
        let full: AppConfiguration = serde_json::from_value(json!({
            "id": "blog", "baseUrl": "https://auth.example.com", "storage": "session", "expiryWarningSeconds": 60
        }))
        .unwrap();
        assert_eq!(full.base_url.as_deref(), Some("https://auth.example.com"));
        assert_eq!(full.storage, Some(StorageArea::Session));
        assert_eq!(full.expiry_warning_seconds, Some(60.0));
        let bare: AppConfiguration = serde_json::from_value(json!({ "id": "blog" })).unwrap();
        assert_eq!((bare.base_url, bare.storage), (None, None));
    }

    #[test]
    fn every_storage_area_reads_back_the_name_it_is_written_as() {
        for area in [StorageArea::Local, StorageArea::Session, StorageArea::Memory] {
            let name = serde_json::to_value(area).unwrap();
            assert_eq!(serde_json::from_value::<StorageArea>(name).unwrap(), area);
        }
        assert!(serde_json::from_value::<StorageArea>(json!("Local")).is_err());
        assert!(serde_json::from_value::<StorageArea>(json!({ "local": null })).is_err());
    }

    #[test]
    fn wrong_app_options_are_refused() {
        for options in [
            json!({}),
            json!({ "id": 5 }),
            json!({ "id": "blog", "storage": "indexeddb" }),
            json!({ "id": "blog", "baseUrl": 443 }),
            json!({ "id": "blog", "expiryWarningSeconds": "soon" }),
        ] {
            assert!(serde_json::from_value::<AppConfiguration>(options.clone()).is_err(), "{options}");
        }
    }

    #[test]
    fn page_objects_have_the_documented_names() {
        let persistence = Persistence { storage: StorageArea::Memory, durable: false, fallback: true };
        assert_eq!(
            serde_json::to_value(persistence).unwrap(),
            json!({"storage":"memory","durable":false,"fallback":true})
        );
        let identity = UserIdentity { id: "i", provider_type: "anon-user" };
        assert_eq!(serde_json::to_value(identity).unwrap(), json!({"id":"i","providerType":"anon-user"}));
        assert_eq!(serde_json::to_value(UserStatus::LoggedOut).unwrap(), json!("logged-out"));
        let fields = ErrorFields { code: "TooManyRequests", status: 429, retry_after: Some(30) };
        assert_eq!(
            serde_json::to_value(fields).unwrap(),
            json!({"code":"TooManyRequests","status":429,"retryAfter":30})
        );
        let fields = ErrorFields { code: "NetworkError", status: 0, retry_after: None };
        assert_eq!(serde_json::to_value(fields).unwrap(), json!({"code":"NetworkError","status":0}));
    }

    #[test]
    fn change_events_carry_a_reason_only_when_at_risk() {
        let login =
            ChangeEvent { kind: ChangeKind::Login, user: json!("u"), remote: true, reason: None, expires_at: None };
        assert_eq!(serde_json::to_value(&login).unwrap(), json!({"kind":"login","user":"u","remote":true}));
        let expiring = ChangeEvent {
            kind: ChangeKind::IdentityAtRisk,
            user: Value::Null,
            remote: false,
            reason: Some(RiskReason::Expiring),
            expires_at: Some(1772323200.0),
        };
        assert_eq!(
            serde_json::to_value(&expiring).unwrap(),
            json!({"kind":"identity-at-risk","user":null,"remote":false,"reason":"expiring","expiresAt":1772323200.0})
        );
        assert_eq!(serde_json::to_value(RiskReason::StorageCleared).unwrap(), json!("storage-cleared"));
        assert_eq!(serde_json::to_value(RiskReason::StorageCapped).unwrap(), json!("storage-capped"));
    }

    #[test]
    fn account_details_read_any_route_s_fields_and_refuse_wrong_types() {
        let details: AccountDetails =
            serde_json::from_value(json!({ "token": "t", "tokenId": "i", "password": "new password", "other": 1 }))
                .unwrap();
        assert_eq!(details.token_id.as_deref(), Some("i"));
        assert_eq!(details.password.as_ref().map(Secret::expose), Some("new password"));
        assert_eq!(details.email, None);
        assert!(serde_json::from_value::<AccountDetails>(json!({ "email": 5 })).is_err());
        assert!(serde_json::from_value::<AccountDetails>(json!("a@example.com")).is_err());
    }

    #[test]
    fn log_in_options_merge_only_when_asked_and_refuse_a_non_boolean() {
        let none: LogInOptions = serde_json::from_value(json!({})).unwrap();
        assert!(!none.merge_anonymous);
        let merging: LogInOptions = serde_json::from_value(json!({ "mergeAnonymous": true })).unwrap();
        assert!(merging.merge_anonymous);
        assert!(serde_json::from_value::<LogInOptions>(json!({ "mergeAnonymous": "yes" })).is_err());
        assert!(serde_json::from_value::<LogInOptions>(json!({ "mergeAnonymous": null })).is_err());
    }

    #[test]
    fn fetch_options_default_to_the_base_url_origin_only() {
        let none: FetchOptions = serde_json::from_value(json!({ "method": "GET" })).unwrap();
        assert!(!none.send_token_to_other_origins);
        let opted: FetchOptions = serde_json::from_value(json!({ "sendTokenToOtherOrigins": true })).unwrap();
        assert!(opted.send_token_to_other_origins);
        assert!(serde_json::from_value::<FetchOptions>(json!({ "sendTokenToOtherOrigins": "yes" })).is_err());
    }
}
