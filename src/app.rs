//! One app: its server routes, its users (most recently logged in first) and their storage.
//!
//! The user list is read from storage once, when the app is made, and written through on every
//! change, so a reloaded page (or a second `App` made later in the same page) starts where the
//! last one left off, with no request.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::credentials::Provider;
use crate::error::{Error, Result};
use crate::json;
use crate::storage::Storage;
use crate::transport::{request, Method};
use crate::user::{Profile, State, UserState};

/// The client API prefix (`C` in wire.md).
const CLIENT_API: &str = "/api/client/v2.0";

/// An app and the users this browser holds for it.
#[derive(Debug)]
pub(crate) struct AppState {
    pub id: String,
    /// `{baseUrl}/api/client/v2.0`
    client_url: String,
    storage: Storage,
    /// Active and logged-out users, most recently logged in first; removed users leave it.
    users: RefCell<Vec<Rc<UserState>>>,
}

impl AppState {
    /// The app `id` served at `base_url` (no trailing slash), with the users stored for it.
    pub(crate) fn new(id: String, base_url: &str) -> AppState {
        let storage = Storage::new(&id);
        let users = storage.users().into_iter().map(|(id, stored)| UserState::restore(id, stored)).collect();
        let mut client_url = String::with_capacity(base_url.len() + CLIENT_API.len());
        client_url.push_str(base_url);
        client_url.push_str(CLIENT_API);
        AppState { id, client_url, storage, users: RefCell::new(users) }
    }

    /// The most recently logged-in user that is still active.
    pub(crate) fn current_user(&self) -> Option<Rc<UserState>> {
        self.users.borrow().iter().find(|user| user.state() == State::Active).cloned()
    }

    /// Every listed user, most recently logged in first.
    pub(crate) fn users(&self) -> Vec<Rc<UserState>> {
        self.users.borrow().clone()
    }

    /// Logs in with `provider`, or returns the stored anonymous user when the credentials allow
    /// reuse (then without any request: the stored session is good until the server says
    /// otherwise).
    pub(crate) async fn log_in(&self, provider: &Provider) -> Result<Rc<UserState>> {
        if provider.reuses_anonymous() {
            let stored =
                self.users.borrow().iter().find(|user| user.state() == State::Active && user.is_anonymous()).cloned();
            if let Some(user) = stored {
                self.put_first(&user);
                return Ok(user);
            }
        }

        let device_id = self.storage.device_id();
        let body = provider.login_body(device_id.as_deref());
        let url = self.login_url(provider, false);
        let answer =
            request(Method::Post, &url, None, Some(&body)).await?.ok_or_else(|| Error::invalid_response(200))?;
        let field = |key| json::get_string(&answer, key);
        let (Some(user_id), Some(access_token), Some(refresh_token)) =
            (field("user_id"), field("access_token"), field("refresh_token"))
        else {
            return Err(Error::invalid_response(200));
        };
        if let Some(new_device_id) = field("device_id") {
            if device_id.as_ref() != Some(&new_device_id) {
                self.storage.set_device_id(&new_device_id);
            }
        }
        // guestpass sends the profile with the login (wire.md), saving a request.
        let profile = json::get(&answer, "profile").and_then(Profile::parse);

        let known = self.users.borrow().iter().find(|user| user.id == user_id).cloned();
        let user = known.unwrap_or_else(|| UserState::new(user_id, provider.provider_type()));
        user.log_in(provider.provider_type(), access_token, refresh_token, profile);
        self.save(&user);
        self.put_first(&user);
        Ok(user)
    }

    /// `GET A/auth/providers`, as plain `{name, type}` objects.
    pub(crate) async fn auth_providers(&self) -> Result<Array> {
        let answer = request(Method::Get, &self.app_url("/auth/providers"), None, None).await?;
        let list = answer.as_ref().and_then(json::as_array).ok_or_else(|| Error::invalid_response(200))?;
        let providers = Array::new();
        for entry in list.iter() {
            let (Some(name), Some(kind)) = (json::get_string(&entry, "name"), json::get_string(&entry, "type")) else {
                return Err(Error::invalid_response(200));
            };
            let provider = json::object();
            json::set(&provider, "name", &JsValue::from_str(&name));
            json::set(&provider, "type", &JsValue::from_str(&kind));
            providers.push(&provider);
        }
        Ok(providers)
    }

    /// `POST A/auth/providers/local-userpass/<route>` with `body`, no token (register, confirm,
    /// the reset and resend routes).
    pub(crate) async fn userpass(&self, route: &str, body: &JsValue) -> Result<()> {
        let mut url = self.app_url("/auth/providers/local-userpass/");
        url.push_str(route);
        request(Method::Post, &url, None, Some(body)).await.map(drop)
    }

    /// Makes the listed active user `id` the current one; `false` when there is none.
    pub(crate) fn switch_user(&self, id: &str) -> bool {
        let listed = self.users.borrow().iter().find(|user| user.id == id && user.state() == State::Active).cloned();
        listed.map(|user| self.put_first(&user)).is_some()
    }

    /// Ends `user`'s session locally. With `remove`, and always for an anonymous user (nothing
    /// can log back in to it), the user is forgotten: unlisted and its record removed; any other
    /// user stays listed as logged out.
    pub(crate) fn end_session(&self, user: &UserState, remove: bool) {
        let remove = remove || user.is_anonymous();
        user.end_session(remove);
        if remove {
            self.users.borrow_mut().retain(|listed| listed.id != user.id);
            self.storage.remove_user(&user.id);
            self.save_list();
        } else {
            self.save(user);
        }
    }

    /// Writes `user`'s record (unless it was removed meanwhile).
    pub(crate) fn save(&self, user: &UserState) {
        if user.state() != State::Removed {
            self.storage.set_user(&user.id, &user.stored());
        }
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

    /// `A/auth/providers/<type>/login`, with `?link=true` to link instead.
    pub(crate) fn login_url(&self, provider: &Provider, link: bool) -> String {
        let mut url = self.app_url("/auth/providers/");
        url.push_str(provider.provider_type());
        url.push_str(if link { "/login?link=true" } else { "/login" });
        url
    }

    /// The device id the server gave this browser, sent with logins and links.
    pub(crate) fn device_id(&self) -> Option<String> {
        self.storage.device_id()
    }

    /// A page's URL for `user.fetch`: one without a scheme is taken relative to the base URL
    /// (`/api/blog/posts` → `{baseUrl}/api/blog/posts`), as the SDK's own routes are; any other
    /// is used as it is.
    pub(crate) fn resolve(&self, input: &str) -> String {
        resolve(self.client_url.strip_suffix(CLIENT_API).unwrap_or_default(), input)
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
        let users = self.users.borrow();
        self.storage.set_user_ids(users.iter().map(|user| user.id.as_str()));
    }

    fn client_url(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.client_url.len() + path.len() + 40);
        url.push_str(&self.client_url);
        url.push_str(path);
        url
    }

    /// `A{path}`: `C/app/{id}{path}`.
    fn app_url(&self, path: &str) -> String {
        let mut url = self.client_url("/app/");
        url.push_str(&String::from(js_sys::encode_uri_component(&self.id)));
        url.push_str(path);
        url
    }
}

/// `input` taken relative to `base` (no trailing slash) unless it has a scheme or a host.
fn resolve(base: &str, input: &str) -> String {
    // A scheme is what comes before the first `:`, if no `/` comes first.
    let scheme = input.bytes().find(|b| *b == b':' || *b == b'/') == Some(b':');
    if scheme || input.starts_with("//") {
        return input.to_owned();
    }
    let path = input.trim_start_matches('/');
    let mut url = String::with_capacity(base.len() + path.len() + 1);
    url.push_str(base);
    // Not `push('/')`, which links a UTF-8 encoder; nor `concat()`: both cost code size.
    #[allow(clippy::single_char_add_str)]
    url.push_str("/");
    url.push_str(path);
    url
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn page_urls_without_a_scheme_are_under_the_base_url() {
        let base = "https://auth.example.com/blog";
        assert_eq!(resolve(base, "/api/blog/posts?page=2"), "https://auth.example.com/blog/api/blog/posts?page=2");
        assert_eq!(resolve(base, "api/blog/posts"), "https://auth.example.com/blog/api/blog/posts");
        assert_eq!(resolve(base, "/a:b"), "https://auth.example.com/blog/a:b");
        assert_eq!(resolve(base, "https://api.example.com/x"), "https://api.example.com/x");
        assert_eq!(resolve(base, "//cdn.example.com/x"), "//cdn.example.com/x");
    }
}
