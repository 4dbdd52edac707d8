//! Change listeners: `app.addListener` (every change) and `user.addListener` (one user's).
//!
//! What the listeners are told (the JS event object is made in `js.rs`):
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
//!   which still holds it) or `expiring` (the server will delete it for inactivity soon, at
//!   `expiresAt`). The page can then ask the reader to link an identity.
//!
//! Listeners are called synchronously, after the change is made and stored, with no internal
//! state borrowed: a listener may read `app.currentUser` or start any call. The SDK never
//! awaits a listener, so a call it starts cannot deadlock against a Web Lock the SDK holds
//! (locks.rs): it runs once the listener returns, after that lock's short work. An exception
//! thrown by a listener is ignored (the others still run).

use alloc::vec::Vec;

use js_sys::Function;
use wasm_bindgen::JsValue;

use crate::RefCell;

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
    /// When the server will delete the user (epoch seconds, server clock).
    Expiring(f64),
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Link => "link",
            Kind::Refresh => "refresh",
            Kind::Logout => "logout",
            Kind::Removed => "removed",
            Kind::Switch => "switch",
            Kind::Storage => "storage",
            Kind::AtRisk(_) => "identity-at-risk",
        }
    }
}

impl Risk {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Risk::Memory => "memory",
            Risk::StorageCleared => "storage-cleared",
            Risk::Expiring(_) => "expiring",
        }
    }
}

/// Callbacks, called in the order they were added; adding one twice has no effect.
#[derive(Debug, Default)]
pub(crate) struct Listeners(RefCell<Vec<Function>>);

impl Listeners {
    pub(crate) fn add(&self, listener: Function) {
        let mut list = self.0.borrow_mut();
        if !list.contains(&listener) {
            list.push(listener);
        }
    }

    pub(crate) fn remove(&self, listener: &Function) {
        self.0.borrow_mut().retain(|known| known != listener);
    }

    /// Calls each listener with `event`; the list is copied first, so a listener may add or
    /// remove listeners.
    pub(crate) fn call(&self, event: &JsValue) {
        let list = self.0.borrow().clone();
        for listener in list {
            let _ = listener.call1(&JsValue::NULL, event);
        }
    }
}
