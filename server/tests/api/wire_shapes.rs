//! The server's real answers, read with the SDK's protocol types (`guestpass-protocol`): each
//! decodes and encodes back to exactly what the server sent, so no field is missing from the
//! types, misnamed or of another type on either side.

use guestpass_protocol::answers::{AuthProvider, ErrorBody, LinkAnswer, Location, LoginAnswer, Profile, RefreshAnswer};
use reqwest::{Method, StatusCode};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::helpers::*;

/// Decodes `sent` as `T` and checks that encoding it gives `sent` back, field for field.
fn round_trips<T: DeserializeOwned + Serialize>(sent: &Value) -> T {
    let decoded: T = serde_json::from_value(sent.clone()).expect("the answer decodes with the protocol type");
    assert_eq!(&serde_json::to_value(&decoded).unwrap(), sent, "the protocol type holds every field as sent");
    decoded
}

#[tokio::test]
async fn an_anonymous_login_refresh_and_profile_are_the_protocol_types_exactly() {
    let app = spawn_app().await;
    let guest = app.anonymous_login().await;
    let login: LoginAnswer<Value> = round_trips(&guest.body);
    assert!(login.profile.unwrap().expires_at.is_some(), "an anonymous profile says when it expires");
    let refresh: Value = app.refresh(&guest.refresh_token).await.json().await.unwrap();
    round_trips::<RefreshAnswer>(&refresh);
    let profile: Value = app.profile(&guest.access_token).await.json().await.unwrap();
    round_trips::<Profile<Value>>(&profile);
}

#[tokio::test]
async fn a_link_and_a_member_profile_are_the_protocol_types_exactly() {
    let app = spawn_app().await;
    let guest = app.anonymous_login().await;
    assert_eq!(app.register("shapes@example.com", "password1").await.status(), StatusCode::CREATED);
    let resp = app.email_login("shapes@example.com", "password1", Some(&guest.access_token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let link: LinkAnswer<Value> = round_trips(&resp.json().await.unwrap());
    let profile = link.profile.unwrap();
    assert_eq!(profile.identities.len(), 2);
    assert!(profile.session_expires_at.is_some(), "a member's profile says when the session ends");
    let member: Value = app.profile(link.access_token.expose()).await.json().await.unwrap();
    round_trips::<Profile<Value>>(&member);
}

#[tokio::test]
async fn providers_location_and_errors_are_the_protocol_types_exactly() {
    let app = spawn_app().await;
    let providers: Value = app.send(Method::GET, &app.app_url("/auth/providers"), None).await.json().await.unwrap();
    let providers: Vec<AuthProvider> = round_trips(&providers);
    assert!(providers.iter().any(|p| p.kind == "anon-user"));
    let location: Value = app.send(Method::GET, &app.app_url("/location"), None).await.json().await.unwrap();
    round_trips::<Location>(&location);
    let refused = app.refresh("not-a-token").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let error: ErrorBody = round_trips(&refused.json().await.unwrap());
    assert_eq!(error.error_code, "InvalidSession");
}
