//! The reader's page comes from the backend, and tells the SDK where the auth server is.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn the_page_names_the_auth_server_and_may_connect_only_to_it_and_its_origin() {
    let auth = auth_server(|_| {}).await;
    let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    let blog = backend(&auth, |c| c.www = Some(www)).await;
    let client = reqwest::Client::new();
    let config: Value = client.get(format!("{}/config.json", blog.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!((config["base_url"].as_str(), config["app_id"].as_str()), (Some(auth.base.as_str()), Some(APP_ID)));
    let page = client.get(format!("{}/", blog.base)).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains(&format!("connect-src 'self' {};", auth.base)), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(page.text().await.unwrap().contains("/app.js"), "the reader's page");
}
