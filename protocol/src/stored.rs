//! What the SDK keeps in Web Storage (docs/wire.md, "SDK storage keys").
//!
//! Storage is untrusted (other scripts, older versions, devtools, another tab half-way through a
//! write): a record that does not decode, or decodes to something unusable
//! ([`StoredUser::is_usable`]), is dropped by the SDK, never an error the page sees.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::answers::Profile;
use crate::Secret;

/// `guestpass:<appId>:user:<userId>`: one user, written whole so it is never half stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredUser<Data> {
    /// The provider of the user's last login.
    pub provider_type: String,
    /// `null` when logged out.
    #[serde(default)]
    pub access_token: Option<Secret>,
    /// `null` when logged out.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// The profile as the server sent it, `null` when unknown.
    #[serde(default)]
    pub profile: Option<Profile<Data>>,
}

impl<Data> StoredUser<Data> {
    /// Whether the record names a provider and holds no empty token.
    pub fn is_usable(&self) -> bool {
        let token_ok = |token: &Option<Secret>| token.as_ref().is_none_or(|t| !t.expose().is_empty());
        !self.provider_type.is_empty() && token_ok(&self.access_token) && token_ok(&self.refresh_token)
    }
}

/// `guestpass:<appId>:users`: the user ids, most recently logged in first.
///
/// Read leniently: entries that are not non-empty strings, and repeats, are left out (a list
/// that is not an array at all is an error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct UserIds(pub Vec<String>);

impl<'de> Deserialize<'de> for UserIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(IdsVisitor)
    }
}

struct IdsVisitor;

impl<'de> Visitor<'de> for IdsVisitor {
    type Value = UserIds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UserIds, A::Error> {
        let mut ids: Vec<String> = Vec::new();
        while let Some(MaybeId(id)) = seq.next_element()? {
            if let Some(id) = id.filter(|id| !id.is_empty() && !ids.contains(id)) {
                ids.push(id);
            }
        }
        Ok(UserIds(ids))
    }
}

/// A list entry: a string, or anything else (read and skipped).
struct MaybeId(Option<String>);

impl<'de> Deserialize<'de> for MaybeId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MaybeIdVisitor)
    }
}

struct MaybeIdVisitor;

impl<'de> Visitor<'de> for MaybeIdVisitor {
    type Value = MaybeId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<MaybeId, E> {
        Ok(MaybeId(Some(v.into())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<MaybeId, E> {
        Ok(MaybeId(Some(v)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<MaybeId, E> {
        Ok(MaybeId(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<MaybeId, E> {
        Ok(MaybeId(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<MaybeId, E> {
        Ok(MaybeId(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<MaybeId, E> {
        Ok(MaybeId(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<MaybeId, E> {
        Ok(MaybeId(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<MaybeId, E> {
        Ok(MaybeId(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeId, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(MaybeId(None))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<MaybeId, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(MaybeId(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_stored_user_reads_and_writes_the_documented_keys() {
        let text = r#"{"providerType":"anon-user","accessToken":"eyJ.a.b","refreshToken":"r","profile":{"user_id":"650000000000000000000001","domain_id":"blog","type":"normal","identities":[{"id":"650000000000000000000003","provider_type":"anon-user","provider_id":"anon-user","provider_data":{}}],"data":{},"creation_date":1764547200,"last_authentication_date":1764547200,"expires_at":1772323200}}"#;
        let user: StoredUser<Value> = serde_json::from_str(text).unwrap();
        assert!(user.is_usable());
        assert_eq!(user.refresh_token.as_ref().unwrap().expose(), "r");
        assert_eq!(user.profile.as_ref().unwrap().expires_at, Some(1772323200));
        assert_eq!(serde_json::to_string(&user).unwrap(), text);

        let logged_out: StoredUser<Value> = serde_json::from_str(
            r#"{"providerType":"local-userpass","accessToken":null,"refreshToken":null,"profile":null}"#,
        )
        .unwrap();
        assert!(logged_out.is_usable() && logged_out.refresh_token.is_none());
    }

    #[test]
    fn corrupt_records_are_refused_or_unusable() {
        // The records tests/durability.rs plants in a browser's storage.
        for text in [
            "null",
            "[1,2]",
            "\"a string\"",
            r#"{"providerType":"anon-user","accessToken":5,"refreshToken":"r","profile":null}"#,
            r#"{"providerType":"anon-user","refreshToken":"r","profile":"profile"}"#,
            r#"{"providerType":7}"#,
            r#"{"providerType":"anon-user","refreshToken":"r","pro"#,
        ] {
            assert!(serde_json::from_str::<StoredUser<Value>>(text).is_err(), "{text}");
        }
        for text in [r#"{"providerType":"","refreshToken":"r"}"#, r#"{"providerType":"anon-user","refreshToken":""}"#] {
            assert!(!serde_json::from_str::<StoredUser<Value>>(text).unwrap().is_usable(), "{text}");
        }
    }

    #[test]
    fn the_users_list_keeps_each_non_empty_string_once() {
        let ids: UserIds = serde_json::from_str(r#"["a","b","a",{},[],"",7,null,true,"c"]"#).unwrap();
        assert_eq!(ids.0, ["a", "b", "c"]);
        assert_eq!(serde_json::to_string(&ids).unwrap(), r#"["a","b","c"]"#);
        assert!(serde_json::from_str::<UserIds>(r#"{"0":"x"}"#).is_err());
        assert!(serde_json::from_str::<UserIds>("null").is_err());
    }
}
