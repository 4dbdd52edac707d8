//! The protocol's answers built from the store's records: one place that turns a user into the
//! profile every route sends, in the shapes of `guestpass-protocol` (the crate the SDK reads
//! them with), so the server and the SDK cannot disagree on a field.

use guestpass_protocol::{
    answers::{Identity, LinkAnswer, LoginAnswer, Profile},
    Secret,
};
use serde_json::Value;

use crate::{
    error::ApiError,
    state::AppState,
    store::{IdentityLogin, UserRecord},
    tokens::{AccessGrant, RefreshToken, Subject},
};

/// A profile whose free-form parts (`data`, `provider_data`) are JSON values.
pub type UserProfile = Profile<Value>;

/// The profile as `GET /auth/profile` and the login and link answers carry it.
/// Anonymous users also get `expires_at`: when the inactivity sweep will delete them unless
/// they are active again (so a page can ask the user to link in time). Other users get
/// `session_expires_at`: when the session (`session_ends_at`) ends unless it is refreshed
/// before, after which the user must log in again.
pub fn profile(state: &AppState, user: &UserRecord, session_ends_at: Option<u64>) -> Result<UserProfile, ApiError> {
    // Stored by the server itself: a row that does not parse is our fault, not the client's.
    let parse = |text: &str| serde_json::from_str::<Value>(text).map_err(ApiError::internal);
    let identities = user
        .identities
        .iter()
        .map(|i| {
            Ok(Identity {
                id: i.id.clone(),
                provider_type: i.provider_type.clone(),
                provider_id: i.provider_type.clone(),
                provider_data: parse(&i.data)?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let (expires_at, session_expires_at) = if user.is_anonymous {
        (Some(state.anonymous_expiry(user.last_active_at)), None)
    } else {
        (None, session_ends_at)
    };
    Ok(Profile {
        user_id: user.id.clone(),
        domain_id: state.config.app_id.clone(),
        kind: "normal".into(),
        identities,
        data: parse(&user.data)?,
        creation_date: user.created_at,
        last_authentication_date: user.last_active_at,
        expires_at,
        session_expires_at,
    })
}

/// The answer to a login the store has written: an access token for the new session, its
/// refresh token and the user's profile.
pub fn login(
    state: &AppState,
    login: &IdentityLogin,
    refresh_token: &RefreshToken,
    now: u64,
) -> Result<LoginAnswer<Value>, ApiError> {
    let s = &login.session;
    let access_token = state.tokens.issue(
        Subject {
            user_id: &s.user_id,
            session_id: &s.session_id,
            device_id: &s.device_id,
            is_anonymous: s.is_anonymous,
            session_ends_at: s.ends_at,
        },
        now,
    )?;
    Ok(LoginAnswer {
        access_token: Secret::new(access_token),
        refresh_token: Secret::new(refresh_token.as_str().to_owned()),
        profile: Some(profile(state, &login.user, s.ends_at)?),
        user_id: s.user_id.clone(),
        device_id: Some(s.device_id.clone()),
    })
}

/// The answer to a link the store has written: the bearer's session goes on, with a new
/// access token that says whether the user is still anonymous, and the profile with the new
/// identity.
pub fn link(
    state: &AppState,
    grant: AccessGrant,
    user: UserRecord,
    session_ends_at: Option<u64>,
    now: u64,
) -> Result<LinkAnswer<Value>, ApiError> {
    let access_token = state.tokens.issue(
        Subject {
            user_id: &user.id,
            session_id: &grant.session_id,
            device_id: &grant.device_id,
            is_anonymous: user.is_anonymous,
            session_ends_at,
        },
        now,
    )?;
    Ok(LinkAnswer {
        access_token: Secret::new(access_token),
        profile: Some(profile(state, &user, session_ends_at)?),
        user_id: user.id,
        device_id: Some(grant.device_id),
    })
}
