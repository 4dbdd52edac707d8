//! Web Storage: the only code that touches `localStorage`.
//!
//! The key scheme is wire.md's ("SDK storage keys"), all under `guestpass:<appId>:`:
//! - `users`: JSON array of user ids, most recently logged in first;
//! - `user:<userId>`: JSON `{providerType, accessToken, refreshToken, profile}`, written whole so a
//!   user is never half stored;
//! - `deviceId`: the device id the server gave us, sent back on the next login.
//!
//! What is stored is untrusted (other scripts, older versions, a user's devtools): a value that
//! does not parse or lacks a field is dropped and its key removed, never thrown.
//!
//! When `localStorage` is missing or throws (blocked cookies, sandboxed frames, a storage that
//! refuses writes), values live in a page-wide memory map instead: the SDK keeps working, the
//! identity just does not survive a reload.

use std::cell::RefCell;

use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::json;

thread_local! {
    /// The fallback store, shared by every `App` of the page like `localStorage` would be.
    static MEMORY: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// One app's slice of the page's storage.
#[derive(Debug)]
pub(crate) struct Storage {
    /// `guestpass:<appId>:`
    prefix: String,
    /// `None` when `localStorage` cannot be used.
    local: Option<web_sys::Storage>,
}

/// A user as stored under `user:<userId>`.
pub(crate) struct StoredUser {
    pub provider_type: String,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    /// The profile as the server sent it, `null` when unknown.
    pub profile: JsValue,
}

impl Storage {
    /// The storage of the app `app_id`.
    pub(crate) fn new(app_id: &str) -> Self {
        Storage { prefix: prefix(app_id), local: local_storage() }
    }

    /// The stored users, most recently logged in first.
    ///
    /// Cleans up as it reads: ids without a valid record leave the list, invalid records and
    /// an invalid list are removed.
    pub(crate) fn users(&self) -> Vec<(String, StoredUser)> {
        let list_key = self.key(USERS);
        let list = self.get(&list_key).and_then(|text| json::parse(&text));
        let Some(ids) = list.as_ref().and_then(json::as_array) else {
            self.remove(&list_key);
            return Vec::new();
        };
        let mut users: Vec<(String, StoredUser)> = Vec::new();
        let mut clean = true;
        for id in ids.iter() {
            let Some(id) = id.as_string().filter(|id| !id.is_empty()) else {
                clean = false;
                continue;
            };
            if users.iter().any(|(known, _)| *known == id) {
                clean = false;
                continue;
            }
            let user_key = self.user_key(&id);
            match self.get(&user_key).and_then(|text| StoredUser::parse(&text)) {
                Some(user) => users.push((id, user)),
                None => {
                    self.remove(&user_key);
                    clean = false;
                }
            }
        }
        if !clean {
            self.set_user_ids(users.iter().map(|(id, _)| id.as_str()));
        }
        users
    }

    /// Replaces the list of user ids (most recently logged in first).
    pub(crate) fn set_user_ids<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        let list = Array::new();
        for id in ids {
            list.push(&JsValue::from_str(id));
        }
        self.set(&self.key(USERS), &json::stringify(&list));
    }

    /// Writes one user's record, whole.
    pub(crate) fn set_user(&self, id: &str, user: &StoredUser) {
        let record = json::object();
        json::set(&record, "providerType", &JsValue::from_str(&user.provider_type));
        json::set(&record, "accessToken", &json::string_or_null(user.access_token.as_deref()));
        json::set(&record, "refreshToken", &json::string_or_null(user.refresh_token.as_deref()));
        json::set(&record, "profile", &user.profile);
        self.set(&self.user_key(id), &json::stringify(&record));
    }

    /// Removes one user's record (the list is written separately).
    pub(crate) fn remove_user(&self, id: &str) {
        self.remove(&self.user_key(id));
    }

    /// The device id the server assigned on an earlier login.
    pub(crate) fn device_id(&self) -> Option<String> {
        self.get(&self.key(DEVICE_ID)).filter(|id| !id.is_empty())
    }

    /// Remembers the device id the server assigned.
    pub(crate) fn set_device_id(&self, id: &str) {
        self.set(&self.key(DEVICE_ID), id);
    }

    fn key(&self, name: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + name.len());
        key.push_str(&self.prefix);
        key.push_str(name);
        key
    }

    fn user_key(&self, id: &str) -> String {
        let mut key = self.key(USER);
        key.push_str(id);
        key
    }

    fn get(&self, key: &str) -> Option<String> {
        match &self.local {
            Some(local) => local.get_item(key).ok()?,
            None => MEMORY.with_borrow(|m| m.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())),
        }
    }

    fn set(&self, key: &str, value: &str) {
        match &self.local {
            // A full quota: the app still holds its users in memory, they just will not outlive
            // the page (and a list naming a user whose record did not fit is cleaned on reload).
            Some(local) => {
                let _ = local.set_item(key, value);
            }
            None => MEMORY.with_borrow_mut(|m| {
                m.retain(|(k, _)| k != key);
                m.push((key.to_owned(), value.to_owned()));
            }),
        }
    }

    fn remove(&self, key: &str) {
        match &self.local {
            Some(local) => {
                let _ = local.remove_item(key);
            }
            None => MEMORY.with_borrow_mut(|m| m.retain(|(k, _)| k != key)),
        }
    }
}

impl StoredUser {
    /// Reads a stored record; `None` when anything the SDK needs is missing or mistyped.
    fn parse(text: &str) -> Option<StoredUser> {
        let record = json::parse(text)?;
        let token = |key| match json::get(&record, key) {
            None => Some(None),
            Some(value) => value.as_string().filter(|t| !t.is_empty()).map(Some),
        };
        let profile = json::get(&record, "profile").unwrap_or(JsValue::NULL);
        if !(profile.is_null() || profile.is_object()) {
            return None;
        }
        Some(StoredUser {
            provider_type: json::get_string(&record, "providerType").filter(|p| !p.is_empty())?,
            access_token: token("accessToken")?,
            refresh_token: token("refreshToken")?,
            profile,
        })
    }
}

const USERS: &str = "users";
const USER: &str = "user:";
const DEVICE_ID: &str = "deviceId";

fn prefix(app_id: &str) -> String {
    let mut prefix = String::with_capacity(app_id.len() + 11);
    prefix.push_str("guestpass:");
    prefix.push_str(app_id);
    prefix.push(':');
    prefix
}

/// `localStorage`, when it can actually store something.
fn local_storage() -> Option<web_sys::Storage> {
    // `window.localStorage` itself throws when storage is blocked: `.ok()` turns that into `None`.
    let storage = web_sys::window()?.local_storage().ok()??;
    // Some browsers (Safari's old private mode) expose a storage whose every write throws.
    let probe = "guestpass:probe";
    storage.set_item(probe, probe).ok()?;
    storage.remove_item(probe).ok()?;
    Some(storage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_wire_md() {
        let storage = Storage { prefix: prefix("blog-abc"), local: None };
        assert_eq!(storage.key(USERS), "guestpass:blog-abc:users");
        assert_eq!(storage.user_key("65f0c0ffee0123456789abcd"), "guestpass:blog-abc:user:65f0c0ffee0123456789abcd");
        assert_eq!(storage.key(DEVICE_ID), "guestpass:blog-abc:deviceId");
    }
}
