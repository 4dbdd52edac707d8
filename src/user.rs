//! One user of an app as the SDK knows it: tokens, profile, state.
//!
//! A [`UserState`] is shared (`Rc`) by the app's user list and the page's `User` object for
//! that user, so a refresh or a logout through one handle is seen through all of them.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use guestpass_protocol::answers::{AccessTokenTimes, Identity, Profile as WireProfile};
use guestpass_protocol::page::UserStatus;
use guestpass_protocol::{Secret, ANON_USER};

use crate::codec::{self, JsData};
use crate::events::Kind;
use crate::session::{Backoff, Flight};
use crate::storage::Record;

/// The profile as the SDK keeps it: the protocol's, with `data` as the browser's value.
pub(crate) type Profile = WireProfile<JsData>;

/// What changes about a user. Not `Debug`: it holds tokens.
struct UserData {
    /// Kept as the record it is stored as, so that storing it copies nothing.
    record: Record,
    removed: bool,
}

/// A user of one app.
pub(crate) struct UserState {
    pub id: String,
    data: RefCell<UserData>,
    /// The refresh under way for this user, which concurrent callers wait for.
    pub(crate) refreshing: RefCell<Option<Rc<Flight>>>,
    /// What the page's side keeps for this user (src/js.rs: its `User` object, its listeners).
    /// Opaque here, so the core never depends on the JS layer.
    pub(crate) page: RefCell<Option<Rc<dyn Any>>>,
    /// Set when the user's stored record vanished while this page held it (storage cleared in
    /// another tab): the page keeps the session, and says so once.
    pub(crate) vanished: Cell<bool>,
    /// Set once `identity-at-risk` / `expiring` was reported, until the expiry moves away.
    pub(crate) warned: Cell<bool>,
    /// Set once `identity-at-risk` / `memory` was reported.
    pub(crate) warned_memory: Cell<bool>,
    /// Set once `identity-at-risk` / `storage-capped` was reported.
    pub(crate) warned_capped: Cell<bool>,
    /// After a refresh failed without a definitive answer: when the next may be tried.
    pub(crate) backoff: RefCell<Option<Backoff>>,
}

impl UserState {
    /// A user just logged in.
    pub(crate) fn new(id: String, provider_type: &str) -> Rc<UserState> {
        Rc::new(UserState {
            id,
            data: RefCell::new(UserData {
                record: Record {
                    provider_type: provider_type.to_owned(),
                    access_token: None,
                    refresh_token: None,
                    profile: None,
                },
                removed: false,
            }),
            refreshing: RefCell::new(None),
            page: RefCell::new(None),
            vanished: Cell::new(false),
            warned: Cell::new(false),
            warned_memory: Cell::new(false),
            warned_capped: Cell::new(false),
            backoff: RefCell::new(None),
        })
    }

    /// A user read back from storage.
    pub(crate) fn restore(id: String, stored: Record) -> Rc<UserState> {
        let user = UserState::new(id, "");
        user.data.borrow_mut().record = stored;
        user
    }

    /// `write` of the record to store, borrowed.
    pub(crate) fn with_record<R>(&self, write: impl FnOnce(&Record) -> R) -> R {
        write(&self.data.borrow().record)
    }

    pub(crate) fn state(&self) -> UserStatus {
        let data = self.data.borrow();
        if data.removed {
            UserStatus::Removed
        } else if data.record.refresh_token.is_some() {
            UserStatus::Active
        } else {
            UserStatus::LoggedOut
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        self.state() == UserStatus::Active
    }

    /// Whether every identity is anonymous (realm-core's rule); without a profile, whether the
    /// user logged in anonymously. A linked user has another identity and is no longer
    /// anonymous: it is kept on logout and not reused by anonymous logins.
    pub(crate) fn is_anonymous(&self) -> bool {
        let data = self.data.borrow();
        match data.record.profile.as_ref().map(|p| &p.identities) {
            Some(identities) if !identities.is_empty() => identities.iter().all(|i| i.provider_type == ANON_USER),
            _ => data.record.provider_type == ANON_USER,
        }
    }

    pub(crate) fn provider_type(&self) -> String {
        self.data.borrow().record.provider_type.clone()
    }

    pub(crate) fn identity_count(&self) -> usize {
        self.data.borrow().record.profile.as_ref().map_or(0, |p| p.identities.len())
    }

    /// `read` of the profile's identities (none without a profile), borrowed.
    pub(crate) fn with_identities<R>(&self, read: impl FnOnce(&[Identity<JsData>]) -> R) -> R {
        let data = self.data.borrow();
        read(data.record.profile.as_ref().map_or(&[], |p| &p.identities))
    }

    /// The profile's `data`, when it is an object.
    pub(crate) fn profile_data(&self) -> Option<JsData> {
        self.data.borrow().record.profile.as_ref().map(|p| p.data.clone()).filter(|d| d.0.is_object())
    }

    pub(crate) fn access_token(&self) -> Option<String> {
        self.data.borrow().record.access_token.as_ref().map(|t| t.expose().to_owned())
    }

    pub(crate) fn refresh_token(&self) -> Option<String> {
        self.data.borrow().record.refresh_token.as_ref().map(|t| t.expose().to_owned())
    }

    /// Takes the tokens and profile of a successful login.
    pub(crate) fn log_in(
        &self,
        provider_type: &str,
        access_token: Secret,
        refresh_token: Secret,
        profile: Option<Profile>,
    ) {
        let mut data = self.data.borrow_mut();
        provider_type.clone_into(&mut data.record.provider_type);
        data.record.access_token = Some(access_token);
        data.record.refresh_token = Some(refresh_token);
        // A login without a profile keeps the one we had: the identities did not change.
        if profile.is_some() {
            data.record.profile = profile;
        }
        data.removed = false;
        self.vanished.set(false);
        *self.backoff.borrow_mut() = None;
    }

    pub(crate) fn set_access_token(&self, token: Secret) {
        self.data.borrow_mut().record.access_token = Some(token);
    }

    pub(crate) fn set_profile(&self, profile: Profile) {
        self.data.borrow_mut().record.profile = Some(profile);
    }

    /// Takes what another tab (or `App`) stored for this user; the kind of change, if any.
    ///
    /// A new refresh token is a login elsewhere, none a logout; a new identity is a link; a new
    /// access token alone, a refresh.
    pub(crate) fn adopt(&self, stored: Record) -> Option<Kind> {
        self.vanished.set(false);
        let mut data = self.data.borrow_mut();
        let identities = |p: &Option<Profile>| p.as_ref().map_or(0, |p| p.identities.len());
        let kind = if data.record.refresh_token != stored.refresh_token {
            if stored.refresh_token.is_some() {
                Kind::Login
            } else {
                Kind::Logout
            }
        } else if identities(&data.record.profile) != identities(&stored.profile) {
            Kind::Link
        } else if data.record.access_token != stored.access_token {
            Kind::Refresh
        } else if codec::to_text(&data.record.profile) != codec::to_text(&stored.profile) {
            Kind::Storage
        } else {
            return None;
        };
        data.record = stored;
        Some(kind)
    }

    /// When the server will delete this anonymous user for inactivity, and how many seconds
    /// that is after the access token was issued: the access token's `anonymous_expires_at`
    /// claim or the profile's `expires_at`, whichever is later, against the token's `iat`.
    /// Both come from the server's clock, so a wrong clock here does not matter.
    pub(crate) fn expiry(&self) -> Option<(f64, f64)> {
        let data = self.data.borrow();
        let claims = token_times(data.record.access_token.as_ref()?.expose())?;
        let from_profile = data.record.profile.as_ref().and_then(|p| p.expires_at).unwrap_or(0);
        let expires = claims.anonymous_expires_at.unwrap_or(0).max(from_profile) as f64;
        (expires > 0.0).then_some((expires, expires - claims.iat as f64))
    }

    /// Forgets both tokens; the user becomes logged out (or, with `removed`, gone).
    pub(crate) fn end_session(&self, removed: bool) {
        let mut data = self.data.borrow_mut();
        data.record.access_token = None;
        data.record.refresh_token = None;
        data.removed |= removed;
    }
}

/// The times in a JWT's claims, decoded without checking anything (only the server can).
fn token_times(token: &str) -> Option<AccessTokenTimes> {
    let payload = token.split('.').nth(1)?;
    // base64url to the base64 `atob` reads (it does not need the padding).
    let base64: String = payload
        .chars()
        .map(|c| {
            if c == '-' {
                '+'
            } else if c == '_' {
                '/'
            } else {
                c
            }
        })
        .collect();
    codec::from_text(&web_sys::window()?.atob(&base64).ok()?)
}

impl fmt::Debug for UserState {
    // By hand: the tokens must never be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserState").field("id", &self.id).field("state", &self.state()).finish_non_exhaustive()
    }
}
