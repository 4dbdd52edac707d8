//! Web Locks: one anonymous login, and one refresh per user, for the whole browser profile.
//!
//! Locks are per origin, so one lock covers every tab and every `App` of the page. The known
//! failures of auth locks in other SDKs (deadlocks with React Strict Mode, frozen tabs, auth
//! calls made inside listeners) give the rules:
//! - a holder never waits for the page: the lock covers the SDK's own re-read of storage and its
//!   one request; listeners are called, never awaited, so an SDK call a listener makes cannot
//!   hold it up (at worst that call waits for this lock, released right after);
//! - a holder gives the lock back after [`HOLD_MS`] whatever happens (a `fetch` that never
//!   answers cannot keep it);
//! - a waiter gives up after [`WAIT_MS`] (an `AbortSignal.timeout`), longer than the hold
//!   bound, so it only gives up on a holder whose page is not running at all: a frozen
//!   background tab, a debugger pause. Then the caller chooses, by what a second request
//!   costs:
//!   - anonymous login steals the lock (`steal: true`) once: a second login would make a second
//!     user, and a stolen lock still keeps the other waiters queued behind the thief, who then
//!     find its user. The frozen tab's login, if it ever completes, is simply seen by the others
//!     through storage (the last one stored becomes current everywhere);
//!   - refresh goes on without the lock: refresh tokens are not rotated (wire.md), so two
//!     refreshes at once cost a request, never a session;
//! - without Web Locks (Safari before 15.4, a page that is not a secure context) the call goes on
//!   without a lock: tabs may then each log in once, and they converge through storage events.
//!   Without `AbortSignal.timeout` (Safari before 16) a waiter waits for the hold bound.
//!
//! Nothing here is held across a page's own code: a page that stops awaiting a call (React
//! Strict Mode unmounting) leaves the lock to be released when the SDK's request settles, or
//! after the hold bound.
//!
//! Chromium hands a lock over to another tab faster than it carries `localStorage` writes to
//! other processes (measured: the next holder read an empty storage a few milliseconds after the
//! first had stored its user), so:
//! - a lock is first asked for with `ifAvailable`, so the caller knows whether another tab held
//!   it ([`Lock::waited`]); if so, it gives the predecessor's user or token a moment to arrive
//!   (`AppState::settle`, up to 1 s, ended by the `storage` event that brings it);
//! - a holder that stored something keeps the lock [`LINGER_MS`] longer, so a tab asking just
//!   as it is released still finds it taken, and so knows to wait for the writes;
//! - a holder in the same page (another `App`, or this one a moment ago) wrote synchronously:
//!   waiting behind it needs no settling.

use std::cell::Cell;

use js_sys::{Date, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::browser;

/// The longest a holder keeps a lock.
const HOLD_MS: i32 = 10_000;
/// The longest a caller waits for a lock before its fallback (more than [`HOLD_MS`]).
const WAIT_MS: i32 = 12_000;

/// How long a holder that wrote keeps the lock after its work: the writes reach the other
/// tabs' `localStorage` in milliseconds, so a tab that asks for the lock just as it is released
/// (and so does not know to wait, see `waited`) still reads them.
const LINGER_MS: i32 = 100;

thread_local! {
    /// Until when (ms) this page holds or lingers on a lock (`f64::INFINITY` while held): a
    /// holder in this page wrote to its storage synchronously, so a caller waiting behind it
    /// has nothing to settle. One time for all the page's locks: a caller waiting for one lock
    /// while the page holds another settles no more, the rare cost of a smaller SDK.
    static OURS: Cell<f64> = const { Cell::new(0.0) };
}

/// A held lock (or none: no Web Locks, or a refresh that went on without it), released when
/// dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    release: Option<Function>,
    /// Whether another tab held the lock when it was asked for.
    pub waited: bool,
    /// Set by [`Lock::wrote`]: released [`LINGER_MS`] after being dropped.
    linger: bool,
}

impl Lock {
    /// The holder stored what the lock was for (a user, a token).
    pub(crate) fn wrote(&mut self) {
        self.linger = true;
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let Some(release) = &self.release else {
            return;
        };
        OURS.set(if self.linger { Date::now() + LINGER_MS as f64 } else { 0.0 });
        match web_sys::window().filter(|_| self.linger) {
            Some(window) => {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(release, LINGER_MS);
            }
            None => {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
        }
    }
}

/// Waits for the lock `name`. After [`WAIT_MS`], steals it with `steal`, or else goes on
/// without it.
pub(crate) async fn acquire(name: &str, steal: bool) -> Lock {
    let mut lock = Lock { release: None, waited: false, linger: false };
    let Some(locks) = browser::navigator("locks") else {
        return lock;
    };
    // At most three requests: `ifAvailable` (is another holder there?), then waiting with a
    // timeout, then stealing (with `steal`). One `await` in a loop: each await site of a
    // future costs code.
    for step in 0..3 {
        let options: JsValue = Object::new().into();
        match step {
            0 => browser::set(&options, "ifAvailable", &JsValue::TRUE),
            1 => {
                lock.waited = OURS.get() <= Date::now();
                if let Some(signal) = timeout_signal() {
                    browser::set(&options, "signal", &signal);
                }
            }
            _ if steal => browser::set(&options, "steal", &JsValue::TRUE),
            _ => break,
        }
        lock.release = request(&locks, name, &options).await;
        if lock.release.is_some() {
            OURS.set(f64::INFINITY);
            break;
        }
    }
    lock
}

/// `navigator.locks.request(name, options, callback)`, where the callback holds the lock until
/// the returned function is called (or [`HOLD_MS`] pass). `None` when the lock was not granted
/// (not available, the signal fired) or the request failed.
async fn request(locks: &JsValue, name: &str, options: &JsValue) -> Option<Function> {
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let release = release?;
    let mut grant = None;
    let granted = Promise::new(&mut |resolve, _| grant = Some(resolve));
    let grant: Function = grant?;
    let refuse = grant.clone();
    // Called with the lock (`null` when `ifAvailable` found it taken): says whether it was
    // granted, and keeps it until `held` resolves.
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let _ = grant.call1(&JsValue::UNDEFINED, &JsValue::from_bool(!lock.is_null()));
        if lock.is_null() {
            JsValue::UNDEFINED
        } else {
            held.into()
        }
    });
    let request = browser::method(locks, "request")?;
    let pending = request.call3(locks, &JsValue::from_str(name), options, &callback).ok()?;
    // A request that fails (the signal's timeout) resolves `granted` with its error instead.
    let catch = browser::method(&pending, "catch")?;
    let _ = catch.call1(&pending, &refuse);
    if JsFuture::from(granted).await.ok()? != JsValue::TRUE {
        return None;
    }
    let _ = web_sys::window()?.set_timeout_with_callback_and_timeout_and_arguments_0(&release, HOLD_MS);
    Some(release)
}

/// `AbortSignal.timeout(WAIT_MS)`, where the browser has it.
fn timeout_signal() -> Option<JsValue> {
    let class = browser::get(&js_sys::global(), "AbortSignal")?;
    let timeout = browser::method(&class, "timeout")?;
    timeout.call1(&class, &JsValue::from(WAIT_MS)).ok()
}
