//! The WebAuthn relying party (issue 11): the passkey ceremonies, on webauthn-rs. This module
//! knows nothing of HTTP or the store's tables; it turns options into the browser's JSON and
//! the browser's answers into verified credentials, with its own error type.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("invalid passkey configuration: {0}")]
    Config(String),
    /// The credential's JSON is not a WebAuthn credential (missing or mistyped fields).
    #[error("malformed credential: {0}")]
    Malformed(String),
    #[error("the credential answers another challenge")]
    ChallengeMismatch,
    #[error("the credential was made for another origin or relying party")]
    OriginMismatch,
    #[error("the sign counter did not advance")]
    CounterRegressed,
    #[error("the credential does not verify: {0}")]
    VerificationFailed(String),
    /// Stored by this server and unreadable: our fault.
    #[error("stored passkey data does not parse: {0}")]
    Corrupt(String),
}

impl From<WebauthnError> for PasskeyError {
    fn from(e: WebauthnError) -> Self {
        match e {
            WebauthnError::MismatchedChallenge => PasskeyError::ChallengeMismatch,
            WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => PasskeyError::OriginMismatch,
            WebauthnError::CredentialPossibleCompromise => PasskeyError::CounterRegressed,
            other => PasskeyError::VerificationFailed(other.to_string()),
        }
    }
}

/// A passkey just registered, ready to store.
#[derive(Debug, Clone)]
pub struct RegisteredPasskey {
    /// base64url without padding.
    pub credential_id: String,
    /// webauthn-rs's serialised `Passkey`.
    pub passkey: String,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

/// A registration's answer as the browser sent it, parsed but not verified.
pub struct RegistrationAnswer(RegisterPublicKeyCredential);

impl RegistrationAnswer {
    /// The credential id it claims (base64url), unverified.
    pub fn credential_id(&self) -> String {
        encode_id(self.0.raw_id.as_ref())
    }
}

/// What a login's assertion names before it is verified: the credential and its user handle.
pub struct Assertion {
    credential: PublicKeyCredential,
    pub credential_id: String,
    pub user_handle: Uuid,
}

/// An assertion that verified against its stored passkey.
#[derive(Debug, Clone)]
pub struct VerifiedAssertion {
    /// The stored passkey with the assertion's counter and flags.
    pub passkey: String,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

/// The relying party: its id, allowed origins and name, from `--passkey-*`.
pub struct RelyingParty {
    /// None when the options leave no domain to bind passkeys to (below): the provider is then
    /// unconfigured, like `custom-token` without a key, and the server runs without it.
    webauthn: Option<Webauthn>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("origins", &self.webauthn.as_ref().map(|w| w.get_allowed_origins()))
            .finish()
    }
}

/// The counter and flags inside a serialised `Passkey` (its serde form is the library's
/// storage format, stable across its versions).
#[derive(Deserialize)]
struct StoredPasskey {
    cred: StoredCredential,
}

#[derive(Deserialize)]
struct StoredCredential {
    counter: u32,
    backup_eligible: bool,
    backup_state: bool,
}

fn flags(passkey: &Passkey) -> Result<(String, StoredCredential), PasskeyError> {
    let text = serde_json::to_string(passkey).map_err(|e| PasskeyError::Corrupt(e.to_string()))?;
    let stored: StoredPasskey = serde_json::from_str(&text).map_err(|e| PasskeyError::Corrupt(e.to_string()))?;
    Ok((text, stored.cred))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(text).map_err(|e| PasskeyError::Corrupt(e.to_string()))
}

/// base64url without padding, as WebAuthn's JSON and the identities carry credential ids.
pub fn encode_id(id: &[u8]) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    URL_SAFE_NO_PAD.encode(id)
}

/// The WebAuthn user handle of a user: derived from its id (not the id itself, which stays
/// off authenticators), the same for all of its passkeys.
pub fn user_handle(user_id: &str) -> Uuid {
    let digest = Sha256::digest(format!("guestpass passkey user handle\n{user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

impl RelyingParty {
    /// Whether passkeys can be offered (a domain to bind them to).
    pub fn is_configured(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn.as_ref().ok_or_else(|| PasskeyError::Config("passkeys are off: no relying party id".into()))
    }

    /// From the options; `port` is the listener's, for the default origin without a public URL.
    pub fn from_config(config: &Config, port: u16) -> Result<Self, PasskeyError> {
        let public = match &config.public_url {
            Some(url) => Some(Url::parse(url).map_err(|e| PasskeyError::Config(format!("--public-url {url}: {e}")))?),
            None => None,
        };
        let rp_id = match (&config.passkey_rp_id, &public) {
            (Some(id), _) => id.clone(),
            (None, Some(url)) => url.host_str().unwrap_or("localhost").to_owned(),
            (None, None) => "localhost".to_owned(),
        };
        if rp_id.parse::<std::net::IpAddr>().is_ok()
            || rp_id.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok()
        {
            if config.passkey_rp_id.is_some() {
                return Err(PasskeyError::Config(format!(
                    "the relying party id {rp_id} is an IP address; WebAuthn needs a domain (--passkey-rp-id)"
                )));
            }
            // Taken from a --public-url on an IP address: browsers offer no passkeys to pages
            // there, and refusing to start would take the other providers down with it.
            tracing::warn!(
                public_url = config.public_url.as_deref().unwrap_or_default(),
                "passkeys are off: --public-url's host is an IP address and WebAuthn needs a domain; \
                 set --passkey-rp-id and --passkey-origin to offer them"
            );
            return Ok(RelyingParty { webauthn: None });
        }
        let mut origins = config
            .passkey_origin
            .iter()
            .map(|o| Url::parse(o).map_err(|e| PasskeyError::Config(format!("--passkey-origin {o}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            origins.push(match public {
                Some(url) => url,
                None => Url::parse(&format!("http://localhost:{port}")).expect("a valid URL"),
            });
        }
        // webauthn-rs checks the first origin against the rp id; every one must pass.
        for origin in &origins {
            let domain = origin.domain().unwrap_or_default();
            if domain != rp_id && !domain.ends_with(&format!(".{rp_id}")) {
                return Err(PasskeyError::Config(format!(
                    "the passkey origin {origin} is not on the relying party id {rp_id} (nor a subdomain of it)"
                )));
            }
        }
        let mut builder = WebauthnBuilder::new(&rp_id, &origins[0])
            .map_err(|e| PasskeyError::Config(e.to_string()))?
            .rp_name(&config.passkey_rp_name)
            .timeout(config.passkey_challenge_ttl);
        for origin in &origins[1..] {
            builder = builder.append_allowed_origin(origin);
        }
        Ok(RelyingParty { webauthn: Some(builder.build().map_err(|e| PasskeyError::Config(e.to_string()))?) })
    }

    /// The creation options for the browser (`public_key` of the wire) and the state to keep.
    /// Resident key required: logins name no user, so the authenticator must keep the key.
    pub fn start_registration(
        &self,
        user_id: &str,
        name: &str,
        existing: &[String],
    ) -> Result<(Value, String), PasskeyError> {
        let exclude = existing
            .iter()
            .map(|p| parse::<Passkey>(p).map(|p| p.cred_id().clone()))
            .collect::<Result<Vec<CredentialID>, _>>()?;
        let (ccr, state) =
            self.webauthn()?.start_passkey_registration(user_handle(user_id), name, name, Some(exclude))?;
        let mut options = serde_json::to_value(&ccr.public_key).map_err(|e| PasskeyError::Corrupt(e.to_string()))?;
        // webauthn-rs asks for no resident key (security keys with little room); these logins
        // name no user, so the authenticator must keep it. The state does not depend on it.
        if let Some(selection) = options.get_mut("authenticatorSelection").and_then(Value::as_object_mut) {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        let state = serde_json::to_string(&state).map_err(|e| PasskeyError::Corrupt(e.to_string()))?;
        Ok((options, state))
    }

    /// Reads a registration's answer (`RegistrationResponseJSON`), not yet verified.
    pub fn registration_answer(&self, credential: Value) -> Result<RegistrationAnswer, PasskeyError> {
        serde_json::from_value(credential).map(RegistrationAnswer).map_err(|e| PasskeyError::Malformed(e.to_string()))
    }

    /// Verifies a registration's answer against its kept state.
    pub fn finish_registration(
        &self,
        answer: &RegistrationAnswer,
        state: &str,
    ) -> Result<RegisteredPasskey, PasskeyError> {
        let state: PasskeyRegistration = parse(state)?;
        let passkey = self.webauthn()?.finish_passkey_registration(&answer.0, &state)?;
        let credential_id = encode_id(passkey.cred_id().as_ref());
        let (passkey, cred) = flags(&passkey)?;
        Ok(RegisteredPasskey {
            credential_id,
            passkey,
            counter: cred.counter,
            backup_eligible: cred.backup_eligible,
            backup_state: cred.backup_state,
        })
    }

    /// The request options for a username-less login and the state to keep.
    pub fn start_authentication(&self) -> Result<(Value, String), PasskeyError> {
        let (rcr, state) = self.webauthn()?.start_discoverable_authentication()?;
        let mut options = serde_json::to_value(&rcr.public_key).map_err(|e| PasskeyError::Corrupt(e.to_string()))?;
        // Empty, it says the same as absent (any discoverable credential); the wire omits it.
        if let Some(options) = options.as_object_mut() {
            options.remove("allowCredentials");
        }
        let state = serde_json::to_string(&state).map_err(|e| PasskeyError::Corrupt(e.to_string()))?;
        Ok((options, state))
    }

    /// Reads which credential and user handle a login's answer names (not yet verified).
    pub fn identify(&self, credential: Value) -> Result<Assertion, PasskeyError> {
        let credential: PublicKeyCredential =
            serde_json::from_value(credential).map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let (user_handle, id) = self.webauthn()?.identify_discoverable_authentication(&credential)?;
        let credential_id = encode_id(id);
        Ok(Assertion { credential_id, user_handle, credential })
    }

    /// Verifies a login's answer against its kept state and the stored passkey it names:
    /// challenge, origin, rp id hash, signature, user verification and counter.
    pub fn finish_authentication(
        &self,
        assertion: &Assertion,
        state: &str,
        stored: &str,
    ) -> Result<VerifiedAssertion, PasskeyError> {
        let state: DiscoverableAuthentication = parse(state)?;
        let mut passkey: Passkey = parse(stored)?;
        let result = self.webauthn()?.finish_discoverable_authentication(
            &assertion.credential,
            state,
            &[DiscoverableKey::from(&passkey)],
        )?;
        passkey.update_credential(&result);
        let (passkey, cred) = flags(&passkey)?;
        Ok(VerifiedAssertion {
            passkey,
            counter: result.counter(),
            backup_eligible: cred.backup_eligible,
            backup_state: cred.backup_state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_handle_is_stable_per_user_and_differs_between_users() {
        assert_eq!(user_handle("650000000000000000000001"), user_handle("650000000000000000000001"));
        assert_ne!(user_handle("650000000000000000000001"), user_handle("650000000000000000000002"));
    }

    #[test]
    fn an_ip_address_is_refused_as_relying_party_id() {
        let mut config = Config::for_data("x.db");
        config.passkey_rp_id = Some("127.0.0.1".into());
        assert!(matches!(RelyingParty::from_config(&config, 8080), Err(PasskeyError::Config(_))));
    }

    #[test]
    fn a_public_url_on_an_ip_address_turns_passkeys_off_instead_of_stopping_the_server() {
        let mut config = Config::for_data("x.db");
        config.public_url = Some("http://10.0.0.5:8081".into());
        let rp = RelyingParty::from_config(&config, 8081).expect("the server still starts");
        assert!(!rp.is_configured());
        assert!(matches!(rp.start_authentication(), Err(PasskeyError::Config(_))));
    }

    #[test]
    fn an_origin_off_the_relying_party_id_is_refused() {
        let mut config = Config::for_data("x.db");
        config.passkey_rp_id = Some("example.com".into());
        config.passkey_origin = vec!["https://example.com".into(), "https://evil.test".into()];
        assert!(matches!(RelyingParty::from_config(&config, 8080), Err(PasskeyError::Config(_))));
        config.passkey_origin = vec!["https://example.com".into(), "https://blog.example.com".into()];
        assert!(RelyingParty::from_config(&config, 8080).is_ok());
    }

    #[test]
    fn registration_options_require_a_resident_key() {
        let rp = RelyingParty::from_config(&Config::for_data("x.db"), 8080).unwrap();
        let (options, _) = rp.start_registration("650000000000000000000001", "reader", &[]).unwrap();
        assert_eq!(options["authenticatorSelection"]["residentKey"], "required", "{options}");
        assert_eq!(options["rp"]["id"], "localhost", "{options}");
    }
}
