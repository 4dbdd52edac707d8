//! The life of a session: authenticated requests, the access-token refresh, logout.
//!
//! The rules (PROTOCOL.md §6.3, wire.md "Errors"):
//! - only `401 InvalidSession` on an access-token request calls for a refresh, and the request
//!   is retried once after it: a server that keeps refusing cannot make the SDK loop (realm-web
//!   does loop);
//! - a `401` to the refresh itself means the session is over: the user is logged out locally,
//!   and an anonymous user removed, since nothing can log back in to it;
//! - any other refresh failure (network, 5xx) keeps the session: it may work next time.

use std::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::app::AppState;
use crate::error::{Error, Result, NOT_LOGGED_IN};
use crate::json;
use crate::transport::{request, Method};
use crate::user::{Profile, UserState};

/// A request with the user's access token, refreshed and retried once if the server says the
/// token is no longer good.
pub(crate) async fn authenticated(
    app: &AppState,
    user: &UserState,
    method: Method,
    url: &str,
) -> Result<Option<JsValue>> {
    let token = match user.access_token() {
        Some(token) => token,
        None => {
            refresh_access_token(app, user).await?;
            user.access_token().ok_or_else(not_logged_in)?
        }
    };
    match request(method, url, Some(&token), None).await {
        Err(error) if error.is_invalid_session() => {
            renew(app, user, &token).await?;
            let token = user.access_token().ok_or_else(not_logged_in)?;
            request(method, url, Some(&token), None).await
        }
        answer => answer,
    }
}

/// Gets a new access token after `failed` was refused, unless another call already did.
async fn renew(app: &AppState, user: &UserState, failed: &str) -> Result<()> {
    let refreshing = user.refreshing.borrow().is_some();
    if !refreshing && user.access_token().as_deref() != Some(failed) {
        return Ok(());
    }
    refresh_access_token(app, user).await
}

/// `POST C/auth/session` with the refresh token; stores the new access token.
///
/// Calls that overlap share one request: a page firing several requests when the token has
/// expired spends one refresh, not one each.
pub(crate) async fn refresh_access_token(app: &AppState, user: &UserState) -> Result<()> {
    let in_flight = user.refreshing.borrow().clone();
    if let Some(flight) = in_flight {
        return flight.wait().await;
    }
    let flight = std::rc::Rc::new(Flight::new());
    *user.refreshing.borrow_mut() = Some(flight.clone());
    let result = refresh_now(app, user).await;
    *user.refreshing.borrow_mut() = None;
    flight.land(result.clone());
    result
}

async fn refresh_now(app: &AppState, user: &UserState) -> Result<()> {
    let token = user.refresh_token().ok_or_else(not_logged_in)?;
    let answer = request(Method::Post, &app.session_url(), Some(&token), None).await;
    // The user may have logged out (or in again) while we waited: only touch the session we
    // refreshed.
    let same_session = user.refresh_token().as_deref() == Some(token.as_str());
    match answer {
        Ok(body) => {
            let access_token = body
                .and_then(|body| json::get_string(&body, "access_token"))
                .ok_or_else(|| Error::invalid_response(200))?;
            if same_session {
                user.set_access_token(access_token);
                app.save(user);
            }
            Ok(())
        }
        Err(error) => {
            if error.status == 401 && same_session {
                app.end_session(user);
            }
            Err(error)
        }
    }
}

/// `GET C/auth/profile`; stores the profile.
pub(crate) async fn refresh_profile(app: &AppState, user: &UserState) -> Result<()> {
    let body = authenticated(app, user, Method::Get, &app.profile_url()).await?;
    let profile = body.and_then(Profile::parse).ok_or_else(|| Error::invalid_response(200))?;
    user.set_profile(profile);
    app.save(user);
    Ok(())
}

/// Ends the user's session here, then on the server (`DELETE C/auth/session`).
///
/// The local session ends first and always, as in realm-core: a page that asked to log out must
/// not keep a session because the network failed. A server that no longer knows the session
/// (401) is what we wanted anyway; any other failure is still reported, since the server-side
/// session then lives on until it expires.
pub(crate) async fn log_out(app: &AppState, user: &UserState) -> Result<()> {
    let token = user.refresh_token();
    app.end_session(user);
    let Some(token) = token else {
        return Ok(());
    };
    match request(Method::Delete, &app.session_url(), Some(&token), None).await {
        Err(error) if error.status != 401 => Err(error),
        _ => Ok(()),
    }
}

fn not_logged_in() -> Error {
    Error::client(NOT_LOGGED_IN, "the user is not logged in")
}

/// A refresh under way, that later callers wait for and share the outcome of.
pub(crate) struct Flight {
    /// Resolves when the refresh is over; the outcome is read from `outcome`, which keeps the
    /// error a Rust value (it only becomes a JS error at the boundary).
    landed: Promise,
    resolve: Option<Function>,
    outcome: RefCell<Option<Result<()>>>,
}

impl Flight {
    fn new() -> Flight {
        let mut resolve = None;
        // The executor runs synchronously, so `resolve` is set when `new` returns.
        let landed = Promise::new(&mut |res, _rej| resolve = Some(res));
        Flight { landed, resolve, outcome: RefCell::new(None) }
    }

    async fn wait(&self) -> Result<()> {
        let _ = JsFuture::from(self.landed.clone()).await;
        self.outcome.borrow().clone().unwrap_or(Ok(()))
    }

    fn land(&self, outcome: Result<()>) {
        *self.outcome.borrow_mut() = Some(outcome);
        if let Some(resolve) = &self.resolve {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}
