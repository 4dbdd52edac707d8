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
//! logins, links, refreshes and logouts (src/locks.rs, src/tabs.rs). The page can choose
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

// The modules, in the one direction they depend on each other:
// - the JavaScript surface: `js` (the only `#[wasm_bindgen]` exports; JS values are made and
//   read here, through serde-wasm-bindgen and the protocol's page shapes);
// - the core, in Rust values: `app` (an app and its users), `session` (authenticated requests,
//   refresh, link, logout), `user`, `credentials`, `events` (what changed, as Rust values);
// - the browser's boundaries: `transport` (HTTP, through gloo-net), `storage` (Web Storage
//   through gloo-storage, or memory), `locks` (Web Locks), `tabs` (the `storage` event),
//   `persist` (`navigator.storage`), `codec` (JSON text through the browser's `JSON`, typed
//   values through serde-wasm-bindgen), `browser` (reading Web API objects), `passkey`
//   (WebAuthn's ceremonies, with the browser's own JSON forms);
// - `guestpass_protocol` (every wire and storage shape) and `error`.
mod app;
mod browser;
mod codec;
mod credentials;
mod error;
mod events;
mod js;
mod locks;
mod merge;
mod passkey;
mod persist;
mod session;
mod storage;
mod tabs;
mod transport;
mod user;

pub use js::{App, Credentials, EmailPasswordAuth, PendingMerge, User};

/// lol_alloc's free-list allocator instead of std's dlmalloc: about 7 KB less code before
/// compression. It is slower on long free lists, but the SDK holds a few hundred small
/// allocations at most.
// SAFETY: the wasm32 build has no threads (no `atomics` target feature), so nothing can call the
// allocator concurrently.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
