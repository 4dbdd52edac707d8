//! One user of an app as the SDK knows it: tokens, profile, state.
//!
//! A [`UserState`] is shared (`Rc`) by the app's user list and every JS `User` handle for that
//! user, so a refresh or a logout through one handle is seen through all of them.

use alloc::borrow::ToOwned;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use wasm_bindgen::JsValue;

use crate::credentials::ANONYMOUS;
use crate::events::{Kind, Listeners};
use crate::json;
use crate::session::{Backoff, Flight};
use crate::storage::StoredUser;
use crate::RefCell;

/// Where a user stands, realm-web's three states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Holds a refresh token: can make authenticated calls.
    Active,
    /// Listed, without tokens: must log in again.
    LoggedOut,
    /// Gone from the list and from storage (an anonymous user that logged out can never log back
    /// in, so it is not kept).
    Removed,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::LoggedOut => "logged-out",
            State::Removed => "removed",
        }
    }
}

/// One identity of a user (`identities[]` of the profile).
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub id: String,
    pub provider_type: String,
}

/// The user's profile: what the server sent (kept whole for storage) and the identities read
/// from it.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    raw: JsValue,
    pub identities: Vec<Identity>,
}

impl Profile {
    /// Reads a profile from the server or from storage; `None` without an `identities` array.
    pub(crate) fn parse(raw: JsValue) -> Option<Profile> {
        let list = json::as_array(&json::get(&raw, "identities")?)?;
        let identities = list
            .iter()
            .filter_map(|identity| {
                Some(Identity {
                    id: json::get_string(&identity, "id")?,
                    provider_type: json::get_string(&identity, "provider_type")?,
                })
            })
            .collect();
        Some(Profile { raw, identities })
    }

    /// The profile's `data` (`{email, name, ...}`), when it is an object.
    pub(crate) fn data(&self) -> Option<JsValue> {
        json::get(&self.raw, "data").filter(JsValue::is_object)
    }

    fn text(profile: Option<&Profile>) -> String {
        profile.map(|p| json::stringify(&p.raw)).unwrap_or_default()
    }
}

/// What changes about a user. Not `Debug`: it holds tokens.
struct UserData {
    provider_type: String,
    access_token: Option<String>,
    refresh_token: Option<String>,
    profile: Option<Profile>,
    removed: bool,
}

/// A user of one app.
pub(crate) struct UserState {
    pub id: String,
    data: RefCell<UserData>,
    /// The refresh under way for this user, which concurrent callers wait for.
    pub(crate) refreshing: RefCell<Option<Rc<Flight>>>,
    /// A `WeakRef` to the page's JS `User` object for this user (kept by `js.rs`), so that every
    /// getter and login hands out the same object while the page holds it.
    pub(crate) handle: RefCell<JsValue>,
    /// `user.addListener` callbacks.
    pub(crate) listeners: Listeners,
    /// Set when the user's stored record vanished while this page held it (storage cleared in
    /// another tab): the page keeps the session, and says so once.
    pub(crate) vanished: Cell<bool>,
    /// Set once `identity-at-risk` / `expiring` was reported, until the expiry moves away.
    pub(crate) warned: Cell<bool>,
    /// Set once `identity-at-risk` / `memory` was reported.
    pub(crate) warned_memory: Cell<bool>,
    /// After a refresh failed without a definitive answer: when the next may be tried.
    pub(crate) backoff: RefCell<Option<Backoff>>,
}

impl UserState {
    /// A user just logged in.
    pub(crate) fn new(id: String, provider_type: &str) -> Rc<UserState> {
        Rc::new(UserState {
            id,
            data: RefCell::new(UserData {
                provider_type: provider_type.to_owned(),
                access_token: None,
                refresh_token: None,
                profile: None,
                removed: false,
            }),
            refreshing: RefCell::new(None),
            handle: RefCell::new(JsValue::UNDEFINED),
            listeners: Listeners::default(),
            vanished: Cell::new(false),
            warned: Cell::new(false),
            warned_memory: Cell::new(false),
            backoff: RefCell::new(None),
        })
    }

    /// A user read back from storage.
    pub(crate) fn restore(id: String, stored: StoredUser) -> Rc<UserState> {
        let user = UserState::new(id, &stored.provider_type);
        {
            let mut data = user.data.borrow_mut();
            data.access_token = stored.access_token;
            data.refresh_token = stored.refresh_token;
            data.profile = Profile::parse(stored.profile);
        }
        user
    }

    /// The record to store.
    pub(crate) fn stored(&self) -> StoredUser {
        let data = self.data.borrow();
        StoredUser {
            provider_type: data.provider_type.clone(),
            access_token: data.access_token.clone(),
            refresh_token: data.refresh_token.clone(),
            profile: data.profile.as_ref().map_or(JsValue::NULL, |p| p.raw.clone()),
        }
    }

    pub(crate) fn state(&self) -> State {
        let data = self.data.borrow();
        if data.removed {
            State::Removed
        } else if data.refresh_token.is_some() {
            State::Active
        } else {
            State::LoggedOut
        }
    }

    /// Whether every identity is anonymous (realm-core's rule); without a profile, whether the
    /// user logged in anonymously. A linked user has another identity and is no longer
    /// anonymous: it is kept on logout and not reused by anonymous logins.
    pub(crate) fn is_anonymous(&self) -> bool {
        let data = self.data.borrow();
        match data.profile.as_ref().map(|p| &p.identities) {
            Some(identities) if !identities.is_empty() => identities.iter().all(|i| i.provider_type == ANONYMOUS),
            _ => data.provider_type == ANONYMOUS,
        }
    }

    pub(crate) fn provider_type(&self) -> String {
        self.data.borrow().provider_type.clone()
    }

    pub(crate) fn identity_count(&self) -> usize {
        self.data.borrow().profile.as_ref().map_or(0, |p| p.identities.len())
    }

    pub(crate) fn identities(&self) -> Vec<Identity> {
        let data = self.data.borrow();
        data.profile.as_ref().map(|p| p.identities.clone()).unwrap_or_default()
    }

    /// The profile's `data`, when there is one.
    pub(crate) fn profile_data(&self) -> Option<JsValue> {
        self.data.borrow().profile.as_ref()?.data()
    }

    pub(crate) fn access_token(&self) -> Option<String> {
        self.data.borrow().access_token.clone()
    }

    pub(crate) fn refresh_token(&self) -> Option<String> {
        self.data.borrow().refresh_token.clone()
    }

    /// Takes the tokens and profile of a successful login.
    pub(crate) fn log_in(
        &self,
        provider_type: &str,
        access_token: String,
        refresh_token: String,
        profile: Option<Profile>,
    ) {
        let mut data = self.data.borrow_mut();
        provider_type.clone_into(&mut data.provider_type);
        data.access_token = Some(access_token);
        data.refresh_token = Some(refresh_token);
        // A login without a profile keeps the one we had: the identities did not change.
        if profile.is_some() {
            data.profile = profile;
        }
        data.removed = false;
        self.vanished.set(false);
        *self.backoff.borrow_mut() = None;
    }

    pub(crate) fn set_access_token(&self, token: String) {
        self.data.borrow_mut().access_token = Some(token);
    }

    pub(crate) fn set_profile(&self, profile: Profile) {
        self.data.borrow_mut().profile = Some(profile);
    }

    /// Takes what another tab (or `App`) stored for this user; the kind of change, if any.
    ///
    /// A new refresh token is a login elsewhere, none a logout; a new identity is a link; a new
    /// access token alone, a refresh.
    pub(crate) fn adopt(&self, stored: StoredUser) -> Option<Kind> {
        self.vanished.set(false);
        let profile = Profile::parse(stored.profile);
        let mut data = self.data.borrow_mut();
        let identities = |p: &Option<Profile>| p.as_ref().map_or(0, |p| p.identities.len());
        let kind = if data.refresh_token != stored.refresh_token {
            if stored.refresh_token.is_some() {
                Kind::Login
            } else {
                Kind::Logout
            }
        } else if identities(&data.profile) != identities(&profile) {
            Kind::Link
        } else if data.access_token != stored.access_token {
            Kind::Refresh
        } else if Profile::text(data.profile.as_ref()) != Profile::text(profile.as_ref()) {
            Kind::Storage
        } else {
            return None;
        };
        data.provider_type = stored.provider_type;
        data.access_token = stored.access_token;
        data.refresh_token = stored.refresh_token;
        data.profile = profile;
        Some(kind)
    }

    /// When the server will delete this anonymous user for inactivity, and how many seconds
    /// that is after the access token was issued: the access token's `anonymous_expires_at`
    /// claim or the profile's `expires_at`, whichever is later, against the token's `iat`.
    /// Both come from the server's clock, so a wrong clock here does not matter (SDK-8).
    pub(crate) fn expiry(&self) -> Option<(f64, f64)> {
        let data = self.data.borrow();
        let claims = jwt_claims(data.access_token.as_deref()?)?;
        let number = |value: &JsValue, key| json::get(value, key).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let from_profile = data.profile.as_ref().map_or(0.0, |p| number(&p.raw, "expires_at"));
        let expires = number(&claims, "anonymous_expires_at").max(from_profile);
        (expires > 0.0).then(|| (expires, expires - number(&claims, "iat")))
    }

    /// Forgets both tokens; the user becomes logged out (or, with `removed`, gone).
    pub(crate) fn end_session(&self, removed: bool) {
        let mut data = self.data.borrow_mut();
        data.access_token = None;
        data.refresh_token = None;
        data.removed |= removed;
    }
}

/// The claims of a JWT, decoded without checking anything (only the server can).
fn jwt_claims(token: &str) -> Option<JsValue> {
    let payload = token.as_bytes().split(|b| *b == b'.').nth(1)?;
    // base64url to the base64 `atob` reads (it does not need the padding).
    let base64: Vec<u8> = payload
        .iter()
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => *b,
        })
        .collect();
    let base64 = JsValue::from_str(core::str::from_utf8(&base64).ok()?);
    json::parse(&json::call(web_sys::window()?.as_ref(), "atob", &base64)?.as_string()?)
}

impl fmt::Debug for UserState {
    // By hand: the tokens must never be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserState").field("id", &self.id).field("state", &self.state()).finish_non_exhaustive()
    }
}
