//! The JavaScript surface: the only module with `#[wasm_bindgen]` exports, and the only place
//! errors become JS values.
//!
//! Each class is a thin handle around `Rc` state. Methods that do I/O are plain functions that
//! clone the `Rc`s and return a `Promise`, so no borrow of the handle outlives the call (an
//! `async fn(&self)` export keeps its object borrowed until the promise settles, and a page
//! reading `app.currentUser` meanwhile would fail with "recursive use of an object").
//!
//! Getters return JS values made here (with their TypeScript type written out) rather than
//! `String` or `Option`: a `String` return costs every getter a copy-and-free step in the glue,
//! and `Option` would type as `undefined` where realm-web's surface says `null`.

use alloc::rc::Rc;
use core::fmt;

use js_sys::{Function, Object, Promise, WeakRef};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::app::AppState;
use crate::credentials::Provider;
use crate::error::{Error, INVALID_ARGUMENT};
use crate::events::{Kind, Risk};
use crate::json;
use crate::persist;
use crate::session;
use crate::storage::Area;
use crate::user::UserState;

/// `identity-at-risk` / `expiring` fires from this long before the server's deletion (seconds).
const EXPIRY_WARNING: f64 = 7.0 * 24.0 * 3600.0;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** What `new App(...)` takes. */
export interface AppConfiguration {
  /** The app id, as the server knows it. */
  id: string;
  /** Where the server is, e.g. `"https://auth.example.com"`; defaults to the page's origin. */
  baseUrl?: string;
  /**
   * Where the users are kept: `"local"` (`localStorage`, the default: shared by the tabs, kept
   * across restarts), `"session"` (`sessionStorage`: this tab, until it closes) or `"memory"`
   * (this page, until it reloads). When that storage is missing or throws (private modes,
   * blocked storage, a full quota), the app keeps its users in memory instead and
   * `app.persistence.fallback` says so.
   */
  storage?: "local" | "session" | "memory";
  /**
   * `identity-at-risk` with reason `"expiring"` fires when the server will delete an anonymous
   * user for inactivity in less than this many seconds. Default: 7 days.
   */
  expiryWarningSeconds?: number;
}

/** Where the app's users live (`app.persistence`). */
export interface Persistence {
  /** The storage in use: the chosen one, or `"memory"` after a fallback. */
  storage: "local" | "session" | "memory";
  /** Whether the identity outlives the tab: only a working `localStorage`. */
  durable: boolean;
  /** Whether the chosen storage failed and memory replaced it. */
  fallback: boolean;
}

/** What a change listener is told about. */
export type ChangeKind =
  | "login" | "link" | "refresh" | "logout" | "removed" | "switch" | "storage" | "identity-at-risk";

/**
 * A change to a user, here or in another tab (`remote`: seen through storage, made by another
 * tab or another `App` of the page).
 * - `login`: the user got a new session; `link`: it gained an identity; `refresh`: a new
 *   access token; `logout`: its session ended and it stays listed, logged out; `removed`: it
 *   left the list (an anonymous user that logged out, `removeUser`, `deleteUser`, a refused
 *   refresh of an anonymous user); `switch`: it became `app.currentUser`; `storage`: its stored
 *   data changed otherwise (or vanished, for a user that can log in again).
 * - `identity-at-risk`: an anonymous user may be lost, so the page may want the reader to link
 *   it: it lives only in memory (`"memory"`), its stored data vanished while this tab still
 *   holds it (`"storage-cleared"`), or the server will delete it for inactivity at `expiresAt`
 *   (epoch seconds, `"expiring"`).
 */
export type ChangeEvent =
  | { kind: Exclude<ChangeKind, "identity-at-risk">; user: User; remote: boolean }
  | { kind: "identity-at-risk"; user: User; remote: boolean; reason: "memory" | "storage-cleared" }
  | { kind: "identity-at-risk"; user: User; remote: boolean; reason: "expiring"; expiresAt: number };

/** A change listener: called synchronously after the change; what it throws is ignored. */
export type ChangeListener = (event: ChangeEvent) => void;

/** What every promise of the SDK rejects with. */
export interface GuestpassError extends Error {
  name: "GuestpassError";
  /** The server's `error_code` (`"InvalidSession"`, `"TooManyRequests"`...) or a client code (`"NetworkError"`...). */
  code: string;
  /** The HTTP status; 0 without a response. */
  status: number;
  /** Seconds to wait before trying again (`TooManyRequests`, from `Retry-After`). */
  retryAfter?: number;
}

/** An enabled authentication provider, from `app.getAuthProviders()`. */
export interface AuthProvider {
  name: string;
  type: string;
}

/** One identity of a user. */
export interface UserIdentity {
  id: string;
  providerType: string;
}

/** `"active"`: has a session; `"logged-out"`: listed without tokens; `"removed"`: gone. */
export type UserState = "active" | "logged-out" | "removed";

/** The profile data the server keeps for a user, e.g. `{ email }` once an email is linked. */
export type UserProfile = { email?: string; name?: string } & Record<string, unknown>;

export interface User {
  /**
   * `fetch` with the user's access token, for the app's own API: a URL without a scheme is
   * taken relative to the app's `baseUrl`. After a `401` with `error_code: "InvalidSession"`
   * the token is refreshed and the request sent once more (its body must be re-sendable, e.g.
   * a string). Resolves with the `Response`, whatever its status, except when the token cannot
   * be refreshed: a `401` to the refresh ends the session (the user is logged out, an anonymous
   * one removed) and the promise rejects with `code: "InvalidSession"`, `status: 401`; any other
   * refresh failure (offline, a 5xx) keeps the session and rejects with that error. It also
   * rejects when no response comes (`code: "NetworkError"`), when the user is logged out
   * (`"NotLoggedIn"`) and when `input` is not a string (`"InvalidArgument"`).
   */
  fetch(input: string, init?: RequestInit): Promise<Response>;
}
"#;

/// An app on a guestpass (or App Services) server, and the users this browser holds for it.
#[wasm_bindgen]
pub struct App {
    state: Rc<AppState>,
}

#[wasm_bindgen]
impl App {
    /// Opens the app and restores its stored users, without any request. Stored data that
    /// cannot be read is dropped (never thrown); only a missing id or an unknown `storage`
    /// throws.
    ///
    /// Takes `{ id, baseUrl?, storage?, expiryWarningSeconds? }` or just the id; `baseUrl`
    /// defaults to the page's origin, `storage` to `"local"`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "AppConfiguration | string")] config: JsValue,
    ) -> Result<App, JsValue> {
        let id = config
            .as_string()
            .or_else(|| json::get_string(&config, "id"))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| to_js(Error::client(INVALID_ARGUMENT, "an app id is required")))?;
        let base_url = json::get_string(&config, "baseUrl")
            .or_else(|| json::get_string(&json::get(web_sys::window()?.as_ref(), "location")?, "origin"))
            .ok_or_else(|| to_js(Error::client(INVALID_ARGUMENT, "a baseUrl is required")))?;
        let area = match json::get_string(&config, "storage") {
            Some(name) => Area::parse(&name).ok_or_else(|| {
                to_js(Error::client(INVALID_ARGUMENT, "storage must be \"local\", \"session\" or \"memory\""))
            })?,
            None => Area::Local,
        };
        let warning = json::get(&config, "expiryWarningSeconds").and_then(|s| s.as_f64());
        let warning = warning.filter(|s| *s >= 0.0).unwrap_or(EXPIRY_WARNING);
        Ok(App { state: AppState::new(id, base_url.trim_end_matches('/'), area, warning) })
    }

    /// Where the users live, and whether that outlives the tab.
    #[wasm_bindgen(getter, unchecked_return_type = "Persistence")]
    pub fn persistence(&self) -> Object {
        let area = self.state.storage.area();
        let persistence = json::object();
        json::set(&persistence, "storage", &JsValue::from_str(area.as_str()));
        json::set(&persistence, "durable", &JsValue::from_bool(area == Area::Local));
        json::set(&persistence, "fallback", &JsValue::from_bool(self.state.storage.fell_back()));
        persistence
    }

    /// Asks the browser to keep the site's storage (`navigator.storage.persist()`); whether it
    /// is persistent. Resolves `false` without asking when the users are not in `localStorage`
    /// or the browser cannot say. Firefox may prompt the reader.
    #[wasm_bindgen(js_name = requestPersistentStorage, unchecked_return_type = "Promise<boolean>")]
    pub fn request_persistent_storage(&self) -> Promise {
        spawn(Call::Persist(self.state.clone()))
    }

    /// Calls `listener` with every change to the app's users (see `ChangeEvent`).
    #[wasm_bindgen(js_name = addListener)]
    pub fn add_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        self.state.listeners.add(listener);
    }

    /// Stops calling a listener added with `addListener`.
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        self.state.listeners.remove(&listener);
    }

    /// The app id.
    #[wasm_bindgen(getter, unchecked_return_type = "string")]
    pub fn id(&self) -> JsValue {
        JsValue::from_str(&self.state.id)
    }

    /// The most recently logged-in user that is still active, or `null`.
    #[wasm_bindgen(getter = currentUser, unchecked_return_type = "User | null")]
    pub fn current_user(&self) -> JsValue {
        match self.state.current_user() {
            Some(user) => handle(&self.state, &user),
            None => JsValue::NULL,
        }
    }

    /// Every user this browser holds for the app (active and logged out), by id.
    #[wasm_bindgen(getter = allUsers, unchecked_return_type = "Record<string, User>")]
    pub fn all_users(&self) -> Object {
        let users = json::object();
        for user in self.state.users() {
            json::set(&users, &user.id, &handle(&self.state, &user));
        }
        users
    }

    /// Logs in. `Credentials.anonymous()` returns the stored anonymous user when there is an
    /// active one, without any request; otherwise it makes one request and stores the user.
    #[wasm_bindgen(js_name = logIn, unchecked_return_type = "Promise<User>")]
    pub fn log_in(&self, credentials: &Credentials) -> Promise {
        spawn(Call::LogIn(self.state.clone(), credentials.provider.clone()))
    }

    /// Makes an active user of this app the current one (listeners hear `switch`).
    #[wasm_bindgen(js_name = switchUser)]
    pub fn switch_user(&self, user: &User) -> Result<(), JsValue> {
        if self.state.switch_user(&user.user.id) {
            return Ok(());
        }
        Err(to_js(Error::client(INVALID_ARGUMENT, "the user is not logged in to this app")))
    }

    /// Logs the user out and forgets it here, stored record included.
    #[wasm_bindgen(js_name = removeUser, unchecked_return_type = "Promise<void>")]
    pub fn remove_user(&self, user: &User) -> Promise {
        spawn(Call::LogOut(self.state.clone(), user.user.clone(), true))
    }

    /// Deletes the user on the server, then forgets it here.
    #[wasm_bindgen(js_name = deleteUser, unchecked_return_type = "Promise<void>")]
    pub fn delete_user(&self, user: &User) -> Promise {
        spawn(Call::DeleteUser(self.state.clone(), user.user.clone()))
    }

    /// Email/password accounts: registration, confirmation, password resets.
    #[wasm_bindgen(getter = emailPasswordAuth)]
    pub fn email_password_auth(&self) -> EmailPasswordAuth {
        EmailPasswordAuth { app: self.state.clone() }
    }

    /// The providers the server has enabled for this app (an app without `anon-user` cannot
    /// give anonymous users).
    #[wasm_bindgen(js_name = getAuthProviders, unchecked_return_type = "Promise<AuthProvider[]>")]
    pub fn get_auth_providers(&self) -> Promise {
        spawn(Call::GetAuthProviders(self.state.clone()))
    }
}

/// What to log in with.
#[wasm_bindgen]
pub struct Credentials {
    provider: Provider,
}

#[wasm_bindgen]
impl Credentials {
    /// Anonymous credentials. With `reuse` (the default), logging in returns the stored active
    /// anonymous user if there is one; `anonymous(false)` always makes a new user.
    pub fn anonymous(reuse: Option<bool>) -> Credentials {
        Credentials { provider: Provider::Anonymous { reuse: reuse.unwrap_or(true) } }
    }

    /// An email/password account's credentials (`local-userpass`).
    #[wasm_bindgen(js_name = emailPassword)]
    pub fn email_password(
        #[wasm_bindgen(unchecked_param_type = "string")] email: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] password: JsValue,
    ) -> Credentials {
        Credentials { provider: Provider::EmailPassword { email, password } }
    }

    /// A JWT from the app's own backend (`custom-token`).
    pub fn jwt(#[wasm_bindgen(unchecked_param_type = "string")] token: JsValue) -> Credentials {
        Credentials { provider: Provider::Jwt { token } }
    }

    /// The provider type, e.g. `"anon-user"`.
    #[wasm_bindgen(getter = providerType, unchecked_return_type = "string")]
    pub fn provider_type(&self) -> JsValue {
        JsValue::from_str(self.provider.provider_type())
    }
}

/// `app.emailPasswordAuth`: the email/password account routes (sent without a token).
#[wasm_bindgen]
pub struct EmailPasswordAuth {
    app: Rc<AppState>,
}

#[wasm_bindgen]
impl EmailPasswordAuth {
    /// Registers an account.
    #[wasm_bindgen(js_name = registerUser, unchecked_return_type = "Promise<void>")]
    pub fn register_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ email: string; password: string }")] details: JsValue,
    ) -> Promise {
        spawn(Call::Userpass(self.app.clone(), "register", details, &["email", "password"]))
    }

    /// Confirms an account with its confirmation link's `token` and `tokenId`.
    #[wasm_bindgen(js_name = confirmUser, unchecked_return_type = "Promise<void>")]
    pub fn confirm_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ token: string; tokenId: string }")] details: JsValue,
    ) -> Promise {
        spawn(Call::Userpass(self.app.clone(), "confirm", details, &["token", "tokenId"]))
    }

    /// Sends the confirmation email again.
    #[wasm_bindgen(js_name = resendConfirmationEmail, unchecked_return_type = "Promise<void>")]
    pub fn resend_confirmation_email(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ email: string }")] details: JsValue,
    ) -> Promise {
        spawn(Call::Userpass(self.app.clone(), "confirm/send", details, &["email"]))
    }

    /// Sends a password-reset email.
    #[wasm_bindgen(js_name = sendResetPasswordEmail, unchecked_return_type = "Promise<void>")]
    pub fn send_reset_password_email(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ email: string }")] details: JsValue,
    ) -> Promise {
        spawn(Call::Userpass(self.app.clone(), "reset/send", details, &["email"]))
    }

    /// Sets a new password with the reset link's `token` and `tokenId`.
    #[wasm_bindgen(js_name = resetPassword, unchecked_return_type = "Promise<void>")]
    pub fn reset_password(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ token: string; tokenId: string; password: string }")] details: JsValue,
    ) -> Promise {
        spawn(Call::Userpass(self.app.clone(), "reset", details, &["token", "tokenId", "password"]))
    }
}

/// A user of an app. The page gets one `User` object per user (while it holds it), whose state
/// follows every login, refresh, link and logout.
#[wasm_bindgen]
pub struct User {
    app: Rc<AppState>,
    user: Rc<UserState>,
}

#[wasm_bindgen]
impl User {
    /// The user id (24 hex digits).
    #[wasm_bindgen(getter, unchecked_return_type = "string")]
    pub fn id(&self) -> JsValue {
        JsValue::from_str(&self.user.id)
    }

    /// `"active"`, `"logged-out"` or `"removed"`.
    #[wasm_bindgen(getter, unchecked_return_type = "UserState")]
    pub fn state(&self) -> JsValue {
        JsValue::from_str(self.user.state().as_str())
    }

    /// Whether all of the user's identities are anonymous.
    #[wasm_bindgen(getter = isAnonymous)]
    pub fn is_anonymous(&self) -> bool {
        self.user.is_anonymous()
    }

    /// The provider of the user's last login, e.g. `"anon-user"`.
    #[wasm_bindgen(getter = providerType, unchecked_return_type = "string")]
    pub fn provider_type(&self) -> JsValue {
        JsValue::from_str(&self.user.provider_type())
    }

    /// The user's profile data (e.g. `{ email }`), `{}` when none; a copy.
    #[wasm_bindgen(getter, unchecked_return_type = "UserProfile")]
    pub fn profile(&self) -> Object {
        let copy = json::object();
        if let Some(data) = self.user.profile_data() {
            Object::assign(&copy, data.unchecked_ref());
        }
        copy
    }

    /// The user's identities, from its profile.
    #[wasm_bindgen(getter, unchecked_return_type = "UserIdentity[]")]
    pub fn identities(&self) -> js_sys::Array {
        let list = js_sys::Array::new();
        for identity in self.user.identities() {
            let object = json::object();
            json::set(&object, "id", &JsValue::from_str(&identity.id));
            json::set(&object, "providerType", &JsValue::from_str(&identity.provider_type));
            list.push(&object);
        }
        list
    }

    /// The access token, or `null` when logged out.
    #[wasm_bindgen(getter = accessToken, unchecked_return_type = "string | null")]
    pub fn access_token(&self) -> JsValue {
        json::string_or_null(self.user.access_token().as_deref())
    }

    /// The refresh token, or `null` when logged out.
    #[wasm_bindgen(getter = refreshToken, unchecked_return_type = "string | null")]
    pub fn refresh_token(&self) -> JsValue {
        json::string_or_null(self.user.refresh_token().as_deref())
    }

    /// Logs out: the tokens are forgotten here whatever happens, then the server is told. An
    /// anonymous user is removed (it can never log back in); others stay listed, logged out.
    /// Rejects if the server could not be told (the session then lives on there until it
    /// expires), though the user is logged out locally all the same.
    #[wasm_bindgen(js_name = logOut, unchecked_return_type = "Promise<void>")]
    pub fn log_out(&self) -> Promise {
        spawn(Call::LogOut(self.app.clone(), self.user.clone(), false))
    }

    /// Adds the credentials' identity to this user, which keeps its id. On failure (`code`:
    /// `AccountNameInUse`, `InvalidPassword`...) the user is left as it was.
    #[wasm_bindgen(js_name = linkCredentials, unchecked_return_type = "Promise<void>")]
    pub fn link_credentials(&self, credentials: &Credentials) -> Promise {
        spawn(Call::Link(self.app.clone(), self.user.clone(), credentials.provider.clone()))
    }

    /// `fetch` with the user's access token (see TYPES).
    // Typed in TYPES above: wasm-bindgen drops the `?` of an optional parameter with a type.
    #[wasm_bindgen(skip_typescript)]
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        spawn(Call::Fetch(self.app.clone(), self.user.clone(), input, init))
    }

    /// Gets a new access token with the refresh token. A refused refresh token logs the user
    /// out (and removes an anonymous user).
    #[wasm_bindgen(js_name = refreshAccessToken, unchecked_return_type = "Promise<void>")]
    pub fn refresh_access_token(&self) -> Promise {
        spawn(Call::RefreshAccessToken(self.app.clone(), self.user.clone()))
    }

    /// Fetches the user's profile (and so its identities) from the server.
    #[wasm_bindgen(js_name = refreshProfile, unchecked_return_type = "Promise<void>")]
    pub fn refresh_profile(&self) -> Promise {
        spawn(Call::RefreshProfile(self.app.clone(), self.user.clone()))
    }

    /// Calls `listener` with every change to this user (the same events as `app.addListener`),
    /// whichever `User` object or tab made it.
    #[wasm_bindgen(js_name = addListener)]
    pub fn add_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        self.user.listeners.add(listener);
    }

    /// Stops calling a listener added with `addListener`.
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        self.user.listeners.remove(&listener);
    }
}

/// An operation behind a promise-returning method.
///
/// All of them run through one `async fn` and one `future_to_promise`: each generic instance of
/// the promise machinery costs code size (docs/PERFORMANCE.md), so the surface shares one.
enum Call {
    LogIn(Rc<AppState>, Provider),
    GetAuthProviders(Rc<AppState>),
    /// `logOut`, or `removeUser` when set.
    LogOut(Rc<AppState>, Rc<UserState>, bool),
    DeleteUser(Rc<AppState>, Rc<UserState>),
    RefreshAccessToken(Rc<AppState>, Rc<UserState>),
    RefreshProfile(Rc<AppState>, Rc<UserState>),
    Link(Rc<AppState>, Rc<UserState>, Provider),
    /// `user.fetch` with the page's URL and `RequestInit`.
    Fetch(Rc<AppState>, Rc<UserState>, JsValue, JsValue),
    /// An `emailPasswordAuth` route, the page's argument and the fields it must have.
    Userpass(Rc<AppState>, &'static str, JsValue, &'static [&'static str]),
    /// `requestPersistentStorage`.
    Persist(Rc<AppState>),
}

/// Runs `call` as a JS promise, converting its error.
fn spawn(call: Call) -> Promise {
    future_to_promise(async move { run(call).await.map_err(to_js) })
}

async fn run(call: Call) -> Result<JsValue, Error> {
    match call {
        Call::LogIn(app, provider) => {
            let user = app.log_in(&provider).await?;
            return Ok(handle(&app, &user));
        }
        Call::GetAuthProviders(app) => return Ok(app.auth_providers().await?.into()),
        Call::LogOut(app, user, remove) => session::log_out(&app, &user, remove).await?,
        Call::DeleteUser(app, user) => session::delete_user(&app, &user).await?,
        Call::RefreshAccessToken(app, user) => session::refresh_access_token(&app, &user).await?,
        Call::RefreshProfile(app, user) => session::refresh_profile(&app, &user).await?,
        Call::Link(app, user, provider) => session::link(&app, &user, &provider).await?,
        Call::Fetch(app, user, input, init) => {
            let input = input.as_string().ok_or_else(|| Error::client(INVALID_ARGUMENT, "the URL must be a string"))?;
            let url = app.resolve(&input);
            return Ok(session::fetch(&app, &user, &url, &init).await?.into());
        }
        Call::Userpass(app, route, details, fields) => {
            // Only the fields the route takes are sent (the server checks their types).
            let body = json::object();
            for field in fields {
                let value =
                    json::get(&details, field).ok_or_else(|| Error::client(INVALID_ARGUMENT, "a field is missing"))?;
                json::set(&body, field, &value);
            }
            app.userpass(route, &body).await?
        }
        Call::Persist(app) => {
            let local = app.storage.area() == Area::Local;
            return Ok(JsValue::from_bool(local && persist::persist().await));
        }
    }
    Ok(JsValue::UNDEFINED)
}

/// The page's `User` object for `user`: the one handed out before while the page still holds it
/// (a `WeakRef` in `user.handle`), so `app.currentUser === user` holds as in realm-web.
fn handle(app: &Rc<AppState>, user: &Rc<UserState>) -> JsValue {
    let weak = user.handle.borrow().clone();
    if !weak.is_undefined() {
        if let Some(object) = weak.unchecked_into::<WeakRef>().deref() {
            return object.into();
        }
    }
    let object: JsValue = User { app: app.clone(), user: user.clone() }.into();
    *user.handle.borrow_mut() = WeakRef::new(object.unchecked_ref::<Object>()).into();
    object
}

/// The event object listeners get (typed `ChangeEvent` in TYPES).
pub(crate) fn event(app: &Rc<AppState>, kind: Kind, user: &Rc<UserState>, remote: bool) -> JsValue {
    let event = json::object();
    json::set(&event, "kind", &JsValue::from_str(kind.as_str()));
    json::set(&event, "user", &handle(app, user));
    json::set(&event, "remote", &JsValue::from_bool(remote));
    if let Kind::AtRisk(risk) = kind {
        json::set(&event, "reason", &JsValue::from_str(risk.as_str()));
        if let Risk::Expiring(at) = risk {
            json::set(&event, "expiresAt", &JsValue::from(at));
        }
    }
    event.into()
}

/// The JS face of an [`Error`]: an `Error` named `GuestpassError` with `code`, `status` and,
/// when the server said how long to wait, `retryAfter` (typed `GuestpassError` in TYPES).
fn to_js(error: Error) -> JsValue {
    let js = js_sys::Error::new(&error.message);
    js.set_name("GuestpassError");
    json::set(&js, "code", &JsValue::from_str(&error.code));
    json::set(&js, "status", &JsValue::from(error.status));
    if let Some(seconds) = error.retry_after {
        json::set(&js, "retryAfter", &JsValue::from(seconds));
    }
    js.into()
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("id", &self.state.id).finish()
    }
}

impl fmt::Debug for Credentials {
    // By hand: credentials carry passwords and tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("providerType", &self.provider.provider_type()).finish_non_exhaustive()
    }
}

impl fmt::Debug for EmailPasswordAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailPasswordAuth").field("app", &self.app.id).finish()
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.user.fmt(f)
    }
}
