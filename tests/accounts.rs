//! Email/password accounts, custom tokens and the app's list of users: logging in, logging out,
//! switching, removing and deleting (needs a running server: see tests/common).

mod common;

use common::*;
use guestpass::Credentials;
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PASSWORD: &str = "correct horse";

/// A registered account logged in as a new user of `app`.
async fn email_user(app: &JsValue) -> (JsValue, String) {
    let email = unique_email();
    register(app, &email, PASSWORD).await;
    (log_in(app, email_password(&email, PASSWORD)).await, email)
}

fn details(fields: &[(&str, &str)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        Reflect::set(&object, &(*key).into(), &(*value).into()).unwrap();
    }
    object.into()
}

#[wasm_bindgen_test]
async fn registering_an_email_twice_is_account_name_in_use() {
    fresh_page();
    let app = new_app(server());
    let email = unique_email();
    forget_requests();
    register(&app, &email, PASSWORD).await;
    assert_eq!(requests(), [["POST ", &provider_url(server(), "local-userpass", "register")].concat()]);
    assert_eq!(request_auth(), [None], "registration sends no token");
    let body = request_bodies().pop().flatten().unwrap();
    assert_eq!(body, ["{\"email\":\"", &email, "\",\"password\":\"", PASSWORD, "\"}"].concat());

    let auth = get(&app, "emailPasswordAuth");
    let error = rejection(&auth, "registerUser", &[account(&email, "another password")]).await;

    assert_error(&error, "AccountNameInUse", 409);
}

#[wasm_bindgen_test]
async fn a_five_character_password_is_a_bad_request() {
    fresh_page();
    let auth = get(&new_app(server()), "emailPasswordAuth");

    let error = rejection(&auth, "registerUser", &[account(&unique_email(), "12345")]).await;

    assert_error(&error, "BadRequest", 400);
}

#[wasm_bindgen_test]
async fn account_routes_send_only_their_fields_and_no_token() {
    fresh_page();
    let app = new_app(server());
    let (_user, email) = email_user(&app).await; // a logged-in user, whose token must not leak
    let auth = get(&app, "emailPasswordAuth");
    let token_id = "000000000000000000000000";
    forget_requests();

    let confirm = rejection(&auth, "confirmUser", &[details(&[("token", "x"), ("tokenId", token_id)])]).await;
    // The send routes answer alike for every address (docs/wire.md), so they tell nobody who
    // is registered: a confirmed account and an unknown address both succeed.
    call(&auth, "resendConfirmationEmail", &[details(&[("email", &email)])]).await.unwrap();
    call(&auth, "sendResetPasswordEmail", &[details(&[("email", &unique_email())])]).await.unwrap();
    call(&auth, "sendResetPasswordEmail", &[details(&[("email", &email), ("password", "extra")])]).await.unwrap();
    let reset = rejection(
        &auth,
        "resetPassword",
        &[details(&[("token", "x"), ("tokenId", token_id), ("password", "new password")])],
    )
    .await;
    let missing = rejection(&auth, "resetPassword", &[details(&[("token", "x")])]).await;

    assert_error(&confirm, "UserpassTokenInvalid", 400);
    assert_error(&reset, "UserpassTokenInvalid", 400);
    assert_error(&missing, "InvalidArgument", 0);
    let route = |r| ["POST ", &provider_url(server(), "local-userpass", r)].concat();
    assert_eq!(
        requests(),
        [route("confirm"), route("confirm/send"), route("reset/send"), route("reset/send"), route("reset")]
    );
    assert_eq!(request_auth(), [None, None, None, None, None]);
    assert_eq!(request_bodies()[3].as_deref(), Some(&*["{\"email\":\"", &email, "\"}"].concat()));
}

#[wasm_bindgen_test]
async fn an_email_login_is_one_request_and_a_known_user_is_updated_in_place() {
    fresh_page();
    let app = new_app(server());
    let email = unique_email();
    register(&app, &email, PASSWORD).await;
    forget_requests();

    let user = log_in(&app, email_password(&email, PASSWORD)).await;

    assert_eq!(requests(), [["POST ", &provider_url(server(), "local-userpass", "login")].concat()]);
    let body = request_bodies().pop().flatten().unwrap();
    assert!(body.starts_with(&["{\"username\":\"", &email, "\",\"password\":\""].concat()), "{body}");
    assert_eq!(get_string(&user, "providerType"), "local-userpass");
    assert_eq!(get(&user, "isAnonymous"), JsValue::FALSE);
    assert_eq!(get_string(&get(&user, "profile"), "email"), email);
    let first_refresh_token = get_string(&user, "refreshToken");

    let anonymous_user = log_in(&app, anonymous(None)).await;
    assert_eq!(get(&app, "currentUser"), anonymous_user, "a new user goes first");
    let again = log_in(&app, email_password(&email, PASSWORD)).await;

    assert_eq!(again, user, "the same User object");
    assert_eq!(get(&app, "currentUser"), user);
    assert_ne!(get_string(&user, "refreshToken"), first_refresh_token, "the new session");
    assert_eq!(all_user_ids(&app), [get_string(&user, "id"), get_string(&anonymous_user, "id")]);
    let profile = get(&anonymous_user, "profile");
    assert_eq!(Object::keys(&profile.into()).length(), 0, "an anonymous user's profile is {{}}");
}

#[wasm_bindgen_test]
async fn a_wrong_password_is_invalid_password_and_adds_no_user() {
    fresh_page();
    let app = new_app(server());
    let email = unique_email();
    register(&app, &email, PASSWORD).await;
    let anonymous_user = log_in(&app, anonymous(None)).await;

    let error = rejection(&app, "logIn", &[email_password(&email, "not the password")]).await;

    assert_error(&error, "InvalidPassword", 401);
    assert_eq!(all_user_ids(&app), [get_string(&anonymous_user, "id")]);
    assert_eq!(get(&app, "currentUser"), anonymous_user);
}

#[wasm_bindgen_test]
async fn credentials_never_show_their_secret() {
    let credentials = Credentials::email_password("a@example.com".into(), "hunter2-secret".into());
    assert!(!format!("{credentials:?}").contains("hunter2"));
    let jwt = Credentials::jwt("eyJ.secret.token".into());
    assert!(!format!("{jwt:?}").contains("secret"));

    for (credentials, secret, provider_type) in
        [(credentials.into(), "hunter2", "local-userpass"), (JsValue::from(jwt), "secret", "custom-token")]
    {
        assert_eq!(get_string(&credentials, "providerType"), provider_type);
        let shown = js_sys::Function::new_with_args(
            "c",
            "const seen = [String(c), JSON.stringify(c), JSON.stringify(Object.assign({}, c))];
             for (let o = c; o; o = Object.getPrototypeOf(o)) {
               for (const k of Object.getOwnPropertyNames(o)) {
                 const d = Object.getOwnPropertyDescriptor(o, k);
                 if (d.get) seen.push(String(d.get.call(c)));
                 else if (typeof d.value !== 'function') seen.push(String(d.value));
               }
             }
             return seen.join(' ');",
        )
        .call1(&JsValue::NULL, &credentials)
        .unwrap()
        .as_string()
        .unwrap();
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[wasm_bindgen_test]
async fn a_custom_token_login_posts_the_token_to_its_provider() {
    fresh_page();
    let app = new_app(server());

    let credentials: JsValue = Credentials::jwt("not-a-jwt".into()).into();
    let error = rejection(&app, "logIn", &[credentials]).await;

    // The test server may not enable the provider; either way the token was refused.
    let code = get_string(&error, "code");
    assert!(code == "AuthError" || code == "AuthProviderNotFound", "{}", describe(&error));
    assert_eq!(requests(), [["POST ", &provider_url(server(), "custom-token", "login")].concat()]);
    let body = request_bodies().pop().flatten().unwrap();
    assert!(body.starts_with("{\"token\":\"not-a-jwt\",\"options\":"), "{body}");
    assert!(get(&app, "currentUser").is_null());
}

#[wasm_bindgen_test]
async fn a_non_anonymous_log_out_keeps_the_user_listed_without_tokens() {
    fresh_page();
    let app = new_app(server());
    let anonymous_user = log_in(&app, anonymous(None)).await;
    let (user, _) = email_user(&app).await;
    let id = get_string(&user, "id");
    assert_eq!(get(&app, "currentUser"), user);
    forget_requests();

    call(&user, "logOut", &[]).await.unwrap();

    assert_eq!(requests(), [["DELETE ", &session_url(server())].concat()]);
    assert_eq!(get_string(&user, "state"), "logged-out");
    assert!(get(&user, "accessToken").is_null());
    assert!(get(&user, "refreshToken").is_null());
    assert!(all_user_ids(&app).contains(&id), "still listed");
    assert_eq!(get(&app, "currentUser"), anonymous_user, "the other active user is current");
    let record = stored(&user_key(&id)).expect("still stored");
    assert!(record.contains("\"accessToken\":null") && record.contains("\"refreshToken\":null"), "{record}");

    call(&anonymous_user, "logOut", &[]).await.unwrap();
    assert!(get(&app, "currentUser").is_null(), "no active user left");
    assert_eq!(all_user_ids(&app), std::slice::from_ref(&id));
    // A reload lists the logged-out user too.
    let reloaded = new_app(server());
    assert_eq!(get_string(&get(&get(&reloaded, "allUsers"), &id), "state"), "logged-out");
}

#[wasm_bindgen_test]
async fn remove_user_forgets_the_user_and_its_storage() {
    fresh_page();
    let app = new_app(server());
    let (user, _) = email_user(&app).await;
    let id = get_string(&user, "id");
    let refresh_token = get_string(&user, "refreshToken");
    forget_requests();

    call(&app, "removeUser", std::slice::from_ref(&user)).await.unwrap();

    assert_eq!(requests(), [["DELETE ", &session_url(server())].concat()]);
    assert_eq!(get_string(&user, "state"), "removed");
    assert!(get(&user, "refreshToken").is_null());
    assert!(all_user_ids(&app).is_empty());
    assert!(get(&app, "currentUser").is_null());
    assert_eq!(stored(&user_key(&id)), None);
    assert_eq!(stored(&users_key()).as_deref(), Some("[]"));
    assert!(get(&new_app(server()), "currentUser").is_null(), "a reload does not bring it back");
    assert_eq!(raw_status("POST", &session_url(server()), &refresh_token).await, 401, "the session ended");
}

#[wasm_bindgen_test]
async fn delete_user_deletes_with_the_users_own_token_and_forgets_it() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let email = unique_email();
    register(&app, &email, PASSWORD).await;
    call(&user, "linkCredentials", &[email_password(&email, PASSWORD)]).await.unwrap();
    let id = get_string(&user, "id");
    let access_token = get_string(&user, "accessToken");
    // Another user is current: the deleted user's own token must be used all the same.
    let other = log_in(&app, anonymous(None)).await;
    forget_requests();

    call(&app, "deleteUser", std::slice::from_ref(&user)).await.unwrap();

    assert_eq!(requests(), [["DELETE ", server(), "/api/client/v2.0/auth/delete"].concat()]);
    assert_eq!(request_auth(), [Some(["Bearer ", &access_token].concat())]);
    assert_eq!(get_string(&user, "state"), "removed");
    assert_eq!(all_user_ids(&app), [get_string(&other, "id")]);
    assert_eq!(stored(&user_key(&id)), None);
    let error = rejection(&app, "logIn", &[email_password(&email, PASSWORD)]).await;
    assert_error(&error, "InvalidPassword", 401);
}

#[wasm_bindgen_test]
async fn switch_user_changes_the_current_user_among_active_ones() {
    fresh_page();
    let app = new_app(server());
    let first = log_in(&app, anonymous(None)).await;
    let (second, _) = email_user(&app).await;
    assert_eq!(get(&app, "currentUser"), second);

    js_sys::Reflect::apply(&get(&app, "switchUser").into(), &app, &[first.clone()].into_iter().collect()).unwrap();

    assert_eq!(get(&app, "currentUser"), first);
    let reloaded = new_app(server());
    assert_eq!(get_string(&get(&reloaded, "currentUser"), "id"), get_string(&first, "id"), "a reload keeps it");
    call(&second, "logOut", &[]).await.unwrap();
    let error =
        js_sys::Reflect::apply(&get(&app, "switchUser").into(), &app, &[second].into_iter().collect()).unwrap_err();
    assert_eq!(get_string(&error, "code"), "InvalidArgument");
    assert_eq!(get(&app, "currentUser"), first);
}
