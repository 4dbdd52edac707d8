//! Change listeners' events, as Rust values: what changed, for which user, and where.
//!
//! What the listeners are told (the JS layer, src/js.rs, turns a [`Change`] into the page's
//! event object):
//! - `login`: a user got a new session, here or in another tab (or another `App` of the page);
//! - `link`: a user gained an identity (`linkCredentials`), here or elsewhere;
//! - `refresh`: a user's access token changed (a refresh here, or one another tab made);
//! - `logout`: a user's session ended and the user stays listed, logged out;
//! - `removed`: a user left the app's list: an anonymous user that logged out (nothing can log
//!   back in to it), `removeUser`, `deleteUser`, a refused refresh of an anonymous user, or any
//!   of these in another tab. The kind follows what happened to the user, not which method was
//!   called, so every tab reports the same change the same way;
//! - `switch`: another user became `app.currentUser` (`switchUser`, here or elsewhere);
//! - `storage`: the stored user changed in another way (e.g. its profile, refreshed elsewhere),
//!   or its record vanished (a non-anonymous user can log in again, so that is not a risk);
//! - `identity-at-risk`: an anonymous user may be lost, with a `reason`: `memory` (it lives only
//!   in this page's memory), `storage-cleared` (its stored record vanished underneath this tab,
//!   which still holds it), `storage-capped` (it is in `localStorage` in WebKit, which deletes
//!   that storage after seven days without a visit: src/browser.rs) or `expiring` (the server
//!   will delete it for inactivity soon, at `expiresAt`). The page can then ask the reader to
//!   link an identity.
//!
//! Changes are reported synchronously, after the change is made and stored, with no internal
//! state borrowed: a listener may read `app.currentUser` or start any call. The SDK never
//! awaits a listener, so a call it starts cannot deadlock against a Web Lock the SDK holds
//! (src/locks.rs): it runs once the listener returns, after that lock's short work.

use std::rc::Rc;

use crate::user::UserState;

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Login,
    Link,
    Refresh,
    Logout,
    Removed,
    Switch,
    Storage,
    AtRisk(Risk),
}

/// Why an anonymous identity is at risk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Risk {
    Memory,
    StorageCleared,
    /// Kept in `localStorage` in WebKit, which deletes it after seven days without a visit.
    StorageCapped,
    /// When the server will delete the user (epoch seconds, server clock).
    Expiring(f64),
}

/// One change, as the app reports it.
#[derive(Debug)]
pub(crate) struct Change<'a> {
    pub kind: Kind,
    pub user: &'a Rc<UserState>,
    /// Made by another tab or `App` of the page, seen through storage.
    pub remote: bool,
}

/// Where an app's changes go: set once by whoever made the app (the JS layer).
pub(crate) type Sink = Box<dyn Fn(&Change<'_>)>;
