//! Web Storage: the only code that touches `localStorage` and `sessionStorage`.
//!
//! The key scheme is docs/wire.md's ("SDK storage keys"), all under `guestpass:<appId>:`:
//! - `users`: JSON array of user ids, most recently logged in first;
//! - `user:<userId>`: the protocol's `StoredUser`, written whole so a user is never half stored;
//! - `deviceId`: the device id the server gave us, sent back on the next login;
//! - `merge`: the protocol's `MergeAnswer` of a merge not yet completed or abandoned.
//!
//! What is stored is untrusted (other scripts, older versions, a user's devtools, another tab
//! half-way through a write): a value that does not decode to its protocol type reads as
//! missing, never as an error. When an app is made, such values are also removed.
//!
//! The values live behind [`Backend`]: the browser's storage through gloo-storage, or a
//! page-wide memory map. When the chosen storage is missing or throws (blocked cookies, private
//! modes, sandboxed frames, a full quota), memory takes over and [`Storage::fell_back`] says so:
//! the SDK keeps working, the identity just does not survive the page.

use std::cell::{Cell, RefCell};

use gloo_storage::{LocalStorage, SessionStorage, Storage as _};
use guestpass_protocol::merge::MergeAnswer;
use guestpass_protocol::page::StorageArea;
use guestpass_protocol::stored::{StoredUser, UserIds};

use crate::codec::{self, JsData};

/// A user record as the SDK stores it.
pub(crate) type Record = StoredUser<JsData>;

/// Where values are kept: the one interface the rest of this module (and a test) sees.
pub(crate) trait Backend {
    /// The value under `key`; `None` when there is none or the storage cannot be read.
    fn get(&self, key: &str) -> Option<String>;
    /// Writes `value`; `false` when the storage refused it.
    fn set(&self, key: &str, value: &str) -> bool;
    fn remove(&self, key: &str);
}

/// `localStorage` or `sessionStorage`, through gloo-storage.
///
/// gloo-storage's typed `get`/`set` are JSON through serde_json, which the wasm leaves out, and
/// its `delete` and `get` throw when the storage does; so it is used for what it gives access
/// to, the `web_sys::Storage` (`raw()`), whose calls report failures as values. `raw()` itself
/// throws when the storage is blocked: [`web_storage`] checks that first, with web-sys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebStorage(bool);

impl WebStorage {
    fn raw(self) -> web_sys::Storage {
        if self.0 {
            LocalStorage::raw()
        } else {
            SessionStorage::raw()
        }
    }
}

impl Backend for WebStorage {
    fn get(&self, key: &str) -> Option<String> {
        // A storage whose reads throw reads as empty.
        self.raw().get_item(key).ok().flatten()
    }

    fn set(&self, key: &str, value: &str) -> bool {
        self.raw().set_item(key, value).is_ok()
    }

    fn remove(&self, key: &str) {
        let _ = self.raw().remove_item(key);
    }
}

thread_local! {
    /// The memory store, shared by every `App` of the page like `localStorage` would be.
    static MEMORY: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// This page's memory: what an app uses when asked to, or when its Web Storage fails.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory;

impl Backend for Memory {
    fn get(&self, key: &str) -> Option<String> {
        MEMORY.with_borrow(|m| m.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }

    fn set(&self, key: &str, value: &str) -> bool {
        MEMORY.with_borrow_mut(|m| {
            m.retain(|(k, _)| k != key);
            m.push((key.to_owned(), value.to_owned()));
        });
        true
    }

    fn remove(&self, key: &str) {
        MEMORY.with_borrow_mut(|m| m.retain(|(k, _)| k != key));
    }
}

/// One app's slice of the page's storage.
pub(crate) struct Storage {
    /// `guestpass:<appId>:`
    prefix: String,
    backend: RefCell<Box<dyn Backend>>,
    /// The area in use (memory after a fallback).
    area: Cell<StorageArea>,
    /// Whether the chosen storage failed and memory replaced it.
    fallback: Cell<bool>,
    /// Set when a write failed and the storage just switched to memory (see [`Storage::set`]).
    dropped: Cell<bool>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").field("prefix", &self.prefix).field("area", &self.area.get()).finish()
    }
}

impl Storage {
    /// The storage of the app `app_id` in `chosen`, or in memory if that cannot be used.
    pub(crate) fn new(app_id: &str, chosen: StorageArea) -> Self {
        let (backend, area): (Box<dyn Backend>, _) = match web_storage(chosen) {
            Some(web) => (Box::new(web), chosen),
            None => (Box::new(Memory), StorageArea::Memory),
        };
        Storage::with_backend(app_id, backend, area, area != chosen)
    }

    /// The storage of `app_id` on `backend`.
    pub(crate) fn with_backend(app_id: &str, backend: Box<dyn Backend>, area: StorageArea, fallback: bool) -> Self {
        Storage {
            prefix: ["guestpass:", app_id, ":"].concat(),
            backend: RefCell::new(backend),
            area: Cell::new(area),
            fallback: Cell::new(fallback),
            dropped: Cell::new(false),
        }
    }

    /// The area in use.
    pub(crate) fn area(&self) -> StorageArea {
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
        self.area() == StorageArea::Local && key.is_none_or(|key| key.starts_with(&self.prefix))
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
    pub(crate) fn users(&self, clean: bool) -> Vec<(String, Record)> {
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
            self.set_user_ids(users.iter().map(|(id, _)| id.clone()).collect());
        }
        users
    }

    /// The stored list of user ids; `None` when there is none or it is not a JSON array.
    pub(crate) fn user_ids(&self) -> Option<Vec<String>> {
        codec::from_text::<UserIds>(&self.get(&self.key(USERS))?).map(|ids| ids.0)
    }

    /// One user's record, when there is a usable one.
    pub(crate) fn user(&self, id: &str) -> Option<Record> {
        codec::from_text::<Record>(&self.get(&self.user_key(id))?).filter(Record::is_usable)
    }

    /// Replaces the list of user ids (most recently logged in first).
    pub(crate) fn set_user_ids(&self, ids: Vec<String>) {
        self.set(&self.key(USERS), &codec::to_text(&UserIds(ids)));
    }

    /// Writes one user's record, whole.
    pub(crate) fn set_user(&self, id: &str, user: &Record) {
        self.set(&self.user_key(id), &codec::to_text(user));
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

    /// The merge a login with `mergeAnonymous` left pending (src/merge.rs), if a usable one.
    pub(crate) fn merge(&self) -> Option<MergeAnswer> {
        codec::from_text::<MergeAnswer>(&self.get(&self.key(MERGE))?).filter(|m| !m.proof.expose().is_empty())
    }

    pub(crate) fn set_merge(&self, merge: &MergeAnswer) {
        self.set(&self.key(MERGE), &codec::to_text(merge));
    }

    pub(crate) fn remove_merge(&self) {
        self.remove(&self.key(MERGE));
    }

    /// `guestpass:<appId>:<name>`: storage keys, and the names of the app's Web Locks.
    pub(crate) fn key(&self, name: &str) -> String {
        [&self.prefix, name].concat()
    }

    fn user_key(&self, id: &str) -> String {
        [&self.prefix, USER, id].concat()
    }

    fn get(&self, key: &str) -> Option<String> {
        self.backend.borrow().get(key)
    }

    /// Writes `value`. A Web Storage that refuses (a full quota, a storage that started
    /// throwing) is dropped for memory for the rest of the page, and `dropped` set so the app
    /// writes everything again and reports it.
    fn set(&self, key: &str, value: &str) {
        if self.backend.borrow().set(key, value) {
            return;
        }
        *self.backend.borrow_mut() = Box::new(Memory);
        self.area.set(StorageArea::Memory);
        self.fallback.set(true);
        self.dropped.set(true);
        self.set(key, value);
    }

    fn remove(&self, key: &str) {
        self.backend.borrow().remove(key);
    }
}

const USERS: &str = "users";
const USER: &str = "user:";
const DEVICE_ID: &str = "deviceId";
const MERGE: &str = "merge";

/// `localStorage` or `sessionStorage`, when it can actually store something.
fn web_storage(area: StorageArea) -> Option<WebStorage> {
    let local = match area {
        StorageArea::Local => true,
        StorageArea::Session => false,
        StorageArea::Memory => return None,
    };
    let window = web_sys::window()?;
    // `window.localStorage` itself throws when storage is blocked: `.ok()` turns that into
    // `None` here, where gloo-storage's `raw()` would throw.
    let storage = if local { window.local_storage() } else { window.session_storage() }.ok()??;
    // Some browsers (Safari's old private mode) expose a storage whose every write throws; a
    // page or an extension may have broken reads too.
    let probe = "guestpass:probe";
    storage.set_item(probe, probe).ok()?;
    let read = storage.get_item(probe).ok()??;
    storage.remove_item(probe).ok()?;
    (read == probe).then_some(WebStorage(local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_wire_md() {
        let storage = Storage::with_backend("blog-abc", Box::new(Memory), StorageArea::Memory, false);
        assert_eq!(storage.key(USERS), "guestpass:blog-abc:users");
        assert_eq!(storage.user_key("65f0c0ffee0123456789abcd"), "guestpass:blog-abc:user:65f0c0ffee0123456789abcd");
        assert_eq!(storage.key(DEVICE_ID), "guestpass:blog-abc:deviceId");
    }

    /// A storage that refuses every write, as a full quota does.
    struct Full;

    impl Backend for Full {
        fn get(&self, _: &str) -> Option<String> {
            None
        }
        fn set(&self, _: &str, _: &str) -> bool {
            false
        }
        fn remove(&self, _: &str) {}
    }

    #[test]
    fn a_refused_write_moves_the_app_to_memory_and_keeps_the_value() {
        let storage = Storage::with_backend("full-app", Box::new(Full), StorageArea::Local, false);
        storage.set_device_id("650000000000000000000002");
        assert_eq!(storage.area(), StorageArea::Memory);
        assert!(storage.fell_back() && storage.take_dropped());
        assert!(!storage.take_dropped(), "reported once");
        assert_eq!(storage.device_id().as_deref(), Some("650000000000000000000002"));
    }
}
