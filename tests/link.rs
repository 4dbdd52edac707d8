//! Linking an anonymous user to an email/password account (needs the two servers: see
//! tests/common).

mod common;

use common::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PASSWORD: &str = "correct horse";

fn provider_types(user: &JsValue) -> Vec<String> {
    let identities: js_sys::Array = get(user, "identities").into();
    identities.iter().map(|identity| get_string(&identity, "providerType")).collect()
}

/// What a link must leave alone when it fails: the user, its tokens and its record.
struct Snapshot {
    id: String,
    access_token: String,
    refresh_token: String,
    record: Option<String>,
}

impl Snapshot {
    fn of(user: &JsValue) -> Snapshot {
        let id = get_string(user, "id");
        Snapshot {
            record: stored(&user_key(&id)),
            id,
            access_token: get_string(user, "accessToken"),
            refresh_token: get_string(user, "refreshToken"),
        }
    }

    async fn assert_untouched(&self, app: &JsValue, user: &JsValue) {
        assert_eq!(get_string(&get(app, "currentUser"), "id"), self.id, "still the current user");
        assert_eq!(get_string(user, "state"), "active");
        assert_eq!(get(user, "isAnonymous"), JsValue::TRUE, "still anonymous");
        assert_eq!(provider_types(user), ["anon-user"]);
        assert_eq!(get_string(user, "accessToken"), self.access_token);
        assert_eq!(get_string(user, "refreshToken"), self.refresh_token);
        assert_eq!(stored(&user_key(&self.id)), self.record, "the stored record is unchanged");
        assert!(stored(&users_key()).unwrap().contains(&self.id), "still listed in storage");
        if let Err(e) = call(user, "refreshProfile", &[]).await {
            panic!("the user is no longer usable: {}", describe(&e));
        }
    }
}

#[wasm_bindgen_test]
async fn linking_an_email_keeps_the_user_and_brings_it_back_after_storage_is_cleared() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let access_token = get_string(&user, "accessToken");
    let refresh_token = get_string(&user, "refreshToken");
    let email = unique_email();
    register(&app, &email, PASSWORD).await;
    forget_requests();

    if let Err(e) = call(&user, "linkCredentials", &[email_password(&email, PASSWORD)]).await {
        panic!("linkCredentials failed: {}", describe(&e));
    }

    assert_eq!(requests(), [["POST ", &provider_url(server(), "local-userpass", "login?link=true")].concat()]);
    assert_eq!(request_auth(), [Some(["Bearer ", &access_token].concat())], "the user's own access token");
    assert_eq!(get_string(&user, "id"), id);
    assert_eq!(get(&user, "isAnonymous"), JsValue::FALSE);
    assert_eq!(provider_types(&user), ["anon-user", "local-userpass"]);
    assert_eq!(get_string(&get(&user, "profile"), "email"), email);
    let new_access_token = get_string(&user, "accessToken");
    assert_ne!(new_access_token, access_token);
    assert_eq!(get_string(&user, "refreshToken"), refresh_token, "the session is kept");
    assert_eq!(get_string(&user, "state"), "active");
    let record = stored(&user_key(&id)).unwrap();
    assert!(record.contains(&new_access_token), "the new access token is stored");
    assert!(record.contains("local-userpass"), "the new identity is stored");
    // A reload knows the user is no longer anonymous.
    assert_eq!(get(&get(&new_app(server()), "currentUser"), "isAnonymous"), JsValue::FALSE);

    // The browser's data is cleared: the email is the way back to the same user.
    storage().clear().unwrap();
    let app = new_app(server());
    assert!(get(&app, "currentUser").is_null());
    let back = log_in(&app, email_password(&email, PASSWORD)).await;
    assert_eq!(get_string(&back, "id"), id);
    assert_eq!(get_string(&back, "providerType"), "local-userpass");
    assert_eq!(get(&back, "isAnonymous"), JsValue::FALSE);
}

#[wasm_bindgen_test]
async fn linking_an_email_another_user_owns_is_a_conflict_that_leaves_the_user_untouched() {
    fresh_page();
    let email = unique_email();
    {
        // User A registers the email and links it, in another browser.
        let other = new_app(server());
        let a = log_in(&other, anonymous(Some(false))).await;
        register(&other, &email, PASSWORD).await;
        call(&a, "linkCredentials", &[email_password(&email, PASSWORD)]).await.unwrap();
        storage().clear().unwrap();
    }
    let app = new_app(server());
    let b = log_in(&app, anonymous(None)).await;
    let before = Snapshot::of(&b);
    forget_requests();

    let error = rejection(&b, "linkCredentials", &[email_password(&email, PASSWORD)]).await;

    assert_error(&error, "AccountNameInUse", 409);
    assert_eq!(requests().len(), 1, "one request, no refresh: {:?}", requests());
    before.assert_untouched(&app, &b).await;
}

#[wasm_bindgen_test]
async fn a_wrong_password_while_linking_leaves_the_user_untouched() {
    fresh_page();
    let app = new_app(server());
    let email = unique_email();
    register(&app, &email, PASSWORD).await;
    let user = log_in(&app, anonymous(None)).await;
    let before = Snapshot::of(&user);
    forget_requests();

    let error = rejection(&user, "linkCredentials", &[email_password(&email, "not the password")]).await;

    assert_error(&error, "InvalidPassword", 401);
    assert_eq!(requests().len(), 1, "one request, no refresh: {:?}", requests());
    before.assert_untouched(&app, &user).await;
}

#[wasm_bindgen_test]
async fn linking_with_an_expired_access_token_refreshes_once() {
    fresh_page();
    let app = new_app(short_server());
    let user = log_in(&app, anonymous(None)).await;
    let id = get_string(&user, "id");
    let refresh_token = get_string(&user, "refreshToken");
    let email = unique_email();
    register(&app, &email, PASSWORD).await;
    sleep(3000).await; // the short server's access tokens live 2 s
    forget_requests();

    if let Err(e) = call(&user, "linkCredentials", &[email_password(&email, PASSWORD)]).await {
        panic!("linkCredentials failed: {}", describe(&e));
    }

    let link = ["POST ", &provider_url(short_server(), "local-userpass", "login?link=true")].concat();
    assert_eq!(requests(), [link.clone(), ["POST ", &session_url(short_server())].concat(), link]);
    assert_eq!(get_string(&user, "id"), id);
    assert_eq!(get(&user, "isAnonymous"), JsValue::FALSE);
    assert_eq!(get_string(&user, "refreshToken"), refresh_token);
}

#[wasm_bindgen_test]
async fn after_linking_an_anonymous_login_makes_a_new_anonymous_user() {
    fresh_page();
    let app = new_app(server());
    let linked = log_in(&app, anonymous(None)).await;
    let email = unique_email();
    register(&app, &email, PASSWORD).await;
    call(&linked, "linkCredentials", &[email_password(&email, PASSWORD)]).await.unwrap();
    forget_requests();

    let fresh = log_in(&app, anonymous(None)).await;

    assert_ne!(get_string(&fresh, "id"), get_string(&linked, "id"));
    assert_eq!(get(&fresh, "isAnonymous"), JsValue::TRUE);
    assert_eq!(requests().len(), 1, "a login, not a reuse");
    assert_eq!(all_user_ids(&app).len(), 2);
    assert_eq!(get_string(&linked, "state"), "active", "the linked user stays logged in");
}

#[wasm_bindgen_test]
async fn anonymous_credentials_cannot_be_linked() {
    fresh_page();
    let app = new_app(server());
    let user = log_in(&app, anonymous(None)).await;
    let before = Snapshot::of(&user);
    forget_requests();

    let error = rejection(&user, "linkCredentials", &[anonymous(None)]).await;

    assert_error(&error, "InvalidArgument", 0);
    assert_eq!(requests(), Vec::<String>::new());
    before.assert_untouched(&app, &user).await;
}
