//! What every login route reads besides the credentials, shared by the login route (every
//! provider but passkeys) and the passkey route: what the query asks (`?link=true`,
//! `?merge=true`) and the device the body names. Not a router of its own.

use guestpass_protocol::{bodies::LoginOptions, merge::MERGE_QUERY};

use crate::{error::ApiError, ids};

/// The query that asks a login to link the credentials to the bearer's user instead.
const LINK_QUERY: &str = "link=true";

/// What the query asks of a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Intent {
    /// A new session of the credentials' user.
    Login,
    /// The credentials' identity added to the bearer's user, which keeps its session.
    Link,
    /// Log in to an existing account and get a proof that the bearer's anonymous user's data
    /// may move into it (routes/merging.rs, docs/merge.md).
    Merge,
    /// Both at once: refused ([`both_refused`]), after the checks every login makes first.
    Both,
}

impl Intent {
    /// Reads the query's pairs (`a=b&link=true`); any other value (`link=false`) asks nothing.
    pub(super) fn of(query: Option<&str>) -> Self {
        let asks = |wanted: &str| query.is_some_and(|q| q.split('&').any(|pair| pair == wanted));
        match (asks(LINK_QUERY), asks(MERGE_QUERY)) {
            (false, false) => Intent::Login,
            (true, false) => Intent::Link,
            (false, true) => Intent::Merge,
            (true, true) => Intent::Both,
        }
    }

    /// Whether the login is counted as a link (the metrics' `link` label).
    pub(super) fn links(self) -> bool {
        matches!(self, Intent::Link | Intent::Both)
    }
}

/// The answer to a query asking for a link and a merge together.
pub(super) fn both_refused() -> ApiError {
    ApiError::bad_request("link=true and merge=true cannot be asked together")
}

/// The new session's device: the one the client sent if it is a device id (24 hex digits,
/// plain or as realm-web's EJSON `{"$oid": ...}`), in lower case, else a new one.
pub(super) fn device_id(options: Option<&LoginOptions>, now: u64) -> String {
    let sent = options.and_then(|o| o.device.as_ref()).and_then(|d| d.device_id.as_ref()).map(|id| id.as_str());
    match sent {
        Some(id) if ids::is_device_id(id) => id.to_ascii_lowercase(),
        _ => ids::object_id(now),
    }
}

#[cfg(test)]
mod tests {
    use guestpass_protocol::bodies::{Device, DeviceId};

    use super::*;

    #[test]
    fn the_intent_is_read_from_the_query_pairs() {
        assert_eq!(Intent::of(None), Intent::Login);
        assert_eq!(Intent::of(Some("link=false")), Intent::Login);
        assert_eq!(Intent::of(Some("link=true")), Intent::Link);
        assert_eq!(Intent::of(Some("a=b&link=true")), Intent::Link);
        assert_eq!(Intent::of(Some("merge=true")), Intent::Merge);
        assert_eq!(Intent::of(Some("link=false&merge=true")), Intent::Merge);
        assert_eq!(Intent::of(Some("merge=false")), Intent::Login);
        assert_eq!(Intent::of(Some("merge=true&link=true")), Intent::Both);
        assert!(Intent::Both.links() && Intent::Link.links() && !Intent::Merge.links());
    }

    fn options(id: DeviceId) -> LoginOptions {
        LoginOptions { device: Some(Device { device_id: Some(id), ..Device::default() }) }
    }

    #[test]
    fn a_sent_device_id_is_kept_in_either_encoding_and_a_bad_one_replaced() {
        let oid = options(DeviceId::ObjectId { oid: "650000000000000000000001".into() });
        assert_eq!(device_id(Some(&oid), 1), "650000000000000000000001");
        let plain = options(DeviceId::Plain("650000000000000000000002".into()));
        assert_eq!(device_id(Some(&plain), 1), "650000000000000000000002");
        let upper = options(DeviceId::Plain("65000000000000000000000A".into()));
        assert_eq!(device_id(Some(&upper), 1), "65000000000000000000000a");
        let zeros = options(DeviceId::Plain("000000000000000000000000".into()));
        assert_ne!(device_id(Some(&zeros), 1), "000000000000000000000000");
        let short = options(DeviceId::Plain("abc".into()));
        assert_eq!(device_id(Some(&short), 1).len(), 24);
        assert_eq!(device_id(None, 1).len(), 24);
    }
}
