//! Signing in to an existing account and bringing the guest's data along (docs/merge.md).
//!
//! `app.logIn(credentials, { mergeAnonymous: true })` with an anonymous current user sends the
//! login with `?merge=true` and the anonymous user's access token (refreshed once if refused,
//! as every authenticated request). The server logs in to the account and answers a proof that
//! the anonymous user's data may move into it. The SDK stores the proof (`merge` in storage)
//! before the account's user, keeps the anonymous user listed (no longer current), and the
//! page hands the proof to its backend; then `complete()` deletes the anonymous user on the
//! server and here, or `abandon()` forgets the merge. Until one of them, a reload (or another
//! `App` on the same storage) finds the merge again in `app.pendingMerge`.

use std::rc::Rc;

use guestpass_protocol::answers::SessionAnswer;
use guestpass_protocol::merge::{MergeAnswer, MERGE_QUERY};

use crate::app::AppState;
use crate::codec::{self, JsData};
use crate::credentials::Provider;
use crate::error::{Error, Result, INVALID_ARGUMENT};
use crate::session;
use crate::transport::{Outgoing, Verb};
use crate::user::UserState;

/// Logs in with `provider`; when the current user is anonymous, as a merge: the account's
/// user and the merge now pending. Without an anonymous current user it is a plain login (no
/// merge): there is no guest data to bring along.
pub(crate) async fn log_in(app: &AppState, provider: &Provider) -> Result<(Rc<UserState>, Option<MergeAnswer>)> {
    if provider.is_anonymous() {
        return Err(Error::client(INVALID_ARGUMENT, "mergeAnonymous takes the credentials of an existing account"));
    }
    let Some(guest) = app.current_user().filter(|user| user.is_anonymous()) else {
        return Ok((app.log_in(provider).await?, None));
    };
    // A passkey's login body is its assertion (the browser's picker first; nothing stored yet).
    let body = match provider {
        Provider::Passkey => app.passkey_assertion(app.device_id()).await?,
        _ => codec::to_text(&provider.login_body(app.device_id())),
    };
    let url = [&app.login_url(provider), "?", MERGE_QUERY].concat();
    let outgoing = Outgoing::Protocol { method: Verb::Post, url: &url, link: false, body: Some(&body) };
    let answer = session::authenticated(app, &guest, &outgoing).await?.ok_or_else(|| Error::invalid_response(200))?;
    let mut login: SessionAnswer<JsData> = codec::from_js(answer).ok_or_else(|| Error::invalid_response(200))?;
    // The proof must name the guest it was asked for, and the account logged in to.
    let merge = login
        .merge
        .take()
        .filter(|merge| merge.from == guest.id && login.user_id.as_deref() == Some(merge.into.as_str()))
        .ok_or_else(|| Error::invalid_response(200))?;
    // The merge first: a page closed between the two writes finds the proof again, and the
    // anonymous user it names is still stored.
    app.storage.set_merge(&merge);
    let user = app.take_login(provider, login)?;
    Ok((user, Some(merge)))
}

/// The merge waiting for `complete()` or `abandon()`, as stored.
pub(crate) fn pending(app: &AppState) -> Option<MergeAnswer> {
    app.storage.merge()
}

/// Deletes the merge's anonymous user on the server (`DELETE C/auth/delete` with its own
/// token) and here, then forgets the merge. A user the server no longer has a session for
/// (its refresh refused: it was deleted, or logged out elsewhere) counts as deleted. On any
/// other failure (offline, a 5xx) the merge stays pending, so `complete()` can be tried again.
pub(crate) async fn complete(app: &AppState, merge: &MergeAnswer) -> Result<()> {
    if let Some(guest) = app.users().into_iter().find(|user| user.id == merge.from && user.is_active()) {
        match session::delete_user(app, &guest).await {
            Err(error) if error.status != 401 => return Err(error),
            _ => {}
        }
    }
    forget(app, merge);
    Ok(())
}

/// Forgets the merge (if it is still the pending one). The anonymous user stays listed here,
/// logged in and not current: the page may switch back to it, or remove it.
pub(crate) fn forget(app: &AppState, merge: &MergeAnswer) {
    if app.storage.merge().is_some_and(|stored| stored.proof == merge.proof) {
        app.storage.remove_merge();
    }
}
