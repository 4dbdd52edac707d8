//! The JavaScript surface: the only module with `#[wasm_bindgen]` exports, and the only place
//! JS values are made for the page (through serde-wasm-bindgen and the protocol's page shapes)
//! and errors become JS values.
//!
//! Each class is a thin handle around `Rc` state. Methods that do I/O clone the `Rc`s and return
//! a `Promise`, so no borrow of the handle outlives the call (an `async fn(&self)` export keeps
//! its object borrowed until the promise settles, and a page reading `app.currentUser`
//! meanwhile would fail with "recursive use of an object").
//!
//! Getters return JS values made here (with their TypeScript type written out) rather than
//! `Option`, which would type as `undefined` where realm-web's surface says `null`.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use guestpass_protocol::bodies::{Confirmation, EmailOnly, PasswordReset, Registration};
use guestpass_protocol::merge::MergeAnswer;
use guestpass_protocol::page::{
    AccountDetails, AppConfiguration, ChangeEvent, ChangeKind, ErrorFields, FetchOptions, LogInOptions, Persistence,
    RiskReason, StorageArea, UserIdentity,
};
use guestpass_protocol::Secret;
use js_sys::{Array, Function, Object, Promise, WeakRef};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::app::{AppOptions, AppState};
use crate::browser;
use crate::codec::{self, JsData};
use crate::credentials::Provider;
use crate::error::{Error, Result, INVALID_ARGUMENT};
use crate::events::{Change, Kind, Risk};
use crate::merge;
use crate::passkey;
use crate::persist;
use crate::session;
use crate::transport::Outgoing;
use crate::user::UserState;

/// `identity-at-risk` / `expiring` fires from this long before the server's deletion (seconds).
const EXPIRY_WARNING: f64 = 7.0 * 24.0 * 3600.0;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** What `user.fetch` takes in `init` besides `fetch`'s own options. */
export interface FetchOptions {
  /**
   * Send the access token with this request even though its URL is not on `baseUrl`'s origin.
   * Default `false`: a page's request to another origin never carries the token.
   */
  sendTokenToOtherOrigins?: boolean;
}

/** What `new App(...)` takes. */
export interface AppConfiguration {
  /** The app id, as the server knows it. */
  id: string;
  /**
   * Where the server is, e.g. `"https://auth.example.com"`; defaults to the page's origin. It
   * must be `https:`, or `http:` on `localhost`, `127.0.0.1` or `[::1]` (`InvalidArgument`
   * otherwise): tokens never travel in the clear.
   */
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
 *   holds it (`"storage-cleared"`), it is in `localStorage` in WebKit (Safari, iOS browsers),
 *   which deletes that storage after seven days without a visit (`"storage-capped"`), or the
 *   server will delete it for inactivity at `expiresAt` (epoch seconds, `"expiring"`).
 */
export type ChangeEvent =
  | { kind: Exclude<ChangeKind, "identity-at-risk">; user: User; remote: boolean }
  | { kind: "identity-at-risk"; user: User; remote: boolean; reason: "memory" | "storage-cleared" | "storage-capped" }
  | { kind: "identity-at-risk"; user: User; remote: boolean; reason: "expiring"; expiresAt: number };

/** A change listener: called synchronously after the change; what it throws is ignored. */
export type ChangeListener = (event: ChangeEvent) => void;

/** What every promise of the SDK rejects with. */
export interface GuestpassError extends Error {
  name: "GuestpassError";
  /**
   * The server's `error_code` (`"InvalidSession"`, `"TooManyRequests"`, `"PasskeyChallengeInvalid"`...)
   * or a client code (`"NetworkError"`...). A passkey ceremony adds the browser's answers, with
   * status 0: `"PasskeyCancelled"` (the reader dismissed the prompt, or the authenticator refused),
   * `"PasskeyUnsupported"` (see `app.passkeysSupported`), `"PasskeyAlreadyRegistered"` (the
   * authenticator already holds one of the user's passkeys) and `"PasskeyFailed"` (any other
   * refusal, e.g. a relying party id that does not fit the page; the message names it).
   */
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

/** What `app.logIn` takes besides the credentials. */
export interface LogInOptions {
  /**
   * When the current user is anonymous: log in to the existing account and bring the guest's
   * data along. The login is sent with the anonymous user's access token, the server answers a
   * merge proof, and `app.pendingMerge` (and the resolved user's `merge`) holds it until the
   * page calls `complete()` (after its backend moved the data) or `abandon()`. The anonymous
   * user stays stored, no longer current, until then; a reload finds the merge again. Without
   * an anonymous current user this is a plain login (`pendingMerge` stays `null`). Default
   * `false`: `logIn` as without options.
   */
  mergeAnonymous?: boolean;
}

export interface App {
  /**
   * Logs in. `Credentials.anonymous()` returns the stored anonymous user when there is an
   * active one, without any request; otherwise it makes one request and stores the user. See
   * `LogInOptions` for `mergeAnonymous`.
   */
  logIn(credentials: Credentials, options?: LogInOptions): Promise<User>;
}

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
   *
   * The access token goes only to URLs on `baseUrl`'s origin: a request to any other origin is
   * sent without it (and without the refresh-and-retry), unless `init` says
   * `sendTokenToOtherOrigins: true` for that call.
   */
  fetch(input: string, init?: RequestInit & FetchOptions): Promise<Response>;
}
"#;

/// An app on a guestpass (or App Services) server, and the users this browser holds for it.
#[wasm_bindgen]
pub struct App {
    state: Rc<AppState>,
    listeners: Rc<Listeners>,
}

#[wasm_bindgen]
impl App {
    /// Opens the app and restores its stored users, without any request. Stored data that
    /// cannot be read is dropped (never thrown); options that are missing or of the wrong type,
    /// an unknown `storage` and a `baseUrl` that is not https (nor this machine) throw
    /// `InvalidArgument`.
    ///
    /// Takes `{ id, baseUrl?, storage?, expiryWarningSeconds? }` or just the id; `baseUrl`
    /// defaults to the page's origin, `storage` to `"local"`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "AppConfiguration | string")] config: JsValue,
    ) -> std::result::Result<App, JsValue> {
        App::open(config).map_err(to_js_error)
    }

    fn open(config: JsValue) -> Result<App> {
        let config = match config.as_string() {
            Some(id) => AppConfiguration { id, base_url: None, storage: None, expiry_warning_seconds: None },
            None => codec::from_js(config).ok_or_else(|| {
                Error::client(INVALID_ARGUMENT, "expected { id, baseUrl?, storage?, expiryWarningSeconds? }")
            })?,
        };
        if config.id.is_empty() {
            return Err(Error::client(INVALID_ARGUMENT, "an app id is required"));
        }
        let base_url = config
            .base_url
            .or_else(|| web_sys::window()?.location().origin().ok())
            .ok_or_else(|| Error::client(INVALID_ARGUMENT, "a baseUrl is required"))?;
        let options = AppOptions {
            id: config.id,
            base_url,
            area: config.storage.unwrap_or(StorageArea::Local),
            expiry_warning: config.expiry_warning_seconds.filter(|s| *s >= 0.0).unwrap_or(EXPIRY_WARNING),
        };
        let listeners = Rc::new(Listeners::default());
        // The sink reports the app's changes to the page; it needs the app to hand out `User`
        // objects, and the app needs the sink: it learns its app right after.
        let me: Rc<RefCell<Weak<AppState>>> = Rc::default();
        let sink = {
            let (listeners, me) = (listeners.clone(), me.clone());
            Box::new(move |change: &Change<'_>| {
                if let Some(app) = me.borrow().upgrade() {
                    report(&app, &listeners, change);
                }
            })
        };
        let state = AppState::new(options, sink)?;
        *me.borrow_mut() = Rc::downgrade(&state);
        Ok(App { state, listeners })
    }

    /// Where the users live, and whether that outlives the tab.
    #[wasm_bindgen(getter, unchecked_return_type = "Persistence")]
    pub fn persistence(&self) -> JsValue {
        let storage = self.state.storage.area();
        let durable = storage == StorageArea::Local;
        codec::to_js(&Persistence { storage, durable, fallback: self.state.storage.fell_back() })
    }

    /// The Web Platform features the SDK does without in this browser, each a way it falls back:
    /// `"web-locks"` (no `navigator.locks`: tabs may each log in once, then converge),
    /// `"storage-persist"` (no `navigator.storage.persist`, as in WebKitGTK:
    /// `requestPersistentStorage` resolves `false` without asking).
    #[wasm_bindgen(getter, unchecked_return_type = "Array<\"web-locks\" | \"storage-persist\">")]
    pub fn fallbacks(&self) -> Array {
        let list = Array::new();
        for (name, missing) in
            [("web-locks", browser::navigator("locks").is_none()), ("storage-persist", !persist::available())]
        {
            if missing {
                list.push(&name.into());
            }
        }
        list
    }

    /// Whether this browser can make and use passkeys here: WebAuthn with its JSON helpers
    /// (`PublicKeyCredential.parseCreationOptionsFromJSON`...), in a secure context (https, or
    /// http on localhost). A property, read without a prompt or a request; when `false`,
    /// `Credentials.passkey()` rejects with `PasskeyUnsupported` (the server's `getAuthProviders`
    /// says whether the app allows passkeys at all).
    #[wasm_bindgen(getter = passkeysSupported)]
    pub fn passkeys_supported(&self) -> bool {
        passkey::supported()
    }

    /// Asks the browser to keep the site's storage (`navigator.storage.persist()`); whether it
    /// is persistent. Resolves `false` without asking when the users are not in `localStorage`
    /// or the browser cannot say. Firefox may prompt the reader.
    #[wasm_bindgen(js_name = requestPersistentStorage, unchecked_return_type = "Promise<boolean>")]
    pub fn request_persistent_storage(&self) -> Promise {
        let local = self.state.storage.area() == StorageArea::Local;
        promise(async move { Ok(JsValue::from_bool(local && persist::persist().await)) })
    }

    /// Calls `listener` with every change to the app's users (see `ChangeEvent`).
    #[wasm_bindgen(js_name = addListener)]
    pub fn add_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        self.listeners.add(listener);
    }

    /// Stops calling a listener added with `addListener`.
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        self.listeners.remove(&listener);
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
        let users = Object::new();
        for user in self.state.users() {
            browser::set(&users, &user.id, &handle(&self.state, &user));
        }
        users
    }

    /// Logs in. `Credentials.anonymous()` returns the stored anonymous user when there is an
    /// active one, without any request; otherwise it makes one request and stores the user.
    /// With `{ mergeAnonymous: true }` and an anonymous current user, the login brings the
    /// guest's data along (see `LogInOptions`, docs/merge.md).
    /// `Credentials.passkey()` opens the browser's passkey picker (two requests around it) and
    /// resolves with the passkey's owner; a dismissed prompt rejects with `PasskeyCancelled`
    /// and changes nothing here.
    // Typed in TYPES above: wasm-bindgen drops the `?` of an optional parameter with a type.
    #[wasm_bindgen(js_name = logIn, skip_typescript)]
    pub fn log_in(&self, credentials: &Credentials, options: JsValue) -> Promise {
        let (app, provider) = (self.state.clone(), credentials.provider.clone());
        let merging = if options.is_undefined() || options.is_null() {
            Some(false)
        } else {
            codec::from_js::<LogInOptions>(options).map(|options| options.merge_anonymous)
        };
        promise(async move {
            let merging = merging.ok_or_else(|| Error::client(INVALID_ARGUMENT, "mergeAnonymous must be a boolean"))?;
            let user = if merging { merge::log_in(&app, &provider).await?.0 } else { app.log_in(&provider).await? };
            Ok(handle(&app, &user))
        })
    }

    /// The merge a `logIn` with `mergeAnonymous` left pending, until `complete()` or
    /// `abandon()`; found again after a reload. `null` when there is none.
    #[wasm_bindgen(getter = pendingMerge, unchecked_return_type = "PendingMerge | null")]
    pub fn pending_merge(&self) -> JsValue {
        pending_merge(&self.state, None)
    }

    /// Makes an active user of this app the current one (listeners hear `switch`).
    #[wasm_bindgen(js_name = switchUser)]
    pub fn switch_user(&self, user: &User) -> std::result::Result<(), JsValue> {
        if self.state.switch_user(&user.user.id) {
            return Ok(());
        }
        Err(to_js_error(Error::client(INVALID_ARGUMENT, "the user is not logged in to this app")))
    }

    /// Logs the user out and forgets it here, stored record included.
    #[wasm_bindgen(js_name = removeUser, unchecked_return_type = "Promise<void>")]
    pub fn remove_user(&self, user: &User) -> Promise {
        let (app, user) = (self.state.clone(), user.user.clone());
        promise(async move { done(session::log_out(&app, &user, true).await) })
    }

    /// Deletes the user on the server, then forgets it here.
    #[wasm_bindgen(js_name = deleteUser, unchecked_return_type = "Promise<void>")]
    pub fn delete_user(&self, user: &User) -> Promise {
        let (app, user) = (self.state.clone(), user.user.clone());
        promise(async move { done(session::delete_user(&app, &user).await) })
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
        let app = self.state.clone();
        promise(async move { Ok(codec::to_js(&app.auth_providers().await?)) })
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
    pub fn email_password(email: String, password: String) -> Credentials {
        Credentials { provider: Provider::EmailPassword { email, password: Secret::new(password) } }
    }

    /// A JWT from the app's own backend (`custom-token`).
    pub fn jwt(token: String) -> Credentials {
        Credentials { provider: Provider::Jwt { token: Secret::new(token) } }
    }

    /// A passkey (`passkey`). `user.linkCredentials(Credentials.passkey())` creates one for the
    /// user (the browser's prompt) and links it: the user keeps its id and is no longer
    /// anonymous. `app.logIn(Credentials.passkey())` signs in with one of the site's passkeys
    /// (the browser's account picker, no username). See `app.passkeysSupported`.
    pub fn passkey() -> Credentials {
        Credentials { provider: Provider::Passkey }
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
        self.send("register", details, |d| {
            Some(codec::to_text(&Registration { email: d.email?, password: d.password? }))
        })
    }

    /// Confirms an account with its confirmation link's `token` and `tokenId`.
    #[wasm_bindgen(js_name = confirmUser, unchecked_return_type = "Promise<void>")]
    pub fn confirm_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ token: string; tokenId: string }")] details: JsValue,
    ) -> Promise {
        self.send("confirm", details, |d| {
            Some(codec::to_text(&Confirmation { token: d.token?, token_id: d.token_id? }))
        })
    }

    /// Sends the confirmation email again.
    #[wasm_bindgen(js_name = resendConfirmationEmail, unchecked_return_type = "Promise<void>")]
    pub fn resend_confirmation_email(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ email: string }")] details: JsValue,
    ) -> Promise {
        self.send("confirm/send", details, |d| Some(codec::to_text(&EmailOnly { email: d.email? })))
    }

    /// Sends a password-reset email.
    #[wasm_bindgen(js_name = sendResetPasswordEmail, unchecked_return_type = "Promise<void>")]
    pub fn send_reset_password_email(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ email: string }")] details: JsValue,
    ) -> Promise {
        self.send("reset/send", details, |d| Some(codec::to_text(&EmailOnly { email: d.email? })))
    }

    /// Sets a new password with the reset link's `token` and `tokenId`.
    #[wasm_bindgen(js_name = resetPassword, unchecked_return_type = "Promise<void>")]
    pub fn reset_password(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ token: string; tokenId: string; password: string }")] details: JsValue,
    ) -> Promise {
        self.send("reset", details, |d| {
            Some(codec::to_text(&PasswordReset { token: d.token?, token_id: d.token_id?, password: d.password? }))
        })
    }
}

impl EmailPasswordAuth {
    /// `POST A/auth/providers/local-userpass/<route>` with the body `make` builds from the
    /// page's `details`: only the fields the route takes are sent, and a missing or mistyped
    /// one is `InvalidArgument` without a request.
    fn send(&self, route: &'static str, details: JsValue, make: fn(AccountDetails) -> Option<String>) -> Promise {
        let body = codec::from_js::<AccountDetails>(details).and_then(make);
        let app = self.app.clone();
        promise(async move {
            let body = body.ok_or_else(|| Error::client(INVALID_ARGUMENT, "a field is missing or not a string"))?;
            done(app.userpass(route, &body).await)
        })
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
        codec::to_js(&self.user.state())
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
        let copy = Object::new();
        if let Some(data) = self.user.profile_data() {
            Object::assign(&copy, data.0.unchecked_ref());
        }
        copy
    }

    /// The user's identities, from its profile.
    #[wasm_bindgen(getter, unchecked_return_type = "UserIdentity[]")]
    pub fn identities(&self) -> JsValue {
        self.user.with_identities(|identities| {
            let list: Vec<UserIdentity<'_>> =
                identities.iter().map(|i| UserIdentity { id: &i.id, provider_type: &i.provider_type }).collect();
            codec::to_js(&list)
        })
    }

    /// The access token, or `null` when logged out.
    #[wasm_bindgen(getter = accessToken, unchecked_return_type = "string | null")]
    pub fn access_token(&self) -> JsValue {
        string_or_null(self.user.access_token())
    }

    /// The refresh token, or `null` when logged out.
    #[wasm_bindgen(getter = refreshToken, unchecked_return_type = "string | null")]
    pub fn refresh_token(&self) -> JsValue {
        string_or_null(self.user.refresh_token())
    }

    /// Logs out: the tokens are forgotten here whatever happens, then the server is told. An
    /// anonymous user is removed (it can never log back in); others stay listed, logged out.
    /// Rejects if the server could not be told (the session then lives on there until it
    /// expires), though the user is logged out locally all the same.
    #[wasm_bindgen(js_name = logOut, unchecked_return_type = "Promise<void>")]
    pub fn log_out(&self) -> Promise {
        let (app, user) = (self.app.clone(), self.user.clone());
        promise(async move { done(session::log_out(&app, &user, false).await) })
    }

    /// The pending merge into this user (`app.pendingMerge` when its `into` is this user's id),
    /// or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "PendingMerge | null")]
    pub fn merge(&self) -> JsValue {
        pending_merge(&self.app, Some(&self.user.id))
    }

    /// Adds the credentials' identity to this user, which keeps its id. On failure (`code`:
    /// `AccountNameInUse`, `InvalidPassword`, `PasskeyCancelled`...) the user is left as it was.
    /// With `Credentials.passkey()`, the browser first asks the reader to create a passkey.
    #[wasm_bindgen(js_name = linkCredentials, unchecked_return_type = "Promise<void>")]
    pub fn link_credentials(&self, credentials: &Credentials) -> Promise {
        let (app, user, provider) = (self.app.clone(), self.user.clone(), credentials.provider.clone());
        promise(async move { done(session::link(&app, &user, &provider).await) })
    }

    /// `fetch` with the user's access token (see TYPES).
    // Typed in TYPES above: wasm-bindgen drops the `?` of an optional parameter with a type.
    #[wasm_bindgen(skip_typescript)]
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let (app, user) = (self.app.clone(), self.user.clone());
        promise(async move {
            let input = input.as_string().ok_or_else(|| Error::client(INVALID_ARGUMENT, "the URL must be a string"))?;
            let options = if init.is_undefined() || init.is_null() {
                FetchOptions::default()
            } else {
                codec::from_js(init.clone())
                    .ok_or_else(|| Error::client(INVALID_ARGUMENT, "sendTokenToOtherOrigins must be a boolean"))?
            };
            let url = app.resolve(&input);
            let with_token = options.send_token_to_other_origins || app.same_origin(&url);
            let outgoing = Outgoing::Page { url: &url, init: &init };
            Ok(session::page_fetch(&app, &user, &outgoing, with_token).await?.into())
        })
    }

    /// Gets a new access token with the refresh token. A refused refresh token logs the user
    /// out (and removes an anonymous user).
    #[wasm_bindgen(js_name = refreshAccessToken, unchecked_return_type = "Promise<void>")]
    pub fn refresh_access_token(&self) -> Promise {
        let (app, user) = (self.app.clone(), self.user.clone());
        promise(async move { done(session::refresh_access_token(&app, &user).await) })
    }

    /// Fetches the user's profile (and so its identities) from the server.
    #[wasm_bindgen(js_name = refreshProfile, unchecked_return_type = "Promise<void>")]
    pub fn refresh_profile(&self) -> Promise {
        let (app, user) = (self.app.clone(), self.user.clone());
        promise(async move { done(session::refresh_profile(&app, &user).await) })
    }

    /// Calls `listener` with every change to this user (the same events as `app.addListener`),
    /// whichever `User` object or tab made it.
    #[wasm_bindgen(js_name = addListener)]
    pub fn add_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        page_user(&self.user).listeners.add(listener);
    }

    /// Stops calling a listener added with `addListener`.
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, #[wasm_bindgen(unchecked_param_type = "ChangeListener")] listener: Function) {
        page_user(&self.user).listeners.remove(&listener);
    }
}

/// A merge waiting for the page: the guest's id (`from`), the account's (`into`) and the proof
/// to hand to the app's backend (docs/merge.md).
// `Debug` shows the ids, never the proof (a `Secret`).
#[wasm_bindgen]
#[derive(Debug)]
pub struct PendingMerge {
    app: Rc<AppState>,
    merge: MergeAnswer,
}

#[wasm_bindgen]
impl PendingMerge {
    /// The anonymous user whose data moves.
    #[wasm_bindgen(getter = from, unchecked_return_type = "string")]
    pub fn from_id(&self) -> JsValue {
        JsValue::from_str(&self.merge.from)
    }

    /// The account it moves into: the user the login signed in.
    #[wasm_bindgen(getter = into, unchecked_return_type = "string")]
    pub fn into_id(&self) -> JsValue {
        JsValue::from_str(&self.merge.into)
    }

    /// The signed proof (a JWT, `typ: "merge"`, minutes long), for the app's backend.
    #[wasm_bindgen(getter, unchecked_return_type = "string")]
    pub fn proof(&self) -> JsValue {
        JsValue::from_str(self.merge.proof.expose())
    }

    /// After the backend moved the data: deletes the anonymous user on the server and here,
    /// and forgets the merge. On failure (offline...) the merge stays pending, to try again.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn complete(&self) -> Promise {
        let (app, merge) = (self.app.clone(), self.merge.clone());
        promise(async move { done(merge::complete(&app, &merge).await) })
    }

    /// Forgets the merge without deleting anyone: the anonymous user stays listed here, logged
    /// in, not current (`app.switchUser` brings it back, `app.removeUser` drops it).
    pub fn abandon(&self) {
        merge::forget(&self.app, &self.merge);
    }
}

/// The stored pending merge as a `PendingMerge`, if any (and if `into` it is `into`).
fn pending_merge(app: &Rc<AppState>, into: Option<&str>) -> JsValue {
    match merge::pending(app).filter(|merge| into.is_none_or(|into| merge.into == into)) {
        Some(merge) => JsValue::from(PendingMerge { app: app.clone(), merge }),
        None => JsValue::NULL,
    }
}

/// Runs `work` as a JS promise, its error as a `GuestpassError`.
fn promise(work: impl Future<Output = Result<JsValue>> + 'static) -> Promise {
    spawn(Box::pin(work))
}

/// One instance of the promise machinery for every method (a generic `future_to_promise` per
/// method cost about 1 to 4 KB each before compression): each method's future is boxed.
#[inline(never)]
fn spawn(work: Pin<Box<dyn Future<Output = Result<JsValue>>>>) -> Promise {
    future_to_promise(async move { work.await.map_err(to_js_error) })
}

/// `undefined` for an operation that resolves with nothing.
fn done(outcome: Result<()>) -> Result<JsValue> {
    outcome.map(|()| JsValue::UNDEFINED)
}

fn string_or_null(value: Option<String>) -> JsValue {
    value.map_or(JsValue::NULL, |value| JsValue::from_str(&value))
}

/// What the page's side keeps for one user (in `UserState::page`).
#[derive(Debug, Default)]
struct PageUser {
    /// A `WeakRef` to the page's `User` object, so that every getter, login and event hands
    /// out the same object while the page holds it (`app.currentUser === user`, as in
    /// realm-web).
    handle: RefCell<Option<WeakRef>>,
    /// `user.addListener` callbacks.
    listeners: Listeners,
}

/// The page's side of `user`, made on first use.
fn page_user(user: &UserState) -> Rc<PageUser> {
    let mut slot = user.page.borrow_mut();
    if let Some(page) = slot.as_ref().and_then(|page| page.clone().downcast::<PageUser>().ok()) {
        return page;
    }
    let page = Rc::new(PageUser::default());
    *slot = Some(page.clone() as Rc<dyn Any>);
    page
}

/// The page's `User` object for `user`: the one handed out before while the page still holds it.
fn handle(app: &Rc<AppState>, user: &Rc<UserState>) -> JsValue {
    let page = page_user(user);
    if let Some(object) = page.handle.borrow().as_ref().and_then(WeakRef::deref) {
        return object.into();
    }
    let object: JsValue = User { app: app.clone(), user: user.clone() }.into();
    *page.handle.borrow_mut() = Some(WeakRef::new(object.unchecked_ref::<Object>()));
    object
}

/// Tells the app's and the user's listeners about a change, as a `ChangeEvent` object.
fn report(app: &Rc<AppState>, listeners: &Listeners, change: &Change<'_>) {
    let (kind, reason, expires_at) = match change.kind {
        Kind::Login => (ChangeKind::Login, None, None),
        Kind::Link => (ChangeKind::Link, None, None),
        Kind::Refresh => (ChangeKind::Refresh, None, None),
        Kind::Logout => (ChangeKind::Logout, None, None),
        Kind::Removed => (ChangeKind::Removed, None, None),
        Kind::Switch => (ChangeKind::Switch, None, None),
        Kind::Storage => (ChangeKind::Storage, None, None),
        Kind::AtRisk(Risk::Memory) => (ChangeKind::IdentityAtRisk, Some(RiskReason::Memory), None),
        Kind::AtRisk(Risk::StorageCleared) => (ChangeKind::IdentityAtRisk, Some(RiskReason::StorageCleared), None),
        Kind::AtRisk(Risk::StorageCapped) => (ChangeKind::IdentityAtRisk, Some(RiskReason::StorageCapped), None),
        Kind::AtRisk(Risk::Expiring(at)) => (ChangeKind::IdentityAtRisk, Some(RiskReason::Expiring), Some(at)),
    };
    let user = JsData(handle(app, change.user));
    let event = codec::to_js(&ChangeEvent { kind, user, remote: change.remote, reason, expires_at });
    listeners.call(&event);
    page_user(change.user).listeners.call(&event);
}

/// Callbacks, called in the order they were added; adding one twice has no effect.
#[derive(Debug, Default)]
struct Listeners(RefCell<Vec<Function>>);

impl Listeners {
    fn add(&self, listener: Function) {
        let mut list = self.0.borrow_mut();
        if !list.contains(&listener) {
            list.push(listener);
        }
    }

    fn remove(&self, listener: &Function) {
        self.0.borrow_mut().retain(|known| known != listener);
    }

    /// Calls each listener with `event`; the list is copied first, so a listener may add or
    /// remove listeners. What a listener throws is ignored (the others still run).
    fn call(&self, event: &JsValue) {
        let list = self.0.borrow().clone();
        for listener in list {
            let _ = listener.call1(&JsValue::NULL, event);
        }
    }
}

/// The JS face of an [`Error`]: an `Error` named `GuestpassError` with `code`, `status` and,
/// when the server said how long to wait, `retryAfter` (typed `GuestpassError` in TYPES).
fn to_js_error(error: Error) -> JsValue {
    let js = js_sys::Error::new(&error.message);
    js.set_name("GuestpassError");
    let fields = ErrorFields { code: &error.code, status: error.status, retry_after: error.retry_after };
    Object::assign(&js, codec::to_js(&fields).unchecked_ref());
    js.into()
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("id", &self.state.id).finish()
    }
}

impl fmt::Debug for Credentials {
    // The provider's `Debug` shows no secret (they are the protocol's `Secret`s).
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
