//! The `passkey` provider (issue 11, docs/wire.md "Passkeys"): start a registration (a
//! signed-in user links a passkey), start a username-less login, and finish either at the
//! provider's `login` route (`?link=true` for a registration).

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use guestpass_protocol::{
    answers::{LinkAnswer, LoginAnswer},
    merge::MergeLoginAnswer,
    passkey::{PasskeyChallenge, PasskeyLoginBody},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    intent::{self, Intent},
    merging,
};
use crate::{
    answers,
    error::ApiError,
    extract::{BearerToken, ClientAddr, JsonBody},
    ids,
    passkeys::{self, PasskeyError},
    state::AppState,
    store::{
        Ceremony, ChallengeRecord, LinkOutcome, NewSession, PasskeyLoginOutcome, PasskeyRecord, PasskeyUse, PASSKEY,
    },
    tokens::RefreshToken,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/{app_id}/auth/providers/passkey/registration", post(start_registration))
        .route("/app/{app_id}/auth/providers/passkey/authentication", post(start_authentication))
        .route("/app/{app_id}/auth/providers/passkey/login", post(finish))
}

/// Both starts take `{}` (or nothing).
#[derive(Debug, Default, Deserialize)]
struct StartBody {}

type Started = PasskeyChallenge<Value>;

/// The finish body (the protocol's `PasskeyLoginBody`, with the browser's credential as JSON);
/// `None` for an empty body, refused as one without its fields.
type FinishBody = Option<PasskeyLoginBody<Value>>;

#[derive(Serialize)]
#[serde(untagged)]
enum Answer {
    Login(LoginAnswer<Value>),
    Link(LinkAnswer<Value>),
    Merge(MergeLoginAnswer<Value>),
}

fn challenge_invalid() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "PasskeyChallengeInvalid",
        "the passkey challenge is unknown, used, expired or for another ceremony; start again",
    )
}

fn already_registered(state: &AppState) -> ApiError {
    state.metrics.link_conflict("passkey_already_registered");
    ApiError::new(StatusCode::CONFLICT, "PasskeyAlreadyRegistered", "this passkey is already registered")
}

fn credential_unknown() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "PasskeyCredentialUnknown", "this passkey is not registered here")
}

fn counter_regressed() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "PasskeyCounterRegressed",
        "the passkey's signature counter went backwards; it may have been cloned",
    )
}

/// The answer to a ceremony that did not verify; the cause is logged, not sent.
fn refused(e: PasskeyError) -> ApiError {
    match e {
        PasskeyError::Malformed(why) => ApiError::bad_request(format!("invalid credential: {why}")),
        PasskeyError::ChallengeMismatch => challenge_invalid(),
        PasskeyError::OriginMismatch => ApiError::new(
            StatusCode::BAD_REQUEST,
            "PasskeyOriginMismatch",
            "the passkey answered for an origin or relying party this server does not allow",
        ),
        PasskeyError::CounterRegressed => counter_regressed(),
        PasskeyError::VerificationFailed(why) => {
            tracing::info!(cause = %why, "passkey verification failed");
            ApiError::new(StatusCode::UNAUTHORIZED, "PasskeyVerificationFailed", "the passkey could not be verified")
        }
        PasskeyError::Config(_) | PasskeyError::Corrupt(_) => ApiError::internal(e),
    }
}

/// Whether a refusal counts as a failed login for the per-address throttle.
fn is_failure(e: &ApiError) -> bool {
    e.code.starts_with("Passkey")
}

fn check_provider(state: &AppState, app_id: &str) -> Result<(), ApiError> {
    state.check_app(app_id)?;
    if !state.provider_enabled(PASSKEY) {
        return Err(ApiError::provider_not_found(PASSKEY));
    }
    Ok(())
}

/// The throttle the password logins use: past too many failures from an address, nothing
/// more is checked from it until the backoff passes.
async fn check_throttle(state: &AppState, client: ClientAddr) -> Result<(), ApiError> {
    state.limits.login_failures_by_client.check(&client.key()).await?.map_err(|wait| {
        ApiError::too_many_requests(format!("too many failed logins from this address; try again in {wait} s"), wait)
            .for_limit("login_failure_per_address")
    })
}

async fn record_failure(state: &AppState, client: ClientAddr, e: &ApiError) {
    if is_failure(e) {
        if let Err(e) = state.limits.login_failures_by_client.record_failure(&client.key()).await {
            tracing::warn!(error = %e, "a failed passkey login could not be counted");
        }
    }
}

async fn store_challenge(
    state: &AppState,
    ceremony: Ceremony,
    user_id: Option<String>,
    public_key: Value,
    serialised: String,
) -> Result<Json<Started>, ApiError> {
    let challenge = ChallengeRecord {
        id: passkeys::encode_id(&ids::random_bytes::<32>()),
        ceremony,
        user_id,
        state: serialised,
        expires_at: ids::now_secs() + state.config.passkey_challenge_ttl.as_secs().max(1),
    };
    let challenge_id = challenge.id.clone();
    state.store(move |store| store.add_passkey_challenge(&challenge)).await?;
    Ok(Json(PasskeyChallenge { challenge_id, public_key }))
}

/// `POST .../passkey/registration`: creation options for the bearer's user.
async fn start_registration(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    JsonBody(_): JsonBody<StartBody>,
) -> Result<Json<Started>, ApiError> {
    check_provider(&state, &app_id)?;
    let BearerToken(token) = BearerToken::from_headers(&headers)?;
    let grant = state.tokens.verify(&token)?;
    check_throttle(&state, client).await?;
    let (user_id, session_id) = (grant.user_id.clone(), grant.session_id.clone());
    let (user, existing) = state
        .store(move |store| {
            let Some(user) = store.user_of_session(&user_id, &session_id)? else { return Ok(None) };
            Ok(Some((user, store.passkeys_of(&user_id)?)))
        })
        .await?
        .ok_or_else(|| ApiError::invalid_session("invalid session: session ended"))?;
    // The name the browser shows beside the passkey: the email if the user has one.
    let email = user
        .identities
        .iter()
        .find_map(|i| serde_json::from_str::<Value>(&i.data).ok()?.get("email")?.as_str().map(str::to_owned));
    let name = email.unwrap_or_else(|| format!("{} reader", state.config.passkey_rp_name));
    let existing: Vec<String> = existing.into_iter().map(|p| p.passkey).collect();
    let (public_key, serialised) =
        state.relying_party.start_registration(&user.id, &name, &existing).map_err(refused)?;
    store_challenge(&state, Ceremony::Registration, Some(user.id), public_key, serialised).await
}

/// `POST .../passkey/authentication`: request options for a login that names no user.
async fn start_authentication(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(app_id): Path<String>,
    JsonBody(_): JsonBody<StartBody>,
) -> Result<Json<Started>, ApiError> {
    check_provider(&state, &app_id)?;
    check_throttle(&state, client).await?;
    let (public_key, serialised) = state.relying_party.start_authentication().map_err(refused)?;
    store_challenge(&state, Ceremony::Authentication, None, public_key, serialised).await
}

/// `POST .../passkey/login[?link=true]`: finishes a ceremony; counted like the other logins.
async fn finish(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    // Read after the provider check: a switched-off provider answers AuthProviderNotFound
    // whatever the body.
    body: Result<JsonBody<FinishBody>, ApiError>,
) -> Result<Json<Answer>, ApiError> {
    let intent = Intent::of(query.as_deref());
    let answer = match check_provider(&state, &app_id).and_then(|()| body.map(|JsonBody(body)| body)) {
        Ok(body) => match intent {
            Intent::Both => Err(intent::both_refused()),
            Intent::Link => finish_registration(&state, client, &headers, body).await,
            Intent::Merge => merge_login(&state, client, &headers, body).await,
            Intent::Login => finish_login(&state, client, body).await.map(|login| Json(Answer::Login(login))),
        },
        Err(e) => Err(e),
    };
    if let Err(e) = &answer {
        record_failure(&state, client, e).await;
    }
    state.metrics.login(PASSKEY, intent.links(), answer.as_ref().map_or_else(|e| e.code, |_| "success"));
    answer
}

fn required(body: FinishBody) -> Result<PasskeyLoginBody<Value>, ApiError> {
    let body = body.ok_or_else(|| ApiError::bad_request("challenge_id and credential are required"))?;
    if !body.credential.is_object() {
        return Err(ApiError::bad_request("credential must be an object"));
    }
    Ok(body)
}

async fn take_challenge(state: &AppState, id: String, ceremony: Ceremony) -> Result<ChallengeRecord, ApiError> {
    let now = ids::now_secs();
    state.store(move |store| store.take_passkey_challenge(&id, ceremony, now)).await?.ok_or_else(challenge_invalid)
}

async fn finish_registration(
    state: &AppState,
    client: ClientAddr,
    headers: &HeaderMap,
    body: FinishBody,
) -> Result<Json<Answer>, ApiError> {
    let BearerToken(token) = BearerToken::from_headers(headers)?;
    let grant = state.tokens.verify(&token)?;
    let PasskeyLoginBody { challenge_id, credential, .. } = required(body)?;
    // Parsed before the challenge is used up: a malformed body changes nothing.
    let answer = state.relying_party.registration_answer(credential).map_err(refused)?;
    check_throttle(state, client).await?;
    let challenge = take_challenge(state, challenge_id, Ceremony::Registration).await?;
    if challenge.user_id.as_deref() != Some(grant.user_id.as_str()) {
        return Err(challenge_invalid());
    }
    // webauthn-rs refuses a credential of excludeCredentials with a misnamed error: this
    // user's own passkeys are answered as every stored one is, 409.
    let claimed = answer.credential_id();
    if state.store(move |store| store.passkey(&claimed)).await?.is_some() {
        return Err(already_registered(state));
    }
    let registered = state.relying_party.finish_registration(&answer, &challenge.state).map_err(refused)?;
    let now = ids::now_secs();
    let record = PasskeyRecord {
        credential_id: registered.credential_id.clone(),
        user_id: grant.user_id.clone(),
        passkey: registered.passkey,
        counter: registered.counter,
        backup_eligible: registered.backup_eligible,
        backup_state: registered.backup_state,
        created_at: now,
        last_used_at: None,
    };
    let session_id = grant.session_id.clone();
    let lifetimes = state.session_lifetimes();
    let outcome = state.store(move |store| store.link_passkey(&session_id, &record, now, lifetimes)).await?;
    let (user, session_ends_at) = match outcome {
        Some(LinkOutcome::Linked { user, session_ends_at }) => (user, session_ends_at),
        None => return Err(already_registered(state)),
        Some(LinkOutcome::SessionEnded) => return Err(ApiError::invalid_session("invalid session: session ended")),
        Some(other) => return Err(ApiError::internal(format!("unexpected passkey link outcome {other:?}"))),
    };
    tracing::info!(user_id = %user.id, credential_id = %registered.credential_id, "passkey linked");
    Ok(Json(Answer::Link(answers::link(state, grant, user, session_ends_at, now)?)))
}

/// `?merge=true` (docs/merge.md): the bearer must be an anonymous user, checked before the
/// assertion; then the passkey's login, and a proof that the guest's data may move into it.
async fn merge_login(
    state: &AppState,
    client: ClientAddr,
    headers: &HeaderMap,
    body: FinishBody,
) -> Result<Json<Answer>, ApiError> {
    let from = merging::anonymous_bearer(state, headers).await?;
    let login = finish_login(state, client, body).await?;
    let (merge, login) = merging::issue(state, from, login).await?;
    Ok(Json(Answer::Merge(MergeLoginAnswer { merge, login })))
}

async fn finish_login(state: &AppState, client: ClientAddr, body: FinishBody) -> Result<LoginAnswer<Value>, ApiError> {
    let PasskeyLoginBody { challenge_id, credential, options } = required(body)?;
    let assertion = state.relying_party.identify(credential).map_err(refused)?;
    check_throttle(state, client).await?;
    let challenge = take_challenge(state, challenge_id, Ceremony::Authentication).await?;
    let credential_id = assertion.credential_id.clone();
    let stored = state.store(move |store| store.passkey(&credential_id)).await?.ok_or_else(credential_unknown)?;
    // The user handle the authenticator keeps must be the owner's (WebAuthn §7.2 step 6).
    if assertion.user_handle != passkeys::user_handle(&stored.user_id) {
        return Err(refused(PasskeyError::VerificationFailed("the user handle is not the passkey owner's".into())));
    }
    let verified = match state.relying_party.finish_authentication(&assertion, &challenge.state, &stored.passkey) {
        Ok(verified) => verified,
        Err(PasskeyError::CounterRegressed) => {
            warn_counter(&stored.user_id, &stored.credential_id, stored.counter);
            return Err(counter_regressed());
        }
        Err(e) => return Err(refused(e)),
    };
    let now = ids::now_secs();
    let refresh_token = RefreshToken::generate();
    let session = NewSession {
        id: ids::object_id(now),
        refresh_hash: refresh_token.hash(),
        device_id: intent::device_id(options.as_ref(), now),
    };
    let used = PasskeyUse {
        credential_id: stored.credential_id.clone(),
        passkey: verified.passkey,
        counter: verified.counter,
        backup_eligible: verified.backup_eligible,
        backup_state: verified.backup_state,
    };
    let lifetimes = state.session_lifetimes();
    let login = match state.store(move |store| store.login_passkey(&used, &session, now, lifetimes)).await? {
        PasskeyLoginOutcome::LoggedIn(login) => login,
        PasskeyLoginOutcome::Unknown => return Err(credential_unknown()),
        PasskeyLoginOutcome::UserDisabled => {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "UserDisabled", "this user is disabled"))
        }
        PasskeyLoginOutcome::CounterRegressed { stored: counter } => {
            warn_counter(&stored.user_id, &stored.credential_id, counter);
            return Err(counter_regressed());
        }
    };
    answers::login(state, &login, &refresh_token, now)
}

/// A counter that does not advance may mean a cloned authenticator: the operator hears of it
/// (ids only; a public key is no secret, but it tells nobody anything here).
fn warn_counter(user_id: &str, credential_id: &str, stored: u32) {
    tracing::warn!(%user_id, %credential_id, stored_counter = stored, "passkey login refused: the sign counter went backwards");
}
