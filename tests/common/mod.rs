//! What the browser tests share: the server URLs, a clean page, a request log, and calls through
//! the JS surface (the tests use the names a page uses, so they check those too).

#![allow(dead_code)] // each test file uses a different part

use guestpass::{App, Credentials};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The normal server.
pub fn server() -> &'static str {
    match option_env!("GUESTPASS_TEST_URL") {
        Some(url) => url,
        None => panic!(
            "GUESTPASS_TEST_URL is not set: start guestpass-server and build the tests with \
             GUESTPASS_TEST_URL=http://127.0.0.1:<port>"
        ),
    }
}

/// The same server with a 2-second access-token lifetime.
pub fn short_server() -> &'static str {
    match option_env!("GUESTPASS_TEST_SHORT_URL") {
        Some(url) => url,
        None => panic!(
            "GUESTPASS_TEST_SHORT_URL is not set: start guestpass-server with \
             --access-token-ttl 2s and build the tests with GUESTPASS_TEST_SHORT_URL=http://127.0.0.1:<port>"
        ),
    }
}

/// A server that lets one address sign up two anonymous users an hour
/// (`--anonymous-signup-limit 2/1h`). The browsers' runs share it.
pub fn limited_server() -> &'static str {
    match option_env!("GUESTPASS_TEST_LIMITED_URL") {
        Some(url) => url,
        None => panic!(
            "GUESTPASS_TEST_LIMITED_URL is not set: start guestpass-server with \
             --anonymous-signup-limit 2/1h and build the tests with GUESTPASS_TEST_LIMITED_URL=http://127.0.0.1:<port>"
        ),
    }
}

/// A second origin: scripts/header-echo.mjs, which keeps the headers it received.
pub fn echo_server() -> &'static str {
    match option_env!("GUESTPASS_TEST_ECHO_URL") {
        Some(url) => url,
        None => panic!(
            "GUESTPASS_TEST_ECHO_URL is not set: start `node scripts/header-echo.mjs` and build the tests with \
             GUESTPASS_TEST_ECHO_URL=http://127.0.0.1:<port>"
        ),
    }
}

/// What the echo server received so far: `(method, path, Authorization header)` of each request.
pub async fn echo_seen() -> Vec<(String, String, Option<String>)> {
    let url = [echo_server(), "/seen"].concat();
    let fetch = Function::new_with_args("url", "return (window.__realFetch || window.fetch)(url).then(r => r.json());");
    let promise: Promise = fetch.call1(&JsValue::UNDEFINED, &url.into()).unwrap().dyn_into().unwrap();
    let seen: Array = JsFuture::from(promise).await.unwrap().dyn_into().unwrap();
    seen.iter()
        .map(|entry| {
            (get_string(&entry, "method"), get_string(&entry, "path"), get(&entry, "authorization").as_string())
        })
        .collect()
}

pub fn app_id() -> &'static str {
    option_env!("GUESTPASS_TEST_APP_ID").unwrap_or("guestpass-test")
}

/// Restores Web Storage (see [`break_storage`]), clears localStorage and sessionStorage and
/// starts a new request log: every test begins here.
pub fn fresh_page() {
    restore_storage();
    storage().clear().unwrap();
    window().session_storage().unwrap().unwrap().clear().unwrap();
    // Wrap window.fetch once; the SDK (gloo-net) calls the global fetch at call time, with a
    // `Request`, so it goes through this. A request's body is read from a copy, before it is
    // sent: it is in the log by the time the SDK has the response.
    Function::new_no_args(
        "const w = window;
         if (!w.__realFetch) {
           w.__realFetch = w.fetch;
           w.fetch = function (input, init) {
             const request = new Request(input, init);
             const url = request.url;
             w.__requests.push(request.method + ' ' + url);
             const i = w.__bodies.push(null) - 1;
             const log = w.__bodies;
             request.clone().text().then((text) => { if (text !== '') log[i] = text; });
             w.__auth.push(request.headers.get('Authorization'));
             if (w.__unreachable && String(url).includes(w.__unreachable)) {
               return Promise.reject(new TypeError('Failed to fetch'));
             }
             if (w.__failing && String(url).includes(w.__failing)) {
               return Promise.resolve(new Response('<h1>Service Unavailable</h1>',
                 { status: 503, headers: { 'Content-Type': 'text/html' } }));
             }
             return w.__realFetch.call(this, request);
           };
         }
         w.__requests = [];
         w.__bodies = [];
         w.__auth = [];
         w.__unreachable = null;
         w.__failing = null;",
    )
    .call0(&JsValue::UNDEFINED)
    .unwrap();
}

/// The requests the page made since [`fresh_page`] or [`forget_requests`], as `"METHOD url"`.
pub fn requests() -> Vec<String> {
    let log: Array = Reflect::get(&window(), &"__requests".into()).unwrap().unchecked_into();
    log.iter().map(|r| r.as_string().unwrap()).collect()
}

/// The bodies of those requests (`None` without one).
pub fn request_bodies() -> Vec<Option<String>> {
    let log: Array = Reflect::get(&window(), &"__bodies".into()).unwrap().unchecked_into();
    log.iter().map(|body| body.as_string()).collect()
}

/// The `Authorization` header of those requests (`None` without one).
pub fn request_auth() -> Vec<Option<String>> {
    let log: Array = Reflect::get(&window(), &"__auth".into()).unwrap().unchecked_into();
    log.iter().map(|auth| auth.as_string()).collect()
}

pub fn forget_requests() {
    for log in ["__requests", "__bodies", "__auth"] {
        Reflect::set(&window(), &log.into(), &Array::new()).unwrap();
    }
}

/// From now on, the page's fetch fails (as with no network) for URLs containing `fragment`.
pub fn unreachable(fragment: Option<&str>) {
    let value = fragment.map_or(JsValue::NULL, JsValue::from_str);
    Reflect::set(&window(), &"__unreachable".into(), &value).unwrap();
}

/// From now on, the page's fetch answers `503` (an HTML page, as a proxy would) for URLs
/// containing `fragment`, without reaching the server. The real server cannot be made to fail
/// on demand, so this is how a server fault is tested.
pub fn failing(fragment: Option<&str>) {
    let value = fragment.map_or(JsValue::NULL, JsValue::from_str);
    Reflect::set(&window(), &"__failing".into(), &value).unwrap();
}

/// Web Storage made to throw until this is dropped (and, should a test fail first, until the
/// next [`fresh_page`]).
pub struct BrokenStorage;

impl Drop for BrokenStorage {
    fn drop(&mut self) {
        restore_storage();
    }
}

/// Makes `Storage.prototype.setItem` throw a `QuotaExceededError` (as a full quota or a
/// refusing private mode does), and `getItem` throw too with `reads`.
pub fn break_storage(reads: bool) -> BrokenStorage {
    Function::new_with_args(
        "reads",
        "const p = Storage.prototype;
         if (!p.__realSetItem) p.__realSetItem = p.setItem;
         if (!p.__realGetItem) p.__realGetItem = p.getItem;
         p.setItem = function () { throw new DOMException('no room', 'QuotaExceededError'); };
         if (reads) p.getItem = function () { throw new DOMException('denied', 'SecurityError'); };",
    )
    .call1(&JsValue::NULL, &JsValue::from_bool(reads))
    .unwrap();
    BrokenStorage
}

fn restore_storage() {
    Function::new_no_args(
        "const p = Storage.prototype;
         if (p.__realSetItem) p.setItem = p.__realSetItem;
         if (p.__realGetItem) p.getItem = p.__realGetItem;",
    )
    .call0(&JsValue::NULL)
    .unwrap();
}

/// Fires a `storage` event in this page, as the browser does in the other tabs of the origin
/// when one of them writes `key` to localStorage (`None`: `localStorage.clear()`). The SDK
/// reads storage again, so the test first writes what "the other tab" wrote.
pub fn storage_event(key: Option<&str>) {
    let fire = Function::new_with_args(
        "key",
        "window.dispatchEvent(new StorageEvent('storage', { key, storageArea: localStorage }));",
    );
    fire.call1(&JsValue::NULL, &key.map_or(JsValue::NULL, JsValue::from_str)).unwrap();
}

/// A change listener that keeps every event it hears.
pub struct Recorder {
    pub listener: JsValue,
    log: Array,
}

impl Recorder {
    pub fn new() -> Recorder {
        let log = Array::new();
        let listener = Function::new_with_args("log", "return (event) => { log.push(event); };")
            .call1(&JsValue::NULL, &log)
            .unwrap();
        Recorder { listener, log }
    }

    /// Each event's `kind`, with `:reason` for `identity-at-risk` and a leading `~` when it
    /// came from storage (`remote`), of [`Recorder::events`].
    pub fn kinds(&self) -> Vec<String> {
        self.events().iter().map(kind).collect()
    }

    /// [`Recorder::kinds`] of every event, `storage-capped` included.
    pub fn all_kinds(&self) -> Vec<String> {
        self.log.iter().map(|event| kind(&event)).collect()
    }

    /// The events, oldest first. Leaves out `identity-at-risk` / `storage-capped`, which WebKit
    /// adds to every anonymous login in `localStorage`: tests/webkit.rs asserts it (with
    /// [`Recorder::all_kinds`]).
    pub fn events(&self) -> Vec<JsValue> {
        self.log.iter().filter(|event| get(event, "reason").as_string().as_deref() != Some("storage-capped")).collect()
    }

    /// The user id of each event.
    pub fn user_ids(&self) -> Vec<String> {
        self.events().iter().map(|event| get_string(&get(event, "user"), "id")).collect()
    }

    pub fn clear(&self) {
        self.log.set_length(0);
    }
}

/// `[~]kind[:reason]` of one event.
fn kind(event: &JsValue) -> String {
    let remote = if get(event, "remote") == JsValue::TRUE { "~" } else { "" };
    let reason = get(event, "reason").as_string().map(|r| [":", &r].concat()).unwrap_or_default();
    [remote, &get_string(event, "kind"), &reason].concat()
}

/// `target.addListener(recorder)` on an app or a user.
pub fn listen(target: &JsValue) -> Recorder {
    let recorder = Recorder::new();
    let add: Function = get(target, "addListener").dyn_into().unwrap();
    add.call1(target, &recorder.listener).unwrap();
    recorder
}

pub fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

pub fn storage() -> web_sys::Storage {
    window().local_storage().unwrap().unwrap()
}

pub fn stored(key: &str) -> Option<String> {
    storage().get_item(key).unwrap()
}

pub fn users_key() -> String {
    ["guestpass:", app_id(), ":users"].concat()
}

pub fn device_key() -> String {
    ["guestpass:", app_id(), ":deviceId"].concat()
}

pub fn user_key(id: &str) -> String {
    ["guestpass:", app_id(), ":user:", id].concat()
}

/// `new App({ id, baseUrl })`, as the JS object a page holds.
pub fn new_app_with(id: &str, base_url: &str) -> JsValue {
    let config = js_sys::Object::new();
    Reflect::set(&config, &"id".into(), &id.into()).unwrap();
    Reflect::set(&config, &"baseUrl".into(), &base_url.into()).unwrap();
    match App::new(config.into()) {
        Ok(app) => app.into(),
        Err(e) => panic!("new App threw: {e:?}"),
    }
}

pub fn new_app(base_url: &str) -> JsValue {
    new_app_with(app_id(), base_url)
}

/// `new App({ id, baseUrl, ...options })`.
pub fn new_app_config(base_url: &str, options: &[(&str, JsValue)]) -> JsValue {
    let config = js_sys::Object::new();
    Reflect::set(&config, &"id".into(), &app_id().into()).unwrap();
    Reflect::set(&config, &"baseUrl".into(), &base_url.into()).unwrap();
    for (name, value) in options {
        Reflect::set(&config, &(*name).into(), value).unwrap();
    }
    match App::new(config.into()) {
        Ok(app) => app.into(),
        Err(e) => panic!("new App threw: {}", describe(&e)),
    }
}

pub fn session_storage() -> web_sys::Storage {
    window().session_storage().unwrap().unwrap()
}

/// `Credentials.anonymous(reuse)`.
pub fn anonymous(reuse: Option<bool>) -> JsValue {
    Credentials::anonymous(reuse).into()
}

/// `Credentials.emailPassword(email, password)`.
pub fn email_password(email: &str, password: &str) -> JsValue {
    Credentials::email_password(email.into(), password.into()).into()
}

/// An email no other test (or earlier run against the same server) has used.
pub fn unique_email() -> String {
    let n = (js_sys::Math::random() * 1e15) as u64;
    format!("reader-{n}@example.com")
}

/// `{ email, password }`, what `registerUser` takes.
pub fn account(email: &str, password: &str) -> JsValue {
    let details = js_sys::Object::new();
    Reflect::set(&details, &"email".into(), &email.into()).unwrap();
    Reflect::set(&details, &"password".into(), &password.into()).unwrap();
    details.into()
}

/// `await app.emailPasswordAuth.registerUser({ email, password })`, which must succeed.
pub async fn register(app: &JsValue, email: &str, password: &str) {
    if let Err(e) = call(&get(app, "emailPasswordAuth"), "registerUser", &[account(email, password)]).await {
        panic!("registerUser failed: {}", describe(&e));
    }
}

/// `A/auth/providers/<provider>/<route>` on `base`.
pub fn provider_url(base: &str, provider: &str, route: &str) -> String {
    [base, "/api/client/v2.0/app/", app_id(), "/auth/providers/", provider, "/", route].concat()
}

/// The keys of `app.allUsers`.
pub fn all_user_ids(app: &JsValue) -> Vec<String> {
    js_sys::Object::keys(&get(app, "allUsers").into()).iter().map(|id| id.as_string().unwrap()).collect()
}

/// `object[name]`.
pub fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &name.into()).unwrap()
}

pub fn get_string(object: &JsValue, name: &str) -> String {
    get(object, name).as_string().unwrap_or_else(|| panic!("{name} is not a string"))
}

/// `object[method](...args)`, a promise not yet awaited.
pub fn start(object: &JsValue, method: &str, args: &[JsValue]) -> JsFuture {
    let function: Function = get(object, method).dyn_into().unwrap();
    let args: Array = args.iter().collect();
    let promise: Promise = function.apply(object, &args).unwrap().dyn_into().unwrap();
    JsFuture::from(promise)
}

/// `await object[method](...args)`.
pub async fn call(object: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    start(object, method, args).await
}

/// `await app.logIn(credentials)`, which must succeed.
pub async fn log_in(app: &JsValue, credentials: JsValue) -> JsValue {
    match call(app, "logIn", &[credentials]).await {
        Ok(user) => user,
        Err(e) => panic!("logIn failed: {}", describe(&e)),
    }
}

/// `await object[method](...args)`, which must reject; the error.
pub async fn rejection(object: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    match call(object, method, args).await {
        Ok(_) => panic!("{method} succeeded; it should have failed"),
        Err(e) => e,
    }
}

/// Asserts a rejection's `code` and `status`.
pub fn assert_error(error: &JsValue, code: &str, status: u16) {
    assert_eq!(get(error, "code").as_string().as_deref(), Some(code), "{}", describe(error));
    assert_eq!(get(error, "status"), JsValue::from(status), "{}", describe(error));
    assert_eq!(get(error, "name").as_string().as_deref(), Some("GuestpassError"));
}

/// `"<code> <status>: <message>"` of a rejection.
pub fn describe(error: &JsValue) -> String {
    let code = get(error, "code").as_string().unwrap_or_default();
    let status = get(error, "status").as_f64().unwrap_or(-1.0);
    let message = get(error, "message").as_string().unwrap_or_default();
    format!("{code} {status}: {message}")
}

/// Status of a request made with the page's own fetch (not counted), with `Bearer <token>`.
pub async fn raw_status(method: &str, url: &str, token: &str) -> u16 {
    let send = Function::new_with_args(
        "method, url, token",
        "return (window.__realFetch || window.fetch)(url, {
           method, headers: { Authorization: 'Bearer ' + token }
         }).then(r => r.status);",
    );
    let promise: Promise =
        send.call3(&JsValue::UNDEFINED, &method.into(), &url.into(), &token.into()).unwrap().dyn_into().unwrap();
    JsFuture::from(promise).await.unwrap().as_f64().unwrap() as u16
}

pub fn session_url(base: &str) -> String {
    [base, "/api/client/v2.0/auth/session"].concat()
}

pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

pub fn is_hex_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
