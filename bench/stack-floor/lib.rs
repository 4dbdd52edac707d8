//! One anonymous login on the SDK's eight crates, and nothing else: the stored user read back
//! through gloo-storage and serde-wasm-bindgen, or the login sent with gloo-net, its answer
//! decoded and the user stored. What this weighs is what any SDK on this stack pays before
//! its own features.
use gloo_net::http::Request;
use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without threads, as in the SDK (src/lib.rs).
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

#[derive(Deserialize)]
struct LoginAnswer {
    access_token: String,
    refresh_token: String,
    user_id: String,
    device_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredUser {
    id: String,
    access_token: String,
    refresh_token: String,
    device_id: Option<String>,
}

fn fail(what: &str) -> JsValue {
    JsValue::from_str(what)
}

/// The user id: the stored user's, or a new anonymous user's.
#[wasm_bindgen(js_name = logIn)]
pub async fn log_in(base_url: String, app_id: String) -> Result<JsValue, JsValue> {
    let key = ["guestpass:", &app_id, ":user"].concat();
    let stored = LocalStorage::raw().get_item(&key).ok().flatten();
    if let Some(user) = stored
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .and_then(|value| serde_wasm_bindgen::from_value::<StoredUser>(value).ok())
    {
        return Ok(JsValue::from_str(&user.id));
    }
    let url = [&base_url, "/api/client/v2.0/app/", &app_id, "/auth/providers/anon-user/login"].concat();
    let request = Request::post(&url).header("Content-Type", "application/json").body("{}");
    let response = request.map_err(|_| fail("invalid request"))?.send().await.map_err(|_| fail("network"))?;
    let text = response.text().await.map_err(|_| fail("network"))?;
    let value = js_sys::JSON::parse(&text).map_err(|_| fail("not JSON"))?;
    let answer: LoginAnswer = serde_wasm_bindgen::from_value(value).map_err(|_| fail("bad answer"))?;
    let user = StoredUser {
        id: answer.user_id,
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        device_id: answer.device_id,
    };
    let record = serde_wasm_bindgen::to_value(&user).map_err(|_| fail("bad record"))?;
    if let Ok(text) = js_sys::JSON::stringify(&record) {
        let _ = LocalStorage::raw().set_item(&key, &String::from(text));
    }
    Ok(JsValue::from_str(&user.id))
}
