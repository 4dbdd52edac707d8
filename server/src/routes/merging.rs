//! A login that issues a merge proof (`?merge=true`, docs/merge.md), shared by the login route
//! (email/password, custom token) and the passkey route: who may merge, and the proof's issue.
//! Not a router of its own.

use axum::http::{HeaderMap, StatusCode};
use guestpass_protocol::{answers::LoginAnswer, merge::MergeAnswer, Secret};
use serde_json::Value;

use crate::{
    error::ApiError,
    extract::BearerToken,
    ids,
    state::AppState,
    store::{MergeProofRecord, UserRecord},
    tokens::RefreshToken,
};

/// The user whose data would move: the bearer's session must be a live session of an
/// anonymous user. Checked before any credentials are tried.
pub(super) async fn anonymous_bearer(state: &AppState, headers: &HeaderMap) -> Result<UserRecord, ApiError> {
    let BearerToken(token) = BearerToken::from_headers(headers)?;
    let grant = state.tokens.verify(&token)?;
    let (user_id, session_id) = (grant.user_id.clone(), grant.session_id.clone());
    let from = state
        .store(move |store| store.user_of_session(&user_id, &session_id))
        .await?
        .ok_or_else(|| ApiError::invalid_session("invalid session: session ended"))?;
    if !from.is_anonymous {
        return Err(from_not_anonymous());
    }
    Ok(from)
}

/// After the account's login: a proof naming both users, recorded so that it can be redeemed
/// once (and, with --merge-webhook, its delivery). On any refusal the new session is ended.
pub(super) async fn issue(
    state: &AppState,
    from: UserRecord,
    login: LoginAnswer<Value>,
) -> Result<(MergeAnswer, LoginAnswer<Value>), ApiError> {
    let into = login.user_id.clone();
    if into == from.id {
        // Only when the anonymous user was linked to this very identity since the check above:
        // it is no longer anonymous, and the session just made is not handed out.
        end_session_quietly(state, &login).await;
        return Err(from_not_anonymous());
    }
    let now = ids::now_secs();
    let (proof, claims) = match state.merge_proofs.issue(&from.id, &into, now) {
        Ok(issued) => issued,
        Err(e) => {
            end_session_quietly(state, &login).await;
            return Err(ApiError::internal(e));
        }
    };
    // With --merge-webhook the delivery is recorded with the proof, due at once.
    let webhook = state.config.merge_webhook.is_some().then(|| crate::merge_webhook::body(&claims, &proof));
    let record = MergeProofRecord {
        jti: claims.jti,
        from_user: claims.from,
        into_user: claims.into,
        issued_at: claims.iat,
        expires_at: claims.exp,
    };
    if let Err(e) = state.store(move |store| store.record_merge_proof(&record, webhook.as_deref())).await {
        end_session_quietly(state, &login).await;
        return Err(e);
    }
    tracing::info!(from = %from.id, into = %into, "merge proof issued");
    Ok((MergeAnswer { from: from.id, into, proof: Secret::new(proof) }, login))
}

/// The error of a merge whose bearer is not an anonymous user.
fn from_not_anonymous() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "MergeFromNotAnonymous",
        "only an anonymous user's data can be merged into another account; this session's user is signed in",
    )
}

/// Revokes the session a merge login made when the merge is refused after it: the answer is
/// an error, so no one holds its tokens, and the row should not wait for the sweep.
async fn end_session_quietly(state: &AppState, login: &LoginAnswer<Value>) {
    let hash = RefreshToken::from_client(login.refresh_token.expose()).hash();
    if let Err(e) = state.store(move |store| store.end_session(&hash)).await {
        tracing::warn!(user_id = %login.user_id, error = %e, "the session of a refused merge could not be ended");
    }
}
