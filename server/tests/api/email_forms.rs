//! One mailbox, one account: look-alike spellings of a registered address are the same account
//! (NFKC: full-width letters, ligatures, decomposed accents) or refused (invisible characters).

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

const PASSWORD: &str = "password1";

#[tokio::test]
async fn compatibility_spellings_of_a_registered_address_are_that_account() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice@example.com", PASSWORD).await.status(), StatusCode::CREATED);
    let first: Value = app.email_login("alice@example.com", PASSWORD, None).await.json().await.unwrap();
    for same in [
        "Alice@Example.com",
        "Ａｌｉｃｅ@Ｅｘａｍｐｌｅ.ｃｏｍ", // full-width letters
        "alice＠example.com",               // full-width at sign
        "ａｌｉｃｅ@example.com",
    ] {
        assert_error(app.register(same, PASSWORD).await, 409, "AccountNameInUse").await;
        let login: Value = app.email_login(same, PASSWORD, None).await.json().await.unwrap();
        assert_eq!(login["user_id"], first["user_id"], "{same:?} logs in to the same user");
    }
    assert_eq!(app.count("userpass_accounts"), 1);
    assert_eq!(app.count("users"), 1);
}

#[tokio::test]
async fn a_decomposed_accent_is_the_precomposed_address() {
    let app = spawn_app().await;
    assert_eq!(app.register("zoë@example.com", PASSWORD).await.status(), StatusCode::CREATED);
    assert_error(app.register("zoe\u{308}@example.com", PASSWORD).await, 409, "AccountNameInUse").await;
    assert_eq!(app.count("userpass_accounts"), 1);
}

#[tokio::test]
async fn addresses_with_invisible_characters_are_refused() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice@example.com", PASSWORD).await.status(), StatusCode::CREATED);
    for hidden in [
        "ali\u{200B}ce@example.com",      // zero-width space
        "ali\u{200D}ce@example.com",      // zero-width joiner
        "ali\u{200C}ce@example.com",      // zero-width non-joiner
        "ali\u{00AD}ce@example.com",      // soft hyphen
        "alice@exa\u{2060}mple.com",      // word joiner
        "\u{FEFF}alice@example.com",      // byte-order mark
        "alice@example.com\u{202E}",      // right-to-left override
        "Ａｌｉｃｅ\u{200B}@Example.com", // full-width and hidden at once
    ] {
        let body = assert_error(app.register(hidden, PASSWORD).await, 400, "BadRequest").await;
        assert_eq!(body["error"], "invalid email address: it holds an invisible character", "{hidden:?}");
        // nor can one log in with such a spelling of a real address
        assert_error(app.email_login(hidden, PASSWORD, None).await, 401, "InvalidPassword").await;
    }
    assert_eq!(app.count("userpass_accounts"), 1);
    assert_eq!(app.count("users"), 0);
}
