//! `local-userpass` account routes: register, confirm, resend confirmation, reset password.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::post,
    Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{
    config::ConfirmMode,
    emails,
    error::ApiError,
    extract::{ClientAddr, JsonBody},
    ids,
    passwords::Password,
    state::AppState,
    store::{NewUserpassToken, RegisterOutcome, TokenPurpose, UserpassAccount},
};

use super::login::LOCAL_USERPASS;

pub fn router() -> Router<AppState> {
    let base = "/app/{app_id}/auth/providers/local-userpass";
    Router::new()
        .route(&format!("{base}/register"), post(register))
        .route(&format!("{base}/confirm"), post(confirm))
        .route(&format!("{base}/confirm/send"), post(resend_confirmation))
        .route(&format!("{base}/reset/send"), post(send_reset))
        .route(&format!("{base}/reset"), post(reset))
}

#[derive(Debug, Default, Deserialize)]
struct EmailPassword {
    email: Option<String>,
    password: Option<Password>,
}

#[derive(Debug, Default, Deserialize)]
struct Email {
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct TokenBody {
    token: Option<Password>,
    #[serde(rename = "tokenId")]
    token_id: Option<String>,
    password: Option<Password>,
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::bad_request(format!("{name} is required")))
}

fn check(state: &AppState, app_id: &str) -> Result<(), ApiError> {
    state.check_app(app_id)?;
    if state.provider_enabled(LOCAL_USERPASS) {
        Ok(())
    } else {
        Err(ApiError::provider_not_found(LOCAL_USERPASS))
    }
}

/// A new one-time token: the secret for the mail, and what the store keeps.
/// Links are valid for `--userpass-token-ttl` (App Services: 30 minutes).
fn new_token(state: &AppState, purpose: TokenPurpose) -> (String, NewUserpassToken) {
    let now = ids::now_secs();
    let secret = URL_SAFE_NO_PAD.encode(ids::random_bytes::<32>());
    let token = NewUserpassToken {
        id: ids::object_id(now),
        hash: token_hash(&secret),
        purpose,
        expires_at: now + state.config.userpass_token_ttl.as_secs(),
    };
    (secret, token)
}

/// What the store keeps of a mailed token.
fn token_hash(token: &(impl AsRef<str> + ?Sized)) -> [u8; 32] {
    Sha256::digest(token.as_ref().as_bytes()).into()
}

fn invalid_token() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "UserpassTokenInvalid", "invalid token data")
}

async fn register(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(app_id): Path<String>,
    JsonBody(body): JsonBody<EmailPassword>,
) -> Result<StatusCode, ApiError> {
    check(&state, &app_id)?;
    state
        .limits
        .registrations
        .check(&client.key())
        .await?
        .map_err(|wait| ApiError::rate_limited("registrations", wait).for_limit("registration"))?;
    let email = emails::canonical(&required(body.email, "email")?)?;
    let password = required(body.password, "password")?;
    password.validate()?;
    let password_hash = state.passwords.hash(&password).await?;
    let confirmed = state.config.userpass_confirm == ConfirmMode::Auto;
    let mail = (!confirmed).then(|| new_token(&state, TokenPurpose::Confirm));
    let account = UserpassAccount { email: email.clone(), password_hash, confirmed };
    let token = mail.as_ref().map(|(_, t)| t.clone());
    let outcome = state.store(move |store| store.register_userpass(&account, token.as_ref(), ids::now_secs())).await?;
    if outcome == RegisterOutcome::EmailInUse {
        return Err(ApiError::new(StatusCode::CONFLICT, "AccountNameInUse", "name already in use"));
    }
    if let Some((secret, token)) = mail {
        state.outbox.send(&email, TokenPurpose::Confirm, &secret, &token.id)?;
    }
    Ok(StatusCode::CREATED)
}

async fn confirm(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<StatusCode, ApiError> {
    check(&state, &app_id)?;
    let (token, token_id) = (required(body.token, "token")?, required(body.token_id, "tokenId")?);
    let hash = token_hash(&token);
    state
        .store(move |store| store.use_userpass_token(&token_id, &hash, TokenPurpose::Confirm, None, ids::now_secs()))
        .await?
        .ok_or_else(invalid_token)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mails a new confirmation link to a pending account. Unknown and already confirmed emails get
/// the same answer and no mail, so the route does not tell who is registered.
async fn resend_confirmation(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(app_id): Path<String>,
    JsonBody(body): JsonBody<Email>,
) -> Result<StatusCode, ApiError> {
    check(&state, &app_id)?;
    let email = emails::canonical(&required(body.email, "email")?)?;
    limit_mails(&state, client, &email).await?;
    let lookup = email.clone();
    let account = state.store(move |store| store.userpass_account(&lookup)).await?;
    if account.is_some_and(|a| !a.confirmed) {
        mail_token(&state, email, TokenPurpose::Confirm).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Mails a reset link. An unknown email gets the same answer and no mail.
async fn send_reset(
    State(state): State<AppState>,
    client: ClientAddr,
    Path(app_id): Path<String>,
    JsonBody(body): JsonBody<Email>,
) -> Result<StatusCode, ApiError> {
    check(&state, &app_id)?;
    let email = emails::canonical(&required(body.email, "email")?)?;
    limit_mails(&state, client, &email).await?;
    let lookup = email.clone();
    if state.store(move |store| store.userpass_account(&lookup)).await?.is_some() {
        mail_token(&state, email, TokenPurpose::Reset).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Mails are limited per client and per recipient, whether the recipient is registered or not
/// (a limit that only known emails reach would tell who is registered).
async fn limit_mails(state: &AppState, client: ClientAddr, email: &str) -> Result<(), ApiError> {
    let limits = &state.limits;
    limits
        .mails_by_client
        .check(&client.key())
        .await?
        .map_err(|wait| ApiError::rate_limited("mail requests", wait).for_limit("email_send"))?;
    limits.mails_by_recipient.check(&email.to_owned()).await?.map_err(|wait| {
        ApiError::too_many_requests(format!("too many mails asked for this email; try again in {wait} s"), wait)
            .for_limit("email_send_per_recipient")
    })
}

async fn mail_token(state: &AppState, email: String, purpose: TokenPurpose) -> Result<(), ApiError> {
    let (secret, token) = new_token(state, purpose);
    let (to, stored) = (email.clone(), token.clone());
    state.store(move |store| store.add_userpass_token(&to, &stored)).await?;
    state.outbox.send(&email, purpose, &secret, &token.id)?;
    Ok(())
}

async fn reset(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<StatusCode, ApiError> {
    check(&state, &app_id)?;
    let (token, token_id) = (required(body.token, "token")?, required(body.token_id, "tokenId")?);
    let password = required(body.password, "password")?;
    password.validate()?;
    let password_hash = state.passwords.hash(&password).await?;
    let hash = token_hash(&token);
    state
        .store(move |store| {
            store.use_userpass_token(&token_id, &hash, TokenPurpose::Reset, Some(&password_hash), ids::now_secs())
        })
        .await?
        .ok_or_else(invalid_token)?;
    // No address in the log: emails stay out of info logs.
    tracing::info!("password reset; the account's sessions were revoked");
    Ok(StatusCode::NO_CONTENT)
}
