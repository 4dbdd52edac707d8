//! The life of a session: authenticated requests (the SDK's own and the page's `user.fetch`),
//! linking, the access-token refresh, logout and deletion.
//!
//! The rules (docs/wire.md, "Errors"):
//! - only `401 InvalidSession` on an access-token request calls for a refresh, and the request
//!   is retried once after it: a server that keeps refusing cannot make the SDK loop (realm-web
//!   does loop);
//! - a `401` to the refresh itself means the session is over: the user is logged out locally,
//!   and an anonymous user removed, since nothing can log back in to it;
//! - any other refresh failure (network, 5xx) keeps the session: it may work next time, but not
//!   before a back-off delay (1 s, doubling up to 60 s): calls meanwhile fail at once with the
//!   same error, without a request, so an outage is not met with a storm of refreshes.
//!
//! Refreshes are single-flight twice over: calls of one page share one refresh ([`Flight`]),
//! and the pages of the browser profile take turns under the user's `refresh:<userId>` Web Lock
//! (src/locks.rs), where storage is read first: a token another tab got meanwhile is taken without a
//! request. A refresh storm in five tabs is one request.

use std::cell::RefCell;
use std::rc::Rc;

use guestpass_protocol::answers::SessionAnswer;
use guestpass_protocol::page::UserStatus;
use guestpass_protocol::passkey::{PasskeyChallenge, REGISTRATION_ROUTE};
use js_sys::{Date, Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::app::AppState;
use crate::codec::{self, JsData};
use crate::credentials::Provider;
use crate::error::{Error, Result, INVALID_ARGUMENT, NOT_LOGGED_IN};
use crate::events::Kind;
use crate::locks;
use crate::passkey;
use crate::transport::{read, refused_session, request, send, Outgoing, Verb};
use crate::user::{Profile, UserState};

/// The first back-off after a refresh failed without a definitive answer, and the longest.
const BACKOFF_MS: f64 = 1000.0;
const MAX_BACKOFF_MS: f64 = 60_000.0;

/// A protocol request with the user's access token, refreshed and retried once if the server
/// says the token is no longer good; the answer's JSON.
pub(crate) async fn authenticated(
    app: &AppState,
    user: &Rc<UserState>,
    outgoing: &Outgoing<'_>,
) -> Result<Option<JsValue>> {
    read(fetch(app, user, outgoing).await?).await
}

/// `user.fetch`: the page's request, with the access token only when `with_token` (the URL is
/// on the base URL's origin, or the page asked for it); without, it is sent as it is, once.
pub(crate) async fn page_fetch(
    app: &AppState,
    user: &Rc<UserState>,
    outgoing: &Outgoing<'_>,
    with_token: bool,
) -> Result<web_sys::Response> {
    if with_token {
        return fetch(app, user, outgoing).await;
    }
    if !user.is_active() {
        return Err(not_logged_in());
    }
    send(outgoing, None).await
}

/// Sends `outgoing` with the user's access token; after a `401 InvalidSession` (or without an
/// access token) the token is refreshed and the request sent once more. Any other answer is
/// returned as it is.
pub(crate) async fn fetch(app: &AppState, user: &Rc<UserState>, outgoing: &Outgoing<'_>) -> Result<web_sys::Response> {
    let mut refreshed = false;
    loop {
        let token = user.access_token();
        if let Some(token) = &token {
            let response = send(outgoing, Some(token)).await?;
            if refreshed || !refused_session(&response).await {
                return Ok(response);
            }
        } else if refreshed {
            return Err(not_logged_in());
        }
        renew(app, user, token.as_deref()).await?;
        refreshed = true;
    }
}

/// Adds the identity `provider` proves to `user` (`?link=true` on its login route, with the
/// user's access token). The user keeps its id and refresh token and gets a new access token
/// and profile. On any failure nothing about the user changes (except that a refused refresh
/// token ends the session, as everywhere). A passkey is made first, by a registration ceremony
/// ([`passkey_registration`]).
pub(crate) async fn link(app: &AppState, user: &Rc<UserState>, provider: &Provider) -> Result<()> {
    if provider.is_anonymous() {
        return Err(Error::client(INVALID_ARGUMENT, "anonymous credentials cannot be linked to a user"));
    }
    let session = user.refresh_token().ok_or_else(not_logged_in)?;
    let body = match provider {
        Provider::Passkey => passkey_registration(app, user).await?,
        _ => codec::to_text(&provider.login_body(app.device_id())),
    };
    let url = app.login_url(provider);
    let outgoing = Outgoing::Protocol { method: Verb::Post, url: &url, link: true, body: Some(&body) };
    let answer = authenticated(app, user, &outgoing).await?;
    let answer: SessionAnswer<JsData> = answer.and_then(codec::from_js).ok_or_else(|| Error::invalid_response(200))?;
    // A link answer names the linking user (`LinkAnswer`).
    if answer.user_id.as_deref() != Some(user.id.as_str()) {
        return Err(Error::invalid_response(200));
    }
    // The user may have logged out meanwhile: a token of the old session must not revive it.
    if user.refresh_token().as_deref() != Some(session.as_str()) {
        return Ok(());
    }
    user.set_access_token(answer.access_token);
    let profile = answer.profile;
    let without_profile = profile.is_none();
    if let Some(profile) = profile {
        user.set_profile(profile);
    }
    app.commit(user, (!without_profile).then_some(Kind::Link));
    if without_profile {
        // A server that does not send the profile with the answer (App Services): the new
        // identity must be known before the user stops being anonymous here.
        refresh_profile(app, user).await?;
        app.emit(Kind::Link, user, false);
    }
    Ok(())
}

/// A passkey registration up to its last request: `POST P/registration` with the user's access
/// token for a challenge bound to the user, then the browser's prompt to create the passkey
/// (src/passkey.rs); the body of `P/login?link=true`. Nothing about the user changes here.
async fn passkey_registration(app: &AppState, user: &Rc<UserState>) -> Result<String> {
    passkey::require()?;
    let url = app.passkey_url(REGISTRATION_ROUTE);
    let start = Outgoing::Protocol { method: Verb::Post, url: &url, link: false, body: Some("{}") };
    let challenge: PasskeyChallenge<JsData> =
        authenticated(app, user, &start).await?.and_then(codec::from_js).ok_or_else(|| Error::invalid_response(200))?;
    let credential = passkey::create(&challenge.public_key.0).await?;
    Ok(Provider::passkey_body(challenge.challenge_id, JsData(credential), app.device_id()))
}

/// Gets a new access token after `failed` was refused (or when there was none), unless another
/// call already did.
async fn renew(app: &AppState, user: &Rc<UserState>, failed: Option<&str>) -> Result<()> {
    let refreshing = user.refreshing.borrow().is_some();
    if !refreshing && user.access_token().as_deref() != failed {
        return Ok(());
    }
    refresh_access_token(app, user).await
}

/// `POST C/auth/session` with the refresh token; stores the new access token.
///
/// Calls that overlap share one request: a page firing several requests when the token has
/// expired spends one refresh, not one each.
pub(crate) async fn refresh_access_token(app: &AppState, user: &Rc<UserState>) -> Result<()> {
    if let Some(backoff) = &*user.backoff.borrow() {
        if Date::now() < backoff.until {
            return Err(backoff.error.clone());
        }
    }
    let in_flight = user.refreshing.borrow().clone();
    if let Some(flight) = in_flight {
        return flight.wait().await;
    }
    let flight = Rc::new(Flight::new());
    *user.refreshing.borrow_mut() = Some(flight.clone());
    let result = refresh_now(app, user).await;
    *user.refreshing.borrow_mut() = None;
    flight.land(result.clone());
    result
}

async fn refresh_now(app: &AppState, user: &Rc<UserState>) -> Result<()> {
    let before = user.access_token();
    let mut lock = locks::acquire(&app.lock_name("refresh:", &user.id), false).await;
    app.sync();
    if app.settle(&lock, &|| !user.is_active() || user.access_token() != before).await {
        // Another tab (or App) refreshed while this one waited, or the user logged out.
        return match user.state() {
            UserStatus::Active => Ok(()),
            _ => Err(not_logged_in()),
        };
    }
    let token = user.refresh_token().ok_or_else(not_logged_in)?;
    let url = app.session_url();
    let answer = request(&Outgoing::route(Verb::Post, &url), Some(&token)).await;
    // The user may have logged out (or in again) while we waited: only touch the session we
    // refreshed.
    let same_session = user.refresh_token().as_deref() == Some(token.as_str());
    match answer {
        Ok(body) => {
            let answer: SessionAnswer<JsData> =
                body.and_then(codec::from_js).ok_or_else(|| Error::invalid_response(200))?;
            *user.backoff.borrow_mut() = None;
            if same_session {
                user.set_access_token(answer.access_token);
                app.commit(user, Some(Kind::Refresh));
                lock.wrote();
            }
            Ok(())
        }
        Err(error) => {
            if error.status == 401 && same_session {
                app.end_session(user, false);
            } else if error.is_transient() {
                let mut backoff = user.backoff.borrow_mut();
                let delay = backoff.as_ref().map_or(BACKOFF_MS, |b| (b.delay * 2.0).min(MAX_BACKOFF_MS));
                *backoff = Some(Backoff { until: Date::now() + delay, delay, error: error.clone() });
            }
            Err(error)
        }
    }
}

/// A refresh that failed without a definitive answer, and when the next may be tried.
#[derive(Debug)]
pub(crate) struct Backoff {
    until: f64,
    delay: f64,
    error: Error,
}

/// `GET C/auth/profile`; stores the profile.
pub(crate) async fn refresh_profile(app: &AppState, user: &Rc<UserState>) -> Result<()> {
    let url = app.profile_url();
    let body = authenticated(app, user, &Outgoing::route(Verb::Get, &url)).await?;
    let profile: Profile = body.and_then(codec::from_js).ok_or_else(|| Error::invalid_response(200))?;
    let linked = profile.identities.len() != user.identity_count();
    user.set_profile(profile);
    app.commit(user, linked.then_some(Kind::Link));
    Ok(())
}

/// Ends the user's session here, then on the server (`DELETE C/auth/session`); with `remove`
/// (`app.removeUser`) the user is forgotten here too.
///
/// The local session ends first and always, as in realm-core: a page that asked to log out must
/// not keep a session because the network failed. A server that no longer knows the session
/// (401) is what we wanted anyway; any other failure is still reported, since the server-side
/// session then lives on until it expires.
pub(crate) async fn log_out(app: &AppState, user: &Rc<UserState>, remove: bool) -> Result<()> {
    let token = user.refresh_token();
    app.end_session(user, remove);
    let Some(token) = token else {
        return Ok(());
    };
    let url = app.session_url();
    match request(&Outgoing::route(Verb::Delete, &url), Some(&token)).await {
        Err(error) if error.status != 401 => Err(error),
        _ => Ok(()),
    }
}

/// Deletes the user on the server (`DELETE C/auth/delete`, with its own access token), then
/// forgets it here. If the server refuses, nothing changes here.
pub(crate) async fn delete_user(app: &AppState, user: &Rc<UserState>) -> Result<()> {
    let url = app.delete_url();
    authenticated(app, user, &Outgoing::route(Verb::Delete, &url)).await?;
    app.end_session(user, true);
    Ok(())
}

fn not_logged_in() -> Error {
    Error::client(NOT_LOGGED_IN, "the user is not logged in")
}

/// A refresh under way, that later callers wait for and share the outcome of.
#[derive(Debug)]
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
