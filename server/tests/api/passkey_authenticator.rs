//! A software passkey authenticator for the passkey tests: a P-256 key (the `p256` crate) that
//! answers the server's creation and request options as a browser with a platform
//! authenticator would (`none` attestation, resident key, user verified), and that a test can
//! make misbehave (another origin, an old counter, another challenge).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).expect("base64url")
}

/// One passkey as an authenticator keeps it.
pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle the server gave at creation (`user.id`), returned at each login.
    pub user_handle: Vec<u8>,
    pub rp_id: String,
    /// The sign counter; each assertion increments it first (0 = "no counter" is not used here).
    pub counter: u32,
}

/// What the client is (the page's origin), for clientDataJSON.
#[derive(Clone)]
pub struct Client {
    pub origin: String,
}

// --- a CBOR writer: the handful of major types an attestation object needs (RFC 8949 §3) ---

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

fn int(v: i64, out: &mut Vec<u8>) {
    if v >= 0 {
        head(0, v as u64, out)
    } else {
        head(1, (-1 - v) as u64, out)
    }
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    head(2, b.len() as u64, out);
    out.extend_from_slice(b);
}

fn text(t: &str, out: &mut Vec<u8>) {
    head(3, t.len() as u64, out);
    out.extend_from_slice(t.as_bytes());
}

/// The public key as a COSE_Key (RFC 9053 §7.1.1): EC2, ES256, P-256.
fn cose_key(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_encoded_point(false);
    let mut out = Vec::new();
    head(5, 5, &mut out);
    int(1, &mut out); // kty
    int(2, &mut out); // EC2
    int(3, &mut out); // alg
    int(-7, &mut out); // ES256
    int(-1, &mut out); // crv
    int(1, &mut out); // P-256
    int(-2, &mut out); // x
    bytes(point.x().unwrap(), &mut out);
    int(-3, &mut out); // y
    bytes(point.y().unwrap(), &mut out);
    out
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false }).to_string().into_bytes()
}

impl SoftPasskey {
    /// Makes a passkey for `options` (the wire's `public_key` of a registration start) and
    /// returns it with the `RegistrationResponseJSON` a browser would send.
    pub fn create(options: &Value, client: &Client) -> (SoftPasskey, Value) {
        let key = SigningKey::from_slice(&rand::random::<[u8; 32]>()).expect("a P-256 scalar");
        let passkey = SoftPasskey {
            key,
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            user_handle: unb64(options["user"]["id"].as_str().expect("user.id")),
            rp_id: options["rp"]["id"].as_str().expect("rp.id").to_owned(),
            counter: 0,
        };
        let response = passkey.registration_response(options, client);
        (passkey, response)
    }

    /// The registration answer of this same key to `options` (to register it again).
    pub fn registration_response(&self, options: &Value, client: &Client) -> Value {
        let challenge = options["challenge"].as_str().expect("challenge");
        let client_data = client_data("webauthn.create", challenge, &client.origin);
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(UP | UV | AT);
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose_key(&self.key));
        let mut attestation = Vec::new();
        head(5, 3, &mut attestation);
        text("fmt", &mut attestation);
        text("none", &mut attestation);
        text("attStmt", &mut attestation);
        head(5, 0, &mut attestation);
        text("authData", &mut attestation);
        bytes(&auth_data, &mut attestation);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }

    /// Signs in: the `AuthenticationResponseJSON` for `options` (a login start's
    /// `public_key`), with the counter incremented first.
    pub fn assert(&mut self, options: &Value, client: &Client) -> Value {
        self.counter += 1;
        self.assertion_with_counter(options, client, self.counter)
    }

    /// An assertion carrying `counter` as is (a cloned key's old counter, say).
    pub fn assertion_with_counter(&self, options: &Value, client: &Client, counter: u32) -> Value {
        let challenge = options["challenge"].as_str().expect("challenge");
        let client_data = client_data("webauthn.get", challenge, &client.origin);
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(UP | UV);
        auth_data.extend(counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }
}
