//! What failures look like to a page (needs a running server: see tests/common).

mod common;

use common::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn an_unknown_app_is_app_not_found() {
    fresh_page();
    let app = new_app_with("no-such-app", server());

    let error = call(&app, "logIn", &[anonymous(None)]).await.unwrap_err();

    let js_error = error.dyn_ref::<js_sys::Error>().expect("an Error instance");
    assert_eq!(String::from(js_error.name()), "GuestpassError");
    assert_eq!(get_string(&error, "code"), "AppNotFound", "{}", describe(&error));
    assert_eq!(get(&error, "status"), JsValue::from(404));
    assert!(get(&app, "currentUser").is_null());
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_a_network_error() {
    fresh_page();
    let app = new_app("http://127.0.0.1:9");

    let error = call(&app, "logIn", &[anonymous(None)]).await.unwrap_err();

    assert_eq!(get_string(&error, "code"), "NetworkError", "{}", describe(&error));
    assert_eq!(get(&error, "status"), JsValue::from(0));
    assert_eq!(get_string(&error, "name"), "GuestpassError");
}

#[wasm_bindgen_test]
async fn an_answer_of_the_wrong_shape_is_an_invalid_server_response() {
    fresh_page();
    // The second origin answers protocol routes with well-formed JSON of the wrong shape.
    let app = new_app(echo_server());

    let error = call(&app, "logIn", &[anonymous(None)]).await.unwrap_err();

    assert_error(&error, "InvalidServerResponse", 200);
    assert!(get(&app, "currentUser").is_null());
    assert!(stored(&users_key()).is_none());
}

#[wasm_bindgen_test]
fn an_app_without_an_id_throws() {
    let config = js_sys::Object::new();
    let error = guestpass::App::new(config.into()).unwrap_err();
    assert_eq!(get_string(&error, "code"), "InvalidArgument");
}
