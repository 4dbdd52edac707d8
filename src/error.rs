//! The one error type of the SDK.
//!
//! Every failure carries a machine-readable `code` (the server's `error_code`, or one of the
//! client codes below), the HTTP `status` when a response caused it (0 otherwise) and a message.
//! `js.rs` turns it into a JS `Error` named `GuestpassError`; nothing else talks to JS about errors.
//! Messages never contain tokens: they are either the server's `error` text or fixed strings.

use std::borrow::Cow;

/// The request never got an HTTP response (server unreachable, CORS refusal, bad URL).
pub const NETWORK_ERROR: &str = "NetworkError";
/// A 2xx response whose body is not the JSON the protocol promises.
pub const INVALID_SERVER_RESPONSE: &str = "InvalidServerResponse";
/// A non-2xx response without the protocol's `{error, error_code}` body (a proxy's HTML page...).
pub const HTTP_ERROR: &str = "HttpError";
/// An authenticated call on a user that holds no session (logged out or removed).
pub const NOT_LOGGED_IN: &str = "NotLoggedIn";
/// The page passed something the SDK cannot use (no app id...).
pub const INVALID_ARGUMENT: &str = "InvalidArgument";

/// A passkey ceremony the browser refused for another reason than a dismissal (which is the
/// protocol's `PasskeyCancelled`): a `SecurityError` when the server's relying party id does not
/// fit the page's origin, for one. The message names the browser's error.
pub const PASSKEY_FAILED: &str = "PasskeyFailed";

/// The server's code for a token it will not accept; the only answer a refresh may fix.
pub const INVALID_SESSION: &str = "InvalidSession";

/// A failed SDK operation.
#[derive(Clone, Debug)]
pub struct Error {
    /// The server's `error_code`, or a client code such as [`NETWORK_ERROR`].
    pub code: Cow<'static, str>,
    /// The HTTP status of the response that failed, 0 when there was none.
    pub status: u16,
    /// A human-readable description; never contains a token.
    pub message: Cow<'static, str>,
    /// Seconds to wait before trying again, from a `Retry-After` header (`429 TooManyRequests`
    /// when one address signs up too many anonymous users).
    pub retry_after: Option<u32>,
}

impl Error {
    /// An error raised by the SDK itself, not by a response.
    pub(crate) fn client(code: &'static str, message: &'static str) -> Self {
        Error { code: Cow::Borrowed(code), status: 0, message: Cow::Borrowed(message), retry_after: None }
    }

    /// A 2xx response the SDK cannot read.
    pub(crate) fn invalid_response(status: u16) -> Self {
        Error { status, ..Error::client(INVALID_SERVER_RESPONSE, "unexpected response from the server") }
    }

    /// Whether the server refused the token itself, so that a refresh may help (wire.md, Errors).
    pub(crate) fn is_invalid_session(&self) -> bool {
        self.status == 401 && self.code == INVALID_SESSION
    }

    /// Whether trying again later may work: no answer at all, or a server fault (5xx).
    pub(crate) fn is_transient(&self) -> bool {
        self.code == NETWORK_ERROR || self.status >= 500
    }
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_401_invalid_session_asks_for_a_refresh() {
        let mut e = Error::client(INVALID_SESSION, "x");
        assert!(!e.is_invalid_session(), "no status: not from a response");
        e.status = 401;
        assert!(e.is_invalid_session());
        e.code = Cow::Borrowed("MissingAuthReq");
        assert!(!e.is_invalid_session());
    }
}
