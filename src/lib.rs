//! guestpass: give a web page a real user with one call, and keep it.
//!
//! The browser SDK of guestpass, compiled to WebAssembly. It speaks the App Services client auth
//! protocol with realm-web's names, so it works against a guestpass server (or any server of that
//! protocol) and a realm-web app can switch by changing its import.
//!
//! ```js
//! import init, { App, Credentials } from "guestpass";
//!
//! await init();
//! const app = new App({ id: "blog", baseUrl: "https://auth.example.com" });
//! // One request on a first visit; none after a reload: the stored user comes back.
//! const user = await app.logIn(Credentials.anonymous());
//! console.log("reading as", user.id, user.isAnonymous);
//!
//! try {
//!   await user.refreshProfile(); // refreshes an expired access token once, by itself
//! } catch (e) {
//!   // e.name === "GuestpassError"; e.code is the server's error_code or a client code
//!   // ("NetworkError", ...); e.status is the HTTP status, 0 without a response.
//!   console.log(e.code, e.status);
//! }
//! await user.logOut(); // an anonymous user is gone for good
//! ```
//!
//! A reader who wants to keep their identity links an email to it; the user keeps its id (and so
//! whatever the app stored for it), and the email brings it back on another browser:
//!
//! ```js
//! await app.emailPasswordAuth.registerUser({ email, password });
//! try {
//!   await user.linkCredentials(Credentials.emailPassword(email, password));
//!   // same user.id, same refresh token; user.isAnonymous === false; user.profile.email
//! } catch (e) {
//!   // The user is left exactly as it was (still current, stored, same tokens) and e.code says
//!   // why: "AccountNameInUse" (another user owns the email), "InvalidPassword", "AuthError"...
//!   // One request, plus one refresh and one retry only if the access token had expired.
//! }
//! // Later, anywhere: the same user.
//! const again = await app.logIn(Credentials.emailPassword(email, password));
//!
//! // The app's own API, with the access token (refreshed and retried once if it has expired).
//! // A URL without a scheme is taken relative to baseUrl; the Response comes back whatever its
//! // status, and the request's body must be re-sendable (a string, not a stream). It rejects
//! // only without a response or a session: if the refresh answers 401, with "InvalidSession"
//! // after logging the user out.
//! const response = await user.fetch("/api/blog/posts", { method: "GET" });
//! ```
//!
//! `app.logIn` returns the same `User` object for a user the app already lists (updated in
//! place), as `app.currentUser` and `app.allUsers` do while the page holds it. A non-anonymous
//! user that logs out stays listed as `"logged-out"`; `app.removeUser` forgets it, and
//! `app.deleteUser` deletes it on the server first (with its own access token).
//!
//! Users are kept in `localStorage` under `guestpass:<appId>:...` (see `docs/wire.md`), shared by
//! the browser's tabs: they make one anonymous user between them even when opened together on
//! a first visit, one refresh when a token expires in all of them, and each sees the others'
//! logins, links, refreshes and logouts (locks.rs, tabs.rs). The page can choose
//! `sessionStorage` or memory instead; a storage that is missing or throws falls back to memory,
//! and the app says so:
//!
//! ```js
//! const app = new App({ id: "blog", storage: "local" }); // "local" (default), "session", "memory"
//! app.persistence; // { storage: "local", durable: true, fallback: false }
//! app.addListener((event) => {
//!   // event.kind: "login", "link", "refresh", "logout", "removed", "switch", "storage" or
//!   // "identity-at-risk"; event.user; event.remote (made in another tab or App)
//!   if (event.kind === "identity-at-risk") {
//!     // event.reason: "memory", "storage-cleared" or "expiring" (with event.expiresAt):
//!     // a good moment to offer linking an email, or to call app.requestPersistentStorage().
//!   }
//! });
//! ```
//!
//! A refresh that fails without a definitive answer (offline, a 5xx) keeps the session and backs
//! off (1 s, doubling to 60 s); only a `401` to the refresh logs the user out. Too many anonymous
//! sign-ups from one address reject with `code: "TooManyRequests"`, `status: 429` and
//! `retryAfter` (seconds).

#![deny(missing_docs, missing_debug_implementations)]
// Without the `std` feature (the package scripts/build-sdk.sh makes) the SDK uses only `core` and
// `alloc`: see `panic` below.
#![cfg_attr(not(test), no_std)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod app;
mod credentials;
mod error;
mod events;
mod js;
mod json;
mod locks;
mod persist;
mod session;
mod storage;
mod tabs;
mod transport;
mod user;

/// A `static` for the page's single thread, with the part of `LocalKey`'s API the SDK uses.
///
/// wasm32 without the `atomics` target feature has no threads, so the value needs no guard; a
/// native build (tests, clippy) has threads and uses `thread_local!` instead.
#[cfg(target_arch = "wasm32")]
pub(crate) struct PageLocal<T>(T);

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("PageLocal assumes a single thread: wasm32 without the `atomics` target feature");

// SAFETY: see above: on wasm32 (without `atomics`, which this crate does not enable) only one
// thread exists to touch the value.
#[cfg(target_arch = "wasm32")]
unsafe impl<T> Sync for PageLocal<T> {}

#[cfg(target_arch = "wasm32")]
impl<T> PageLocal<T> {
    pub(crate) const fn new(value: T) -> Self {
        PageLocal(value)
    }
}

#[cfg(target_arch = "wasm32")]
impl<T> PageLocal<core::cell::RefCell<T>> {
    pub(crate) fn with_borrow<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0.try_borrow().unwrap_or_else(|_| borrow_failed()))
    }

    pub(crate) fn with_borrow_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.try_borrow_mut().unwrap_or_else(|_| borrow_failed()))
    }

    pub(crate) fn take(&self) -> T
    where
        T: Default,
    {
        self.with_borrow_mut(core::mem::take)
    }
}

#[cfg(target_arch = "wasm32")]
impl<T: Copy> PageLocal<core::cell::Cell<T>> {
    pub(crate) fn get(&self) -> T {
        self.0.get()
    }

    pub(crate) fn set(&self, value: T) {
        self.0.set(value)
    }

    pub(crate) fn replace(&self, value: T) -> T {
        self.0.replace(value)
    }
}

/// `core::cell::RefCell` whose `borrow`/`borrow_mut` fail without core's panic message: that
/// message formats a `BorrowError`, which alone keeps `Formatter::pad` in the package.
#[derive(Debug, Default)]
pub(crate) struct RefCell<T>(core::cell::RefCell<T>);

impl<T> RefCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        RefCell(core::cell::RefCell::new(value))
    }

    pub(crate) fn borrow(&self) -> core::cell::Ref<'_, T> {
        self.0.try_borrow().unwrap_or_else(|_| borrow_failed())
    }

    pub(crate) fn borrow_mut(&self) -> core::cell::RefMut<'_, T> {
        self.0.try_borrow_mut().unwrap_or_else(|_| borrow_failed())
    }
}

/// A `RefCell` borrowed against its rules: a bug. It traps (panics with std).
#[cold]
#[inline(never)]
fn borrow_failed() -> ! {
    #[cfg(all(target_arch = "wasm32", not(feature = "std")))]
    core::arch::wasm32::unreachable();
    #[cfg(not(all(target_arch = "wasm32", not(feature = "std"))))]
    panic!("RefCell already borrowed")
}

/// `thread_local!` with a `const` initialiser, or a [`PageLocal`] on wasm32.
macro_rules! page_local {
    ($($(#[$attr:meta])* static $name:ident: $ty:ty = const { $init:expr };)*) => {
        $(
            #[cfg(target_arch = "wasm32")]
            $(#[$attr])*
            static $name: crate::PageLocal<$ty> = crate::PageLocal::new($init);
        )*
        #[cfg(not(target_arch = "wasm32"))]
        std::thread_local! {
            $($(#[$attr])* static $name: $ty = const { $init };)*
        }
    };
}
pub(crate) use page_local;

/// Without std, a panic (a bug: the SDK's code avoids every panicking path it can) traps, as
/// `panic = "abort"` does with std, but without std's panic machinery and hook, which formats
/// the message (1.4 KB of the gzip total; docs/PERFORMANCE.md). Some `core::fmt` stays: core's
/// panics still take the addresses of the functions that would format their arguments.
#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

pub use js::{App, Credentials, EmailPasswordAuth, User};

/// lol_alloc's free-list allocator instead of std's dlmalloc: about 7 KB less code before
/// compression. It is slower on long free lists, but the SDK holds a few hundred small
/// allocations at most.
// SAFETY: the wasm32 build has no threads (no `atomics` target feature), so nothing can call the
// allocator concurrently.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
