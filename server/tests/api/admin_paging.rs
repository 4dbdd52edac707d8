//! The admin user list's paging parameters: out-of-range pages are a 400, never an overflow.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_page_whose_offset_overflows_is_a_bad_request() {
    let app = spawn_app().await;
    let key = app.admin_key();
    app.anonymous_login().await;
    for query in [
        "page=18446744073709551615",
        "page=18446744073709551615&per_page=100",
        "page=9223372036854775807",  // (page - 1) * 25 overflows u64
        "page=368934881474191034",   // the offset fits u64, not SQLite's i64 OFFSET
        "page=18446744073709551616", // not a u64 at all
    ] {
        let resp = app.admin(Method::GET, &format!("/users?{query}"), Some(&key), None).await;
        assert_error(resp, 400, "BadRequest").await;
    }
    // the server is still there, and a far but representable page is just empty
    let far: Value = app.admin(Method::GET, "/users?page=1000000", Some(&key), None).await.json().await.unwrap();
    assert_eq!((far["users"].as_array().map(Vec::len), far["total"].as_u64()), (Some(0), Some(1)), "{far}");
    let first = app.admin(Method::GET, "/users?page=1", Some(&key), None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["users"].as_array().map(Vec::len), Some(1));
}
