//! Web Storage: the only code that touches `localStorage` and `sessionStorage`.
//!
//! The key scheme is wire.md's ("SDK storage keys"), all under `guestpass:<appId>:`:
//! - `users`: JSON array of user ids, most recently logged in first;
//! - `user:<userId>`: JSON `{providerType, accessToken, refreshToken, profile}`, written whole so a
//!   user is never half stored;
//! - `deviceId`: the device id the server gave us, sent back on the next login.
//!
//! What is stored is untrusted (other scripts, older versions, a user's devtools, another tab
//! half-way through a write): a value that does not parse or lacks a field reads as missing,
//! never as an error. When an app is made, such values are also removed.
//!
//! The page picks `localStorage` (the default), `sessionStorage` or memory. When the chosen
//! storage is missing or throws (blocked cookies, private modes, sandboxed frames, a full
//! quota), values live in a page-wide memory map instead and [`Storage::fell_back`] says so:
//! the SDK keeps working, the identity just does not survive the page.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::json;

crate::page_local! {
    /// The memory store, shared by every `App` of the page like `localStorage` would be.
    static MEMORY: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// Where an app keeps its users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Area {
    Local,
    Session,
    Memory,
}

impl Area {
    /// The `storage` option's values.
    pub(crate) fn parse(name: &str) -> Option<Area> {
        match name {
            "local" => Some(Area::Local),
            "session" => Some(Area::Session),
            "memory" => Some(Area::Memory),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Area::Local => "local",
            Area::Session => "session",
            Area::Memory => "memory",
        }
    }
}

/// One app's slice of the page's storage.
#[derive(Debug)]
pub(crate) struct Storage {
    /// `guestpass:<appId>:`
    prefix: String,
    /// The Web Storage in use; `None` for memory.
    web: crate::RefCell<Option<web_sys::Storage>>,
    /// The area in use (memory after a fallback).
    area: Cell<Area>,
    /// Whether the chosen storage failed and memory replaced it.
    fallback: Cell<bool>,
    /// Set when a write failed and the storage just switched to memory (see [`Storage::set`]).
    dropped: Cell<bool>,
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
    /// The storage of the app `app_id` in `chosen`, or in memory if that cannot be used.
    pub(crate) fn new(app_id: &str, chosen: Area) -> Self {
        let web = web_storage(chosen);
        let area = if web.is_some() { chosen } else { Area::Memory };
        Storage {
            prefix: prefix(app_id),
            web: crate::RefCell::new(web),
            area: Cell::new(area),
            fallback: Cell::new(area != chosen),
            dropped: Cell::new(false),
        }
    }

    /// The area in use.
    pub(crate) fn area(&self) -> Area {
        self.area.get()
    }

    /// Whether the chosen storage could not be used and memory holds the users instead.
    pub(crate) fn fell_back(&self) -> bool {
        self.fallback.get()
    }

    /// Whether a write failed since the last call, switching the storage to memory (what was
    /// stored before must then be written again, to memory).
    pub(crate) fn take_dropped(&self) -> bool {
        self.dropped.replace(false)
    }

    /// Whether a `storage` event for `key` (`None`: the whole storage was cleared) may concern
    /// this app. Only `localStorage` is shared with other tabs.
    pub(crate) fn watches(&self, key: Option<&str>) -> bool {
        self.area() == Area::Local && key.is_none_or(|key| key.starts_with(&self.prefix))
    }

    /// Whether `other` reads and writes the same values (another `App` of the page, same id).
    pub(crate) fn shares(&self, other: &Storage) -> bool {
        self.prefix == other.prefix && self.area() == other.area()
    }

    /// The stored users, most recently logged in first.
    ///
    /// With `clean` (when an app is made), what cannot be read is removed: ids without a valid
    /// record leave the list, invalid records and an invalid list are removed. Without it
    /// (catching up with another tab, which may be half-way through its writes) nothing is
    /// written.
    pub(crate) fn users(&self, clean: bool) -> Vec<(String, StoredUser)> {
        let Some(ids) = self.user_ids() else {
            if clean {
                self.remove(&self.key(USERS));
            }
            return Vec::new();
        };
        let mut users = Vec::new();
        for id in ids {
            match self.user(&id) {
                Some(user) => users.push((id, user)),
                None if clean => self.remove(&self.user_key(&id)),
                None => {}
            }
        }
        if clean {
            // Rewrites the list only if it changed (an equal value is not a change).
            self.set_user_ids(users.iter().map(|(id, _)| id.as_str()));
        }
        users
    }

    /// The stored list of user ids; `None` when there is none or it is not a JSON array.
    /// Entries that are not non-empty strings, and repeats, are left out.
    pub(crate) fn user_ids(&self) -> Option<Vec<String>> {
        let list = self.get(&self.key(USERS)).and_then(|text| json::parse(&text))?;
        let mut ids: Vec<String> = Vec::new();
        for id in json::as_array(&list)?.iter() {
            if let Some(id) = id.as_string().filter(|id| !id.is_empty() && !ids.contains(id)) {
                ids.push(id);
            }
        }
        Some(ids)
    }

    /// One user's record, when there is a valid one.
    pub(crate) fn user(&self, id: &str) -> Option<StoredUser> {
        StoredUser::parse(&self.get(&self.user_key(id))?)
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

    /// `guestpass:<appId>:<name>`: storage keys, and the names of the app's Web Locks.
    pub(crate) fn key(&self, name: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + name.len() + 24);
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
        match &*self.web.borrow() {
            // A storage whose reads throw reads as empty.
            Some(web) => json::call(web, "getItem", &JsValue::from_str(key))?.as_string(),
            None => MEMORY.with_borrow(|m| m.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())),
        }
    }

    /// Writes `value`. A Web Storage that refuses (a full quota, a storage that started
    /// throwing) is dropped for memory for the rest of the page, and `dropped` set so the app
    /// writes everything again and reports it.
    fn set(&self, key: &str, value: &str) {
        let refused = match &*self.web.borrow() {
            Some(web) => web.set_item(key, value).is_err(),
            None => {
                MEMORY.with_borrow_mut(|m| {
                    m.retain(|(k, _)| k != key);
                    m.push((key.to_owned(), value.to_owned()));
                });
                false
            }
        };
        if refused {
            *self.web.borrow_mut() = None;
            self.area.set(Area::Memory);
            self.fallback.set(true);
            self.dropped.set(true);
            self.set(key, value);
        }
    }

    fn remove(&self, key: &str) {
        match &*self.web.borrow() {
            Some(web) => {
                let _ = web.remove_item(key);
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

/// `localStorage` or `sessionStorage`, when it can actually store something.
fn web_storage(area: Area) -> Option<web_sys::Storage> {
    let local = match area {
        Area::Local => true,
        Area::Session => false,
        Area::Memory => return None,
    };
    let window = web_sys::window()?;
    // `window.localStorage` itself throws when storage is blocked: `.ok()` turns that into `None`.
    let storage = if local { window.local_storage() } else { window.session_storage() }.ok()??;
    // Some browsers (Safari's old private mode) expose a storage whose every write throws; a
    // page or an extension may have broken reads too.
    let probe = "guestpass:probe";
    storage.set_item(probe, probe).ok()?;
    let read = json::call(&storage, "getItem", &JsValue::from_str(probe))?.as_string()?;
    storage.remove_item(probe).ok()?;
    (read == probe).then_some(storage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_wire_md() {
        let storage = Storage::new("blog-abc", Area::Memory);
        assert_eq!(storage.key(USERS), "guestpass:blog-abc:users");
        assert_eq!(storage.user_key("65f0c0ffee0123456789abcd"), "guestpass:blog-abc:user:65f0c0ffee0123456789abcd");
        assert_eq!(storage.key(DEVICE_ID), "guestpass:blog-abc:deviceId");
    }
}
