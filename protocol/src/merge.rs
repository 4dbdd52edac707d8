//! Bringing a guest's data along into an existing account (docs/merge.md).
//!
//! `POST A/auth/providers/<type>/login?merge=true`, sent with the anonymous user's access
//! token, logs in to the account and answers [`MergeLoginAnswer`]: the login plus a
//! [`MergeAnswer`]. An app's backend redeems the proof once at `C/auth/merge/redeem`
//! ([`RedeemBody`] → [`RedeemAnswer`]) or verifies it itself through the JWKS.

use alloc::string::String;

use serde::{Deserialize, Serialize};

// In `answers`, beside the session answer that carries it to a client.
pub use crate::answers::MergeAnswer;
use crate::{answers::LoginAnswer, Secret};

/// The `typ` claim of a merge proof (its JOSE header says [`PROOF_HEADER_TYP`]).
pub const PROOF_TYP: &str = "merge";
/// The JOSE header `typ` of a merge proof.
pub const PROOF_HEADER_TYP: &str = "merge+jwt";
/// The query that asks a login for a merge proof.
pub const MERGE_QUERY: &str = "merge=true";

/// `POST A/auth/providers/<type>/login?merge=true`: the login answer, and `merge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "Data: Deserialize<'de> + Default"))]
pub struct MergeLoginAnswer<Data> {
    /// The login into the account, as without `merge=true`.
    #[serde(flatten)]
    pub login: LoginAnswer<Data>,
    /// The merge proof.
    pub merge: MergeAnswer,
}

/// `POST C/auth/merge/redeem`: a proof to redeem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemBody {
    /// The proof as the login answered it.
    pub proof: Secret,
}

/// `POST C/auth/merge/redeem`: the proof was valid and had not been redeemed; now it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemAnswer {
    /// The anonymous user whose data moves.
    pub from: String,
    /// The account it moves into.
    pub into: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_reads_a_merge_login_with_the_session_answer_and_a_plain_login_has_no_merge() {
        use crate::answers::SessionAnswer;
        let wire = r#"{"access_token":"a.b.c","refresh_token":"r","user_id":"650000000000000000000002",
            "merge":{"from":"650000000000000000000001","into":"650000000000000000000002","proof":"p.q.r"}}"#;
        let answer: SessionAnswer<serde_json::Value> = serde_json::from_str(wire).unwrap();
        let merge = answer.merge.unwrap();
        assert_eq!(
            (merge.from.as_str(), merge.into.as_str()),
            ("650000000000000000000001", "650000000000000000000002")
        );
        assert_eq!(merge.proof.expose(), "p.q.r");
        let plain: SessionAnswer<serde_json::Value> =
            serde_json::from_str(r#"{"access_token":"a.b.c","refresh_token":"r","user_id":"u"}"#).unwrap();
        assert!(plain.merge.is_none());
        for text in [
            r#"{"access_token":"a","merge":{"from":"f","into":"i"}}"#,
            r#"{"access_token":"a","merge":"p.q.r"}"#,
            r#"{"access_token":"a","merge":{"from":1,"into":"i","proof":"p"}}"#,
        ] {
            assert!(serde_json::from_str::<SessionAnswer<serde_json::Value>>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_merge_login_answer_is_a_login_answer_with_merge_beside_it() {
        let wire = r#"{"access_token":"a.b.c","refresh_token":"r","user_id":"650000000000000000000002",
            "device_id":"650000000000000000000009",
            "merge":{"from":"650000000000000000000001","into":"650000000000000000000002","proof":"p.q.r"}}"#;
        let answer: MergeLoginAnswer<serde_json::Value> = serde_json::from_str(wire).unwrap();
        assert_eq!(answer.login.user_id, "650000000000000000000002");
        assert_eq!(answer.merge.from, "650000000000000000000001");
        assert_eq!(answer.merge.proof.expose(), "p.q.r");
        let plain: LoginAnswer<serde_json::Value> = serde_json::from_str(wire).unwrap();
        assert_eq!(plain, answer.login, "a client that does not know merges still reads the login");
        let back = serde_json::to_value(&answer).unwrap();
        assert_eq!(back["merge"]["into"], "650000000000000000000002");
        assert_eq!(back["refresh_token"], "r");
    }

    #[test]
    fn the_proof_never_shows_in_debug_output() {
        let merge = MergeAnswer { from: "a".into(), into: "b".into(), proof: Secret::new("secret.proof.jwt".into()) };
        assert!(!alloc::format!("{merge:?}").contains("secret.proof"));
        let body = RedeemBody { proof: Secret::new("secret.proof.jwt".into()) };
        assert!(!alloc::format!("{body:?}").contains("secret.proof"));
    }

    #[test]
    fn a_redeem_answer_needs_both_ids() {
        assert!(serde_json::from_str::<RedeemAnswer>(r#"{"from":"a"}"#).is_err());
        let ok: RedeemAnswer = serde_json::from_str(r#"{"from":"a","into":"b"}"#).unwrap();
        assert_eq!((ok.from.as_str(), ok.into.as_str()), ("a", "b"));
    }
}
