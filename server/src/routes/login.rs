//! `POST /app/{app}/auth/providers/{provider}/login`: log in, creating the user when the
//! provider says so (every anonymous login is a new user; reuse is the client's job).

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use guestpass_protocol::{
    answers::{LinkAnswer, LoginAnswer},
    bodies::LoginOptions,
    merge::MergeLoginAnswer,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    intent::{self, Intent},
    merging,
};
use crate::{
    answers, emails,
    error::ApiError,
    extract::{BearerToken, ClientAddr, JsonBody},
    ids,
    passwords::Password,
    state::AppState,
    store::{
        IdentityLogin, IdentityRecord, LinkOutcome, LoginOutcome, NewAnonymousUser, NewIdentity, NewSession,
        SessionRecord, UserRecord, VerifiedHash,
    },
    tokens::{AccessGrant, RefreshToken},
};

pub const ANON_USER: &str = "anon-user";
pub const LOCAL_USERPASS: &str = "local-userpass";
pub const CUSTOM_TOKEN: &str = "custom-token";

/// What the login route answers: a new session, or (`?link=true`) the same session with a new
/// access token, or (`?merge=true`) a new session and a merge proof.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer {
    Login(LoginAnswer<Value>),
    Link(LinkAnswer<Value>),
    Merge(MergeLoginAnswer<Value>),
}

pub fn router() -> Router<AppState> {
    Router::new().route("/app/{app_id}/auth/providers/{provider}/login", post(login))
}

/// The login body: provider fields at the top level plus `options` (docs/wire.md).
#[derive(Debug, Default, Deserialize)]
struct LoginBody {
    #[serde(default)]
    options: Option<LoginOptions>,
    /// `local-userpass`: the email.
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<Password>,
    /// `custom-token`: the external JWT (a secret too).
    #[serde(default)]
    token: Option<Password>,
}

impl LoginBody {
    /// The client's device id if it sent a usable one, else a new one.
    fn device_id(&self, now: u64) -> String {
        intent::device_id(self.options.as_ref(), now)
    }
}

/// Counts the login by provider and outcome (`success` or the error code answered).
async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    Path((app_id, provider)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: JsonBody<LoginBody>,
) -> Result<Json<Answer>, ApiError> {
    let intent = Intent::of(query.as_deref());
    let known = match provider.as_str() {
        ANON_USER => ANON_USER,
        LOCAL_USERPASS => LOCAL_USERPASS,
        CUSTOM_TOKEN => CUSTOM_TOKEN,
        _ => "other",
    };
    let answer = login_with(&state, client, app_id, provider, intent, headers, body).await;
    state.metrics.login(known, intent.links(), answer.as_ref().map_or_else(|e| e.code, |_| "success"));
    answer
}

async fn login_with(
    state: &AppState,
    client: ClientAddr,
    app_id: String,
    provider: String,
    intent: Intent,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<Answer>, ApiError> {
    let state = state.clone();
    state.check_app(&app_id)?;
    if !state.provider_enabled(&provider) {
        return Err(ApiError::provider_not_found(&provider));
    }
    let link = match intent {
        Intent::Both => return Err(intent::both_refused()),
        Intent::Merge if provider == ANON_USER => {
            return Err(ApiError::bad_request("a merge logs in to an existing account, not a new anonymous user"))
        }
        Intent::Merge => return merge_login(&state, client, &provider, &headers, &body).await,
        Intent::Link => true,
        Intent::Login => false,
    };
    if provider == ANON_USER {
        return if link {
            Err(ApiError::bad_request("cannot link anonymous credentials to an existing user"))
        } else {
            // Each anonymous login mints a user: one address may not mint them without bound.
            state
                .limits
                .anonymous_signups
                .check(&client.key())
                .await?
                .map_err(|wait| ApiError::rate_limited("anonymous sign-ups", wait).for_limit("anonymous_signup"))?;
            anonymous_login(&state, &body).await
        };
    }
    // The Authorization header matters only when linking: realm-web sends the current user's
    // token on plain logins too (docs/wire.md). Check it before the costly password check.
    let linking = if link {
        let BearerToken(token) = BearerToken::from_headers(&headers)?;
        Some(state.tokens.verify(&token)?)
    } else {
        None
    };
    let identity = match provider.as_str() {
        LOCAL_USERPASS => userpass_identity(&state, client, &body).await?,
        CUSTOM_TOKEN => external_identity(&state, &body)?,
        other => return Err(ApiError::provider_not_found(other)),
    };
    match linking {
        Some(grant) => link_identity(&state, grant, identity).await,
        None => Ok(Json(Answer::Login(identity_login(&state, &body, identity).await?))),
    }
}

/// `?merge=true`: the bearer must be an anonymous user (routes/merging.rs), and the body the
/// credentials of another, existing account (checked, throttled and counted as any login).
/// Then: a new session for the account, as a login, and a proof naming both users. Checked in
/// that order, so no password is tried for a bearer that could not merge; nothing is issued
/// unless every check passes.
async fn merge_login(
    state: &AppState,
    client: ClientAddr,
    provider: &str,
    headers: &HeaderMap,
    body: &LoginBody,
) -> Result<Json<Answer>, ApiError> {
    let from = merging::anonymous_bearer(state, headers).await?;
    let identity = match provider {
        LOCAL_USERPASS => userpass_identity(state, client, body).await?,
        CUSTOM_TOKEN => external_identity(state, body)?,
        other => return Err(ApiError::provider_not_found(other)),
    };
    let login = identity_login(state, body, identity).await?;
    let (merge, login) = merging::issue(state, from, login).await?;
    Ok(Json(Answer::Merge(MergeLoginAnswer { merge, login })))
}

fn invalid_password() -> ApiError {
    // Not "unauthorized" and not InvalidSession: realm-web refreshes and retries those forever.
    ApiError::new(StatusCode::UNAUTHORIZED, "InvalidPassword", "invalid username/password")
}

/// Checks an email and password; the identity they prove. Failures are throttled per
/// account (known or not, so the throttle tells nothing) and per client: past either limit,
/// no password is checked, the right one included, until the backoff has passed.
async fn userpass_identity(state: &AppState, client: ClientAddr, body: &LoginBody) -> Result<NewIdentity, ApiError> {
    let (Some(username), Some(password)) = (&body.username, &body.password) else {
        return Err(ApiError::bad_request("username and password are required"));
    };
    let email = emails::canonical(username).map_err(|_| invalid_password())?;
    let limits = &state.limits;
    limits.login_failures_by_account.check(&email).await?.map_err(|wait| {
        ApiError::too_many_requests(format!("too many failed logins for this account; try again in {wait} s"), wait)
            .for_limit("login_failure")
    })?;
    limits.login_failures_by_client.check(&client.key()).await?.map_err(|wait| {
        ApiError::too_many_requests(format!("too many failed logins from this address; try again in {wait} s"), wait)
            .for_limit("login_failure_per_address")
    })?;
    let lookup = email.clone();
    let account = state.store(move |store| store.userpass_account(&lookup)).await?;
    let confirmed = account.as_ref().is_some_and(|a| a.confirmed);
    let checked = account.map(|a| a.password_hash);
    if !state.passwords.verify(password, checked.clone()).await? {
        // Not counted only if the database is down, when the checks above refuse all the same.
        for recorded in [
            limits.login_failures_by_account.record_failure(&email).await,
            limits.login_failures_by_client.record_failure(&client.key()).await,
        ] {
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "a failed login could not be counted");
            }
        }
        return Err(invalid_password());
    }
    if !confirmed {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AuthError",
            "confirmation required: follow the link sent to this address first",
        ));
    }
    Ok(NewIdentity {
        provider_type: LOCAL_USERPASS.into(),
        uid: email.clone(),
        data: json!({ "email": email }).to_string(),
        // The write re-checks it: a reset or deletion after this check makes the login fail.
        verified_hash: checked.map(VerifiedHash),
    })
}

/// Verifies an external JWT; the identity its `sub` names.
fn external_identity(state: &AppState, body: &LoginBody) -> Result<NewIdentity, ApiError> {
    let verifier = state.external_jwt.as_ref().ok_or_else(|| ApiError::provider_not_found(CUSTOM_TOKEN))?;
    let token = body.token.as_ref().ok_or_else(|| ApiError::bad_request("token is required"))?;
    let external = verifier.verify(token.expose())?;
    Ok(NewIdentity {
        provider_type: CUSTOM_TOKEN.into(),
        uid: external.sub,
        data: Value::Object(external.data).to_string(),
        verified_hash: None,
    })
}

/// Logs in with a proven identity: its user, or a new one, and a new session.
async fn identity_login(
    state: &AppState,
    body: &LoginBody,
    identity: NewIdentity,
) -> Result<LoginAnswer<Value>, ApiError> {
    let now = ids::now_secs();
    let refresh_token = RefreshToken::generate();
    let session =
        NewSession { id: ids::object_id(now), refresh_hash: refresh_token.hash(), device_id: body.device_id(now) };
    let lifetimes = state.session_lifetimes();
    let login = match state.store(move |store| store.login_identity(&identity, &session, now, lifetimes)).await? {
        LoginOutcome::LoggedIn(login) => login,
        LoginOutcome::UserDisabled => {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "UserDisabled", "this user is disabled"))
        }
        // The password was right until a reset (or the account's deletion) came between its
        // check and this write: it is wrong now, and is answered as such.
        LoginOutcome::CredentialChanged => return Err(invalid_password()),
    };
    if login.created_user {
        tracing::info!(user_id = %login.user.id, "user created");
    }
    answers::login(state, &login, &refresh_token, now)
}

/// Attaches a proven identity to the user of the bearer's session. The session and its
/// refresh token stay valid; a new access token says the user is no longer anonymous.
async fn link_identity(state: &AppState, grant: AccessGrant, identity: NewIdentity) -> Result<Json<Answer>, ApiError> {
    let now = ids::now_secs();
    let (user_id, session_id) = (grant.user_id.clone(), grant.session_id.clone());
    let lifetimes = state.session_lifetimes();
    let outcome =
        state.store(move |store| store.link_identity(&user_id, &session_id, &identity, now, lifetimes)).await?;
    let (user, session_ends_at) = match outcome {
        LinkOutcome::Linked { user, session_ends_at } => (user, session_ends_at),
        LinkOutcome::OwnedByAnotherUser => {
            state.metrics.link_conflict("identity_owned_by_another_user");
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "AccountNameInUse",
                "this identity is already linked to another user",
            ));
        }
        // Not 401: nothing a refresh or a retry could fix (realm-web would retry a 401 forever).
        LinkOutcome::ProviderAlreadyLinked => {
            state.metrics.link_conflict("provider_already_linked");
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "IdentityAlreadyExists",
                "this user already has an identity of this provider; a user can link one per provider",
            ));
        }
        LinkOutcome::CredentialChanged => return Err(invalid_password()),
        LinkOutcome::SessionEnded => return Err(ApiError::invalid_session("invalid session: session ended")),
    };
    tracing::info!(user_id = %user.id, "identity linked");
    Ok(Json(Answer::Link(answers::link(state, grant, user, session_ends_at, now)?)))
}

async fn anonymous_login(state: &AppState, body: &LoginBody) -> Result<Json<Answer>, ApiError> {
    let now = ids::now_secs();
    let refresh_token = RefreshToken::generate();
    let new = NewAnonymousUser {
        user_id: ids::object_id(now),
        identity_id: ids::object_id(now),
        session: NewSession {
            id: ids::object_id(now),
            refresh_hash: refresh_token.hash(),
            device_id: body.device_id(now),
        },
        now,
    };
    let user = UserRecord {
        id: new.user_id.clone(),
        is_anonymous: true,
        identities: vec![IdentityRecord {
            id: new.identity_id.clone(),
            provider_type: ANON_USER.into(),
            data: "{}".into(),
        }],
        data: "{}".into(),
        created_at: now,
        last_active_at: now,
        disabled: false,
    };
    let session = SessionRecord {
        session_id: new.session.id.clone(),
        user_id: new.user_id.clone(),
        device_id: new.session.device_id.clone(),
        is_anonymous: true,
        ends_at: None,
    };
    // The answer (its access token) is made before the user is written: a failure to sign
    // leaves no user behind.
    let answer = answers::login(state, &IdentityLogin { user, session, created_user: true }, &refresh_token, now)?;
    state.store(move |store| store.create_anonymous_user(&new)).await?;
    tracing::info!(user_id = %answer.user_id, "anonymous user created");
    Ok(Json(Answer::Login(answer)))
}
