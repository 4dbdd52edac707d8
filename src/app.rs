//! One app: its server routes, its users (most recently logged in first), their storage, and
//! the listeners told about changes.
//!
//! The user list is read from storage when the app is made, written through on every change,
//! and read again when another tab or `App` of the page changes it ([`AppState::sync`]), so a
//! reloaded page, a second `App` or another tab starts where the last one left off, with no
//! request.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use guestpass_protocol::answers::{AuthProvider, SessionAnswer};
use guestpass_protocol::page::{StorageArea, UserStatus};
use guestpass_protocol::passkey::{PasskeyChallenge, AUTHENTICATION_ROUTE, PASSKEY};
use guestpass_protocol::CLIENT_API;

use crate::browser;
use crate::codec::{self, JsData};
use crate::credentials::Provider;
use crate::error::{Error, Result, INVALID_ARGUMENT};
use crate::events::{Change, Kind, Risk, Sink};
use crate::locks;
use crate::passkey;
use crate::storage::Storage;
use crate::tabs;
use crate::transport::{request, Outgoing, Verb};
use crate::user::UserState;

/// The longest a lock holder waits for its predecessor's writes to reach this tab (see
/// [`AppState::settle`]): they take milliseconds; only a predecessor that failed (and so wrote
/// nothing) makes it wait this long.
const SETTLE_MS: f64 = 1000.0;

thread_local! {
    /// Every app made in this page (dropped ones are pruned as apps are added), so that a
    /// `storage` event, or a write by one of them, reaches the others.
    static APPS: RefCell<Vec<Weak<AppState>>> = const { RefCell::new(Vec::new()) };
}

/// An app and the users this browser holds for it.
pub(crate) struct AppState {
    pub id: String,
    /// The base URL, without a trailing slash.
    base_url: String,
    /// The base URL's origin: the only one `user.fetch` sends the token to by default.
    origin: String,
    pub(crate) storage: Storage,
    /// Active and logged-out users, most recently logged in first; removed users leave it.
    users: RefCell<Vec<Rc<UserState>>>,
    /// Where changes are reported (set by the JS layer).
    sink: Sink,
    /// `identity-at-risk` / `expiring` fires when the server will delete an anonymous user in
    /// less than this many seconds.
    expiry_warning: f64,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("id", &self.id).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// How an app is made.
#[derive(Debug)]
pub(crate) struct AppOptions {
    pub id: String,
    pub base_url: String,
    pub area: StorageArea,
    pub expiry_warning: f64,
}

impl AppState {
    /// The app of `options`, with the users stored for it (in memory when the chosen storage
    /// cannot be used); changes go to `sink`. Refuses a base URL that would send tokens in
    /// the clear (see [`check_base_url`]).
    pub(crate) fn new(options: AppOptions, sink: Sink) -> Result<Rc<AppState>> {
        let base_url = options.base_url.trim_end_matches('/');
        let origin = origin_of(base_url).ok_or_else(|| Error::client(INVALID_ARGUMENT, "baseUrl is not a URL"))?;
        if !check_base_url(&origin) {
            return Err(Error::client(
                INVALID_ARGUMENT,
                "baseUrl must be https: (http: only for localhost, 127.0.0.1 and [::1])",
            ));
        }
        let storage = Storage::new(&options.id, options.area);
        let users = storage.users(true).into_iter().map(|(id, stored)| UserState::restore(id, stored)).collect();
        let app = Rc::new(AppState {
            id: options.id,
            base_url: base_url.to_owned(),
            origin,
            storage,
            users: RefCell::new(users),
            sink,
            expiry_warning: options.expiry_warning,
        });
        join(&app);
        Ok(app)
    }

    /// The most recently logged-in user that is still active.
    pub(crate) fn current_user(&self) -> Option<Rc<UserState>> {
        self.users.borrow().iter().find(|user| user.is_active()).cloned()
    }

    /// Every listed user, most recently logged in first.
    pub(crate) fn users(&self) -> Vec<Rc<UserState>> {
        self.users.borrow().clone()
    }

    /// Logs in with `provider`, or returns the stored anonymous user when the credentials allow
    /// reuse (then without any request: the stored session is good until the server says
    /// otherwise).
    ///
    /// One anonymous user per browser profile: when no anonymous user is known here, the login
    /// runs under the app's `anonymous-login` Web Lock, which first reads storage again (another
    /// tab or `App` may have stored one while this one waited) and only then logs in. Tabs
    /// opened together on a first visit thus make one request and share its user.
    pub(crate) async fn log_in(&self, provider: &Provider) -> Result<Rc<UserState>> {
        let mut lock = None;
        if provider.reuses_anonymous() {
            if let Some(user) = self.reuse_anonymous() {
                return Ok(user);
            }
            let held = lock.insert(locks::acquire(&self.storage.key("anonymous-login"), true).await);
            self.sync();
            if self.settle(held, &|| self.has_anonymous()).await {
                if let Some(user) = self.reuse_anonymous() {
                    return Ok(user);
                }
            }
        }
        let user = self.log_in_now(provider).await?;
        if let Some(lock) = &mut lock {
            lock.wrote();
        }
        Ok(user)
    }

    /// Whether an active anonymous user is listed.
    fn has_anonymous(&self) -> bool {
        self.users.borrow().iter().any(|user| user.is_active() && user.is_anonymous())
    }

    /// Under a lock another holder had first: gives that holder's writes up to [`SETTLE_MS`] to
    /// reach this tab's `localStorage` (Chromium carries them to other processes after the
    /// lock is handed over), until `arrived` says what the holder was to store is here. Returns
    /// `arrived()`. Each `storage` event has already synced the app when this looks again.
    pub(crate) async fn settle(&self, lock: &locks::Lock, arrived: &dyn Fn() -> bool) -> bool {
        let deadline = js_sys::Date::now() + SETTLE_MS;
        loop {
            let left = deadline - js_sys::Date::now();
            if arrived() || !lock.waited || left <= 0.0 || self.storage.area() != StorageArea::Local {
                return arrived();
            }
            tabs::storage_event(left).await;
        }
    }

    /// The listed active anonymous user, made current.
    fn reuse_anonymous(&self) -> Option<Rc<UserState>> {
        let user = self.users.borrow().iter().find(|user| user.is_active() && user.is_anonymous()).cloned()?;
        self.make_current(&user);
        Some(user)
    }

    async fn log_in_now(&self, provider: &Provider) -> Result<Rc<UserState>> {
        let device_id = self.storage.device_id();
        let body = match provider {
            Provider::Passkey => self.passkey_assertion(device_id.clone()).await?,
            _ => codec::to_text(&provider.login_body(device_id.clone())),
        };
        let url = self.login_url(provider);
        let outgoing = Outgoing::Protocol { method: Verb::Post, url: &url, link: false, body: Some(&body) };
        let answer: SessionAnswer<JsData> =
            request(&outgoing, None).await?.and_then(codec::from_js).ok_or_else(|| Error::invalid_response(200))?;
        self.take_login(provider, answer)
    }

    /// Stores the user a login answered (made current), and tells the listeners (`login`).
    pub(crate) fn take_login(&self, provider: &Provider, answer: SessionAnswer<JsData>) -> Result<Rc<UserState>> {
        let device_id = self.storage.device_id();
        // A login answer has a refresh token and a user id (`LoginAnswer`).
        let (Some(refresh_token), Some(user_id)) = (answer.refresh_token, answer.user_id) else {
            return Err(Error::invalid_response(200));
        };
        if let Some(new_device_id) = answer.device_id.filter(|id| device_id.as_ref() != Some(id)) {
            self.storage.set_device_id(&new_device_id);
        }
        // guestpass sends the profile with the login (docs/wire.md), saving a request.
        let known = self.find(&user_id);
        let user = known.unwrap_or_else(|| UserState::new(user_id, provider.provider_type()));
        user.log_in(provider.provider_type(), answer.access_token, refresh_token, answer.profile);
        self.save(&user);
        self.put_first(&user);
        self.emit(Kind::Login, &user, false);
        self.wrote();
        self.check_risks(&user);
        Ok(user)
    }

    /// A discoverable-passkey login up to its last request: `POST P/authentication` for a
    /// challenge, then the browser's account picker (src/passkey.rs); the body of `P/login`.
    /// Nothing is stored before that login answers, so a failure here changes nothing.
    pub(crate) async fn passkey_assertion(&self, device_id: Option<String>) -> Result<String> {
        passkey::require()?;
        let url = self.passkey_url(AUTHENTICATION_ROUTE);
        let start = Outgoing::Protocol { method: Verb::Post, url: &url, link: false, body: Some("{}") };
        let challenge: PasskeyChallenge<JsData> =
            request(&start, None).await?.and_then(codec::from_js).ok_or_else(|| Error::invalid_response(200))?;
        let credential = passkey::get(&challenge.public_key.0).await?;
        Ok(Provider::passkey_body(challenge.challenge_id, JsData(credential), device_id))
    }

    /// `A/auth/providers/passkey/<route>`: a passkey ceremony's start.
    pub(crate) fn passkey_url(&self, route: &str) -> String {
        [&self.app_url("/auth/providers/"), PASSKEY, "/", route].concat()
    }

    /// `GET A/auth/providers`.
    pub(crate) async fn auth_providers(&self) -> Result<Vec<AuthProvider>> {
        let url = self.app_url("/auth/providers");
        let answer = request(&Outgoing::route(Verb::Get, &url), None).await?;
        answer.and_then(codec::from_js).ok_or_else(|| Error::invalid_response(200))
    }

    /// `POST A/auth/providers/local-userpass/<route>` with the JSON `body`, no token (register,
    /// confirm, the reset and resend routes).
    pub(crate) async fn userpass(&self, route: &str, body: &str) -> Result<()> {
        let url = [&self.app_url("/auth/providers/local-userpass/"), route].concat();
        request(&Outgoing::Protocol { method: Verb::Post, url: &url, link: false, body: Some(body) }, None)
            .await
            .map(drop)
    }

    /// Makes the listed active user `id` the current one; `false` when there is none.
    pub(crate) fn switch_user(&self, id: &str) -> bool {
        let listed = self.users.borrow().iter().find(|user| user.id == id && user.is_active()).cloned();
        listed.map(|user| self.make_current(&user)).is_some()
    }

    /// Puts `user` first, telling the page's other apps and the listeners (`switch`) if it was
    /// not current.
    fn make_current(&self, user: &Rc<UserState>) {
        let current = self.current_user();
        self.put_first(user);
        self.wrote();
        self.switched(&current, false);
    }

    /// `switch` for the current user, when there is one and it is not `before`; the new current
    /// user then.
    fn switched(&self, before: &Option<Rc<UserState>>, remote: bool) -> Option<Rc<UserState>> {
        let now = self.current_user().filter(|now| !before.as_ref().is_some_and(|before| Rc::ptr_eq(before, now)))?;
        self.emit(Kind::Switch, &now, remote);
        Some(now)
    }

    /// Ends `user`'s session locally. With `remove`, and always for an anonymous user (nothing
    /// can log back in to it), the user is forgotten: unlisted and its record removed; any other
    /// user stays listed as logged out. Listeners hear `removed` or `logout`.
    /// If another listed user becomes current, listeners hear `switch` too.
    pub(crate) fn end_session(&self, user: &Rc<UserState>, remove: bool) {
        let remove = remove || user.is_anonymous();
        let was_active = user.is_active();
        let current = self.current_user();
        user.end_session(remove);
        if remove {
            self.users.borrow_mut().retain(|listed| listed.id != user.id);
            // The list first: a tab reading between the two writes sees a user removed on
            // purpose, never a record that vanished (see `sync`).
            self.save_list();
            self.storage.remove_user(&user.id);
        } else {
            self.save(user);
        }
        self.wrote();
        if remove {
            self.emit(Kind::Removed, user, false);
        } else if was_active {
            self.emit(Kind::Logout, user, false);
        }
        self.switched(&current, false);
    }

    /// Writes `user`'s record (unless it was removed meanwhile).
    fn save(&self, user: &UserState) {
        if user.state() != UserStatus::Removed {
            user.with_record(|record| self.storage.set_user(&user.id, record));
            user.vanished.set(false);
        }
    }

    /// Stores a change to `user` made here, tells the page's other apps and the listeners
    /// (`kind`, if the change is one they hear about), and checks the risks to the identity.
    pub(crate) fn commit(&self, user: &Rc<UserState>, kind: Option<Kind>) {
        self.save(user);
        if let Some(kind) = kind {
            self.emit(kind, user, false);
        }
        self.wrote();
        self.check_risks(user);
    }

    /// Catches up with what another tab or `App` stored, after a `storage` event or a sibling's
    /// write. The page's `User` objects are updated in place (they stay the same objects) and
    /// listeners hear each change, with `remote: true`. Nothing is written.
    ///
    /// How a user missing from storage is read: writers update the list before removing a
    /// record (and write a record before listing it), so a user the list no longer names was
    /// removed on purpose (a logout of an anonymous user, `removeUser`, `deleteUser`) and is
    /// removed here too. A user whose record vanished while the list still names it, or with the
    /// whole list gone (`localStorage.clear()`, devtools, a browser's cleanup), was not logged
    /// out by anyone: this tab keeps the session it holds (the user stays current, and is only
    /// in this page's memory) and says so once: `identity-at-risk` / `storage-cleared` for an
    /// anonymous user, `storage` for others. It is not written back by this, nor replaced by a
    /// new anonymous user; it is stored again only when the page uses it (a refresh, a link),
    /// so the page can ask the reader to link it before it is lost.
    pub(crate) fn sync(&self) {
        let ids = self.storage.user_ids();
        let current = self.current_user();
        let mut list: Vec<Rc<UserState>> = Vec::new();
        let mut changes: Vec<(Kind, Rc<UserState>)> = Vec::new();
        for id in ids.iter().flatten() {
            let Some(record) = self.storage.user(id) else {
                continue;
            };
            let user = match self.find(id) {
                Some(user) => {
                    if let Some(kind) = user.adopt(record) {
                        changes.push((kind, user.clone()));
                    }
                    user
                }
                None => {
                    let user = UserState::restore(id.clone(), record);
                    if user.is_active() {
                        changes.push((Kind::Login, user.clone()));
                    }
                    user
                }
            };
            list.push(user);
        }
        for user in self.users() {
            if list.iter().any(|listed| Rc::ptr_eq(listed, &user)) {
                continue;
            }
            let unlisted = ids.as_ref().is_some_and(|ids| !ids.contains(&user.id));
            if unlisted && !user.vanished.get() {
                user.end_session(true);
                changes.push((Kind::Removed, user));
            } else {
                if !user.vanished.replace(true) {
                    let anonymous = user.is_active() && user.is_anonymous();
                    let kind = if anonymous { Kind::AtRisk(Risk::StorageCleared) } else { Kind::Storage };
                    changes.push((kind, user.clone()));
                }
                list.push(user);
            }
        }
        *self.users.borrow_mut() = list;
        let mut told = false;
        let now = self.current_user();
        for (kind, user) in changes {
            told |= now.as_ref().is_some_and(|now| Rc::ptr_eq(now, &user));
            self.emit(kind, &user, true);
            if matches!(kind, Kind::Login | Kind::Link | Kind::Refresh) {
                self.check_risks(&user);
            }
        }
        if !told {
            self.switched(&current, true);
        }
    }

    /// Reports a change to `user`.
    pub(crate) fn emit(&self, kind: Kind, user: &Rc<UserState>, remote: bool) {
        (self.sink)(&Change { kind, user, remote });
    }

    /// `identity-at-risk` for an active anonymous user that lives only in memory (once), or
    /// that the server will delete within the warning threshold (once, until its expiry moves
    /// away again).
    fn check_risks(&self, user: &Rc<UserState>) {
        if !user.is_active() || !user.is_anonymous() {
            return;
        }
        if self.storage.area() == StorageArea::Memory && !user.warned_memory.replace(true) {
            self.emit(Kind::AtRisk(Risk::Memory), user, false);
        }
        if self.storage.area() == StorageArea::Local && browser::webkit() && !user.warned_capped.replace(true) {
            self.emit(Kind::AtRisk(Risk::StorageCapped), user, false);
        }
        if let Some((expires_at, left)) = user.expiry() {
            let near = left <= self.expiry_warning;
            if near && !user.warned.replace(true) {
                self.emit(Kind::AtRisk(Risk::Expiring(expires_at)), user, false);
            }
            user.warned.set(near);
        }
    }

    /// After this app wrote to storage: a storage that just refused a write is replaced by
    /// memory, where everything is written again (and anonymous users are now at risk); the
    /// page's other apps on the same storage catch up.
    fn wrote(&self) {
        if self.storage.take_dropped() {
            for user in self.users() {
                self.save(&user);
            }
            self.save_list();
            for user in self.users() {
                self.check_risks(&user);
            }
        }
        wrote(self);
    }

    /// The name of the app's Web Lock `name` for user `id`.
    pub(crate) fn lock_name(&self, name: &str, id: &str) -> String {
        [&self.storage.key(name), id].concat()
    }

    /// `C/auth/session`: refresh (POST) and logout (DELETE), with the refresh token.
    pub(crate) fn session_url(&self) -> String {
        self.client_url("/auth/session")
    }

    /// `C/auth/profile`, with the access token.
    pub(crate) fn profile_url(&self) -> String {
        self.client_url("/auth/profile")
    }

    /// `C/auth/delete`, with the access token.
    pub(crate) fn delete_url(&self) -> String {
        self.client_url("/auth/delete")
    }

    /// `A/auth/providers/<type>/login` (`?link=true` is added to link instead).
    pub(crate) fn login_url(&self, provider: &Provider) -> String {
        [&self.app_url("/auth/providers/"), provider.provider_type(), "/login"].concat()
    }

    /// The device id the server gave this browser, sent with logins and links.
    pub(crate) fn device_id(&self) -> Option<String> {
        self.storage.device_id()
    }

    /// A page's URL for `user.fetch`: one without a scheme is taken relative to the base URL
    /// (`/api/blog/posts` → `{baseUrl}/api/blog/posts`), as the SDK's own routes are; any other
    /// is used as it is.
    pub(crate) fn resolve(&self, input: &str) -> String {
        resolve(&self.base_url, input)
    }

    /// Whether `url` (as [`AppState::resolve`] made it) is on the base URL's origin, where the
    /// access token may go without the page asking.
    pub(crate) fn same_origin(&self, url: &str) -> bool {
        web_sys::Url::new_with_base(url, &self.base_url).is_ok_and(|url| url.origin() == self.origin)
    }

    fn find(&self, id: &str) -> Option<Rc<UserState>> {
        self.users.borrow().iter().find(|user| user.id == id).cloned()
    }

    /// Makes `user` the most recently logged in.
    fn put_first(&self, user: &Rc<UserState>) {
        {
            let mut users = self.users.borrow_mut();
            users.retain(|listed| listed.id != user.id);
            users.insert(0, user.clone());
        }
        self.save_list();
    }

    fn save_list(&self) {
        let ids = self.users.borrow().iter().map(|user| user.id.clone()).collect();
        self.storage.set_user_ids(ids);
    }

    /// `C{path}`: `{baseUrl}/api/client/v2.0{path}`.
    fn client_url(&self, path: &str) -> String {
        [&self.base_url, CLIENT_API, path].concat()
    }

    /// `A{path}`: `C/app/{id}{path}`.
    fn app_url(&self, path: &str) -> String {
        [&self.client_url("/app/"), &String::from(js_sys::encode_uri_component(&self.id)), path].concat()
    }
}

/// Registers a new app; the first one starts following the page's `storage` events.
fn join(app: &Rc<AppState>) {
    let first = APPS.with_borrow_mut(|apps| {
        apps.retain(|known| known.strong_count() > 0);
        apps.push(Rc::downgrade(app));
        apps.len() == 1
    });
    if first {
        tabs::listen(|key| {
            for app in apps() {
                if app.storage.watches(key) {
                    app.sync();
                }
            }
        });
    }
}

/// `app` changed its storage: the page's other apps on the same storage catch up.
fn wrote(app: &AppState) {
    for other in apps() {
        if !std::ptr::eq(&*other, app) && other.storage.shares(&app.storage) {
            other.sync();
        }
    }
}

/// The live apps, copied out so that syncing one (which reports changes, which may make apps)
/// does not hold the registry.
fn apps() -> Vec<Rc<AppState>> {
    APPS.with_borrow(|apps| apps.iter().filter_map(Weak::upgrade).collect())
}

/// The origin of an absolute URL.
fn origin_of(url: &str) -> Option<String> {
    web_sys::Url::new(url).ok().map(|url| url.origin())
}

/// Whether tokens may be sent to `origin`: over https, or over http to this machine only.
fn check_base_url(origin: &str) -> bool {
    if origin.starts_with("https://") {
        return true;
    }
    let Some(host) = origin.strip_prefix("http://") else {
        return false;
    };
    // The origin ends with the host (and a port, when not the scheme's).
    let host = match host.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// `input` taken relative to `base` (no trailing slash) unless it has a scheme or a host.
fn resolve(base: &str, input: &str) -> String {
    // A scheme is what comes before the first `:`, if no `/` comes first.
    let scheme = input.bytes().find(|b| *b == b':' || *b == b'/') == Some(b':');
    if scheme || input.starts_with("//") {
        return input.to_owned();
    }
    [base, "/", input.trim_start_matches('/')].concat()
}

#[cfg(test)]
mod tests {
    use super::{check_base_url, resolve};

    #[test]
    fn page_urls_without_a_scheme_are_under_the_base_url() {
        let base = "https://auth.example.com/blog";
        assert_eq!(resolve(base, "/api/blog/posts?page=2"), "https://auth.example.com/blog/api/blog/posts?page=2");
        assert_eq!(resolve(base, "api/blog/posts"), "https://auth.example.com/blog/api/blog/posts");
        assert_eq!(resolve(base, "/a:b"), "https://auth.example.com/blog/a:b");
        assert_eq!(resolve(base, "https://api.example.com/x"), "https://api.example.com/x");
        assert_eq!(resolve(base, "//cdn.example.com/x"), "//cdn.example.com/x");
    }

    #[test]
    fn tokens_go_over_https_or_to_this_machine_only() {
        for origin in ["https://auth.example.com", "https://auth.example.com:8443", "http://localhost:8080"] {
            assert!(check_base_url(origin), "{origin}");
        }
        for origin in ["http://127.0.0.1:45123", "http://[::1]:8080", "http://localhost"] {
            assert!(check_base_url(origin), "{origin}");
        }
        for origin in ["http://example.com", "http://localhost.example.com", "http://127.0.0.2", "null", "ftp://x"] {
            assert!(!check_base_url(origin), "{origin}");
        }
    }
}
