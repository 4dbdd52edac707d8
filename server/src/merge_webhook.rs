//! `--merge-webhook`: each merge proof issued is also POSTed to the app's backend, for apps
//! that would rather not trust the page to forward it (docs/merge.md).
//!
//! Deliveries live in the store (`merge_webhooks`, written in the transaction that records the
//! proof), so a restart loses none; a background task claims the due ones, POSTs each and
//! records the attempt, as the sweep in `cleanup.rs` works in small batches. A delivery is
//! retried with exponential back-off (1 s, 2 s, 4 s... up to an hour) until a 2xx answer, for
//! at most [`MAX_ATTEMPTS`] attempts; the proof's expiry ends it too (the record goes with the
//! proof's). The body is signed as Stripe and Svix sign theirs: `Guestpass-Signature:
//! t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed with `--merge-webhook-secret`;
//! a receiver recomputes it, compares in constant time, and refuses an old `t`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    ids,
    merge_proofs::MergeClaims,
    state::AppState,
    store::{WebhookAttempt, WebhookDelivery},
};

/// The header carrying the timestamp and the signature.
pub const SIGNATURE_HEADER: &str = "Guestpass-Signature";
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 12;
/// How often the task looks for due deliveries.
const POLL: Duration = Duration::from_millis(250);
/// How long a claimed delivery is kept from other claims while it is attempted.
const LEASE_SECS: u64 = 60;
/// Deliveries attempted per look.
const BATCH: usize = 16;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
const MAX_BACKOFF_SECS: u64 = 3600;

/// The JSON body POSTed for a proof.
pub fn body(claims: &MergeClaims, proof: &str) -> String {
    serde_json::json!({
        "type": "merge",
        "from": claims.from,
        "into": claims.into,
        "jti": claims.jti,
        "issued_at": claims.iat,
        "expires_at": claims.exp,
        "proof": proof,
    })
    .to_string()
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: u64, body: &str) -> String {
    // HMAC takes a key of any length; the length is checked at startup (`check_config`).
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait after `attempts` failed attempts.
pub fn backoff(attempts: u32) -> u64 {
    1u64.checked_shl(attempts.saturating_sub(1)).unwrap_or(u64::MAX).min(MAX_BACKOFF_SECS)
}

/// Refuses a webhook configuration that cannot work: a URL that is not http (this build has no
/// TLS client), or a secret shorter than 32 bytes.
pub fn check_config(url: Option<&str>, secret: Option<&str>) -> anyhow::Result<()> {
    let Some(url) = url else { return Ok(()) };
    anyhow::ensure!(
        url.starts_with("http://"),
        "--merge-webhook must be an http:// URL (the app's backend on a private network): this build has no TLS client"
    );
    anyhow::ensure!(
        secret.is_some_and(|s| s.len() >= 32),
        "--merge-webhook-secret must be at least 32 bytes long (e.g. `openssl rand -base64 32`)"
    );
    Ok(())
}

/// Delivers due webhooks until the server stops; does nothing without `--merge-webhook`.
pub async fn run(state: AppState) {
    let (Some(url), Some(secret)) = (state.config.merge_webhook.clone(), state.config.merge_webhook_secret.clone())
    else {
        return;
    };
    let client = match reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => return tracing::error!(error = %e, "the merge webhook's HTTP client cannot be made; no deliveries"),
    };
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = ids::now_secs();
        let due = match state.store(move |store| store.claim_merge_webhooks(now, LEASE_SECS, BATCH)).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "claiming merge webhooks failed; trying again");
                continue;
            }
        };
        for delivery in due {
            let attempt = attempt(&client, &url, secret.expose().as_bytes(), &delivery).await;
            let jti = delivery.jti.clone();
            let recorded =
                state.store(move |store| store.record_merge_webhook_attempt(&jti, ids::now_secs(), attempt)).await;
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "a merge webhook attempt could not be recorded; it will be tried again");
            }
        }
    }
}

/// One POST of `delivery`; what it did, and when to try again.
async fn attempt(client: &reqwest::Client, url: &str, secret: &[u8], delivery: &WebhookDelivery) -> WebhookAttempt {
    let now = ids::now_secs();
    let answer = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, signature(secret, now, &delivery.body))
        .body(delivery.body.clone())
        .send()
        .await;
    let status = answer.as_ref().ok().map(|a| a.status().as_u16());
    let attempts = delivery.attempts + 1;
    if status.is_some_and(|s| (200..300).contains(&s)) {
        tracing::info!(jti = %delivery.jti, attempts, "merge webhook delivered");
        return WebhookAttempt { status, delivered: true, retry_at: None };
    }
    // The receiver's answer, or why there was none; never the body (it holds the proof).
    let why = match &answer {
        Ok(a) => a.status().to_string(),
        Err(e) if e.is_timeout() => "timed out".to_owned(),
        Err(e) if e.is_connect() => "cannot connect".to_owned(),
        Err(_) => "request failed".to_owned(),
    };
    if attempts >= MAX_ATTEMPTS {
        tracing::warn!(jti = %delivery.jti, attempts, %why, "merge webhook given up");
        return WebhookAttempt { status, delivered: false, retry_at: None };
    }
    let wait = backoff(attempts);
    tracing::info!(jti = %delivery.jti, attempts, %why, retry_in_secs = wait, "merge webhook not delivered; retrying");
    // Times are whole seconds: one more makes the wait at least `wait` s, never a moment.
    WebhookAttempt { status, delivered: false, retry_at: Some(now + wait + 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_an_hmac_of_the_timestamp_and_the_body() {
        // RFC 4231 test case 2's key and data, as "<t>.<body>" with t = "what do ya want " split.
        let signed = signature(b"Jefe", 1, "what do ya want for nothing?");
        let mut mac = <Hmac<Sha256>>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1.what do ya want for nothing?");
        assert_eq!(signed, format!("t=1,v1={}", hex::encode(mac.finalize().into_bytes())));
        assert_ne!(signature(b"Jefe", 2, "what do ya want for nothing?"), signed, "the timestamp is signed");
        assert_ne!(signature(b"other", 1, "what do ya want for nothing?"), signed);
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!((1..=5).map(backoff).collect::<Vec<_>>(), [1, 2, 4, 8, 16]);
        assert_eq!(backoff(40), MAX_BACKOFF_SECS);
        assert_eq!(backoff(200), MAX_BACKOFF_SECS);
    }

    #[test]
    fn a_webhook_needs_an_http_url_and_a_long_secret() {
        assert!(check_config(None, None).is_ok());
        assert!(check_config(Some("http://backend.internal/merge"), Some(&"k".repeat(32))).is_ok());
        assert!(check_config(Some("https://backend.example/merge"), Some(&"k".repeat(32))).is_err());
        assert!(check_config(Some("http://backend.internal/merge"), Some("short")).is_err());
    }
}
