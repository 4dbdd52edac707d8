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
//! Users are kept in `localStorage` under `guestpass:<appId>:...` (see `docs/wire.md`), or in
//! memory when storage is unavailable.

#![deny(missing_docs, missing_debug_implementations)]

mod app;
mod credentials;
mod error;
mod js;
mod json;
mod session;
mod storage;
mod transport;
mod user;

pub use js::{App, Credentials, User};
