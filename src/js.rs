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

use std::fmt;
use std::rc::Rc;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::app::AppState;
use crate::credentials::Provider;
use crate::error::{Error, INVALID_ARGUMENT};
use crate::json;
use crate::session;
use crate::user::UserState;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** What `new App(...)` takes. */
export interface AppConfiguration {
  /** The app id, as the server knows it. */
  id: string;
  /** Where the server is, e.g. `"https://auth.example.com"`; defaults to the page's origin. */
  baseUrl?: string;
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
"#;

/// An app on a guestpass (or App Services) server, and the users this browser holds for it.
#[wasm_bindgen]
pub struct App {
    state: Rc<AppState>,
}

#[wasm_bindgen]
impl App {
    /// Opens the app and restores its stored users, without any request.
    ///
    /// Takes `{ id, baseUrl? }` or just the id; `baseUrl` defaults to the page's origin.
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
            .or_else(|| web_sys::window()?.location().origin().ok())
            .ok_or_else(|| to_js(Error::client(INVALID_ARGUMENT, "a baseUrl is required")))?;
        Ok(App { state: Rc::new(AppState::new(id, base_url.trim_end_matches('/'))) })
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
            Some(user) => self.user(user).into(),
            None => JsValue::NULL,
        }
    }

    /// Every user this browser holds for the app (active and logged out), by id.
    #[wasm_bindgen(getter = allUsers, unchecked_return_type = "Record<string, User>")]
    pub fn all_users(&self) -> Object {
        let users = json::object();
        for user in self.state.users() {
            let id = user.id.clone();
            json::set(&users, &id, &self.user(user).into());
        }
        users
    }

    /// Logs in. `Credentials.anonymous()` returns the stored anonymous user when there is an
    /// active one, without any request; otherwise it makes one request and stores the new user.
    #[wasm_bindgen(js_name = logIn, unchecked_return_type = "Promise<User>")]
    pub fn log_in(&self, credentials: &Credentials) -> Promise {
        spawn(Call::LogIn(self.state.clone(), credentials.provider.clone()))
    }

    /// The providers the server has enabled for this app (an app without `anon-user` cannot
    /// give anonymous users).
    #[wasm_bindgen(js_name = getAuthProviders, unchecked_return_type = "Promise<AuthProvider[]>")]
    pub fn get_auth_providers(&self) -> Promise {
        spawn(Call::GetAuthProviders(self.state.clone()))
    }

    fn user(&self, user: Rc<UserState>) -> User {
        User { app: self.state.clone(), user }
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

    /// The provider type, e.g. `"anon-user"`.
    #[wasm_bindgen(getter = providerType, unchecked_return_type = "string")]
    pub fn provider_type(&self) -> JsValue {
        JsValue::from_str(self.provider.provider_type())
    }
}

/// A user of an app. Several `User` objects for one user share its state.
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
        spawn(Call::LogOut(self.app.clone(), self.user.clone()))
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
}

/// An operation behind a promise-returning method.
///
/// All of them run through one `async fn` and one `future_to_promise`: each generic instance of
/// the promise machinery costs code size (docs/PERFORMANCE.md), so the surface shares one.
enum Call {
    LogIn(Rc<AppState>, Provider),
    GetAuthProviders(Rc<AppState>),
    LogOut(Rc<AppState>, Rc<UserState>),
    RefreshAccessToken(Rc<AppState>, Rc<UserState>),
    RefreshProfile(Rc<AppState>, Rc<UserState>),
}

/// Runs `call` as a JS promise, converting its error.
fn spawn(call: Call) -> Promise {
    future_to_promise(async move { run(call).await.map_err(to_js) })
}

async fn run(call: Call) -> Result<JsValue, Error> {
    match call {
        Call::LogIn(app, provider) => {
            let user = app.log_in(&provider).await?;
            return Ok(User { app, user }.into());
        }
        Call::GetAuthProviders(app) => return Ok(app.auth_providers().await?.into()),
        Call::LogOut(app, user) => session::log_out(&app, &user).await?,
        Call::RefreshAccessToken(app, user) => session::refresh_access_token(&app, &user).await?,
        Call::RefreshProfile(app, user) => session::refresh_profile(&app, &user).await?,
    }
    Ok(JsValue::UNDEFINED)
}

/// The JS face of an [`Error`]: an `Error` named `GuestpassError` with `code` and `status`.
fn to_js(error: Error) -> JsValue {
    let js = js_sys::Error::new(&error.message);
    js.set_name("GuestpassError");
    json::set(&js, "code", &JsValue::from_str(&error.code));
    json::set(&js, "status", &JsValue::from(error.status));
    js.into()
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("id", &self.state.id).finish()
    }
}

impl fmt::Debug for Credentials {
    // By hand: future credentials carry passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("providerType", &self.provider.provider_type()).finish_non_exhaustive()
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.user.fmt(f)
    }
}
