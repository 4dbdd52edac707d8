//! The shapes guestpass puts on the wire and in storage, in one place, with serde derives.
//!
//! The server answers with these types, the SDK reads and sends them (through
//! serde-wasm-bindgen, never serde_json, which stays out of the wasm), and the tests here decode
//! the answers exactly as the server sends them. docs/wire.md is the contract they follow.
//!
//! - [`answers`]: what the server answers (login, link, refresh, profile, providers, errors);
//! - [`bodies`]: what a client sends (login and link bodies, the email/password routes);
//! - [`merge`]: a login that brings a guest's data along (`?merge=true`) and its proof;
//! - [`stored`]: what the SDK keeps in Web Storage;
//! - [`passkey`]: the passkey provider's ceremony bodies and answers;
//! - [`page`]: what a page hands the SDK and gets from it (`new App` options, `persistence`,
//!   identities, change events, the fields of an error).
//!
//! Types that hold free-form JSON (a profile's `data`, an identity's `provider_data`, a change
//! event's `user`) take it as a type parameter: the server uses a JSON value type, the SDK a
//! wrapper around the browser's value, so neither forces its JSON library on the other.
//!
//! Secrets (passwords, tokens) are [`Secret`]s: they serialise as plain strings and never show
//! in `Debug` output.

#![no_std]
#![deny(missing_docs)]

extern crate alloc;

pub mod answers;
pub mod bodies;
pub mod merge;
pub mod page;
pub mod passkey;
pub mod stored;

use alloc::string::String;
use core::fmt;

use serde::{Deserialize, Serialize};

/// A password or a token: a plain string on the wire, `<redacted>` in `Debug` output.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself, for the one place that needs it (a header, a hash).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret itself, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The provider type of anonymous users.
pub const ANON_USER: &str = "anon-user";
/// The provider type of email/password accounts.
pub const LOCAL_USERPASS: &str = "local-userpass";
/// The provider type of JWTs from the app's own backend.
pub const CUSTOM_TOKEN: &str = "custom-token";

/// The client API prefix (`C` in docs/wire.md).
pub const CLIENT_API: &str = "/api/client/v2.0";

/// The server's code for a token it will not accept: the only answer a refresh may fix.
pub const INVALID_SESSION: &str = "InvalidSession";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_a_plain_string_on_the_wire_and_hidden_in_debug() {
        let secret: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"hunter2\"");
        assert_eq!(alloc::format!("{secret:?}"), "<redacted>");
    }
}
