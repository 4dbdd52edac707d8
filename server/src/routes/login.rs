//! `POST /app/{app}/auth/providers/{provider}/login`: log in, creating the user when the
//! provider says so (every anonymous login is a new user; reuse is the client's job).

use axum::{
    extract::{Path, RawQuery, State},
    routing::post,
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::session::profile_json;
use crate::{
    error::ApiError,
    extract::JsonBody,
    ids,
    state::AppState,
    store::{IdentityRecord, NewAnonymousUser, NewSession, UserRecord},
    tokens::{RefreshToken, Subject},
};

pub const ANON_USER: &str = "anon-user";

pub fn router() -> Router<AppState> {
    Router::new().route("/app/{app_id}/auth/providers/{provider}/login", post(login))
}

/// The login body: provider fields at the top level plus `options` (PROTOCOL.md §4.1).
#[derive(Debug, Default, Deserialize)]
struct LoginBody {
    #[serde(default)]
    options: Option<LoginOptions>,
}

#[derive(Debug, Default, Deserialize)]
struct LoginOptions {
    #[serde(default)]
    device: Option<Device>,
}

#[derive(Debug, Default, Deserialize)]
struct Device {
    #[serde(default, rename = "deviceId")]
    device_id: Option<DeviceId>,
}

/// realm-web sends EJSON `{"$oid": "..."}`, stitch a plain string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DeviceId {
    Plain(String),
    ObjectId {
        #[serde(rename = "$oid")]
        oid: String,
    },
}

impl LoginBody {
    /// The client's device id if it sent a usable one, else a new one.
    fn device_id(&self, now: u64) -> String {
        let sent = self
            .options
            .as_ref()
            .and_then(|o| o.device.as_ref())
            .and_then(|d| d.device_id.as_ref());
        match sent {
            Some(DeviceId::Plain(id) | DeviceId::ObjectId { oid: id }) if ids::is_device_id(id) => {
                id.to_ascii_lowercase()
            }
            _ => ids::object_id(now),
        }
    }
}

fn wants_link(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|pair| pair == "link=true"))
}

async fn login(
    State(state): State<AppState>,
    Path((app_id, provider)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    state.check_app(&app_id)?;
    if !state.provider_enabled(&provider) {
        return Err(ApiError::provider_not_found(&provider));
    }
    match provider.as_str() {
        ANON_USER if wants_link(query.as_deref()) => Err(ApiError::bad_request(
            "cannot link anonymous credentials to an existing user",
        )),
        ANON_USER => anonymous_login(&state, &body).await,
        other => Err(ApiError::provider_not_found(other)),
    }
}

async fn anonymous_login(state: &AppState, body: &LoginBody) -> Result<Json<Value>, ApiError> {
    let now = ids::now_secs();
    let refresh_token = RefreshToken::generate();
    let new = NewAnonymousUser {
        user_id: ids::object_id(now),
        identity_id: hex::encode(ids::random_bytes::<12>()),
        session: NewSession {
            id: ids::object_id(now),
            refresh_hash: refresh_token.hash(),
            device_id: body.device_id(now),
        },
        now,
    };
    let access_token = state.tokens.issue(
        Subject {
            user_id: &new.user_id,
            session_id: &new.session.id,
            device_id: &new.session.device_id,
            is_anonymous: true,
        },
        now,
    )?;
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
    };
    let device_id = new.session.device_id.clone();
    state
        .store(move |store| store.create_anonymous_user(&new))
        .await?;
    tracing::info!(user_id = %user.id, "anonymous user created");
    Ok(Json(json!({
        "access_token": access_token,
        "refresh_token": refresh_token.as_str(),
        "user_id": user.id,
        "device_id": device_id,
        "profile": profile_json(&state.config.app_id, &user)?,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_is_read_from_the_query() {
        assert!(wants_link(Some("link=true")));
        assert!(wants_link(Some("a=b&link=true")));
        assert!(!wants_link(Some("link=false")));
        assert!(!wants_link(None));
    }

    #[test]
    fn a_sent_device_id_is_kept_in_either_encoding_and_a_bad_one_replaced() {
        let oid: LoginBody = serde_json::from_str(
            r#"{"options":{"device":{"deviceId":{"$oid":"650000000000000000000001"}}}}"#,
        )
        .unwrap();
        assert_eq!(oid.device_id(1), "650000000000000000000001");
        let plain: LoginBody = serde_json::from_str(
            r#"{"options":{"device":{"deviceId":"650000000000000000000002"}}}"#,
        )
        .unwrap();
        assert_eq!(plain.device_id(1), "650000000000000000000002");
        let zeros: LoginBody = serde_json::from_str(
            r#"{"options":{"device":{"deviceId":"000000000000000000000000"}}}"#,
        )
        .unwrap();
        assert_ne!(zeros.device_id(1), "000000000000000000000000");
    }
}
