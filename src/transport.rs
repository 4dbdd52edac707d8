//! HTTP: the only code that calls `fetch`.
//!
//! [`send`] makes one `fetch` with a bearer token added to whatever `RequestInit` it is given
//! (the page's own, for `user.fetch`, or one built by [`json_init`]); [`read`] turns a protocol
//! answer into parsed JSON or an [`Error`] carrying the server's `error_code`; [`request`] is the
//! two together. `fetch` is looked up on `window` at call time, so a page (or a test) that wraps
//! `window.fetch` sees every request.

use alloc::string::String;
use js_sys::{Object, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Response};

use crate::error::{Error, Result, HTTP_ERROR, INVALID_ARGUMENT, NETWORK_ERROR};
use crate::json;

/// HTTP methods the protocol uses.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// Sends one protocol request and reads its answer (see [`read`]).
///
/// `bearer` is whichever token the route wants (access or refresh, wire.md).
pub(crate) async fn request(
    method: Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<&JsValue>,
) -> Result<Option<JsValue>> {
    read(send(url, &json_init(method, body), bearer).await?).await
}

/// The `RequestInit` of a protocol request: JSON in (when there is a body) and out.
pub(crate) fn json_init(method: Method, body: Option<&JsValue>) -> JsValue {
    // A plain object is a valid `HeadersInit`, and cheaper to build than a `Headers`.
    let headers = json::object();
    json::set(&headers, "Accept", &JsValue::from_str("application/json"));
    let init = json::object();
    json::set(&init, "method", &JsValue::from_str(method.as_str()));
    if let Some(body) = body {
        // The server refuses any other content type on a body (415).
        json::set(&headers, "Content-Type", &JsValue::from_str("application/json"));
        json::set(&init, "body", &JsValue::from_str(&json::stringify(body)));
    }
    json::set(&init, "headers", &headers);
    init.into()
}

/// `fetch(url, init)`, with `Authorization: Bearer <bearer>` added to a copy of `init`'s headers
/// (`init` itself is left as the caller made it, so it can be sent again).
///
/// Any response is `Ok`, whatever its status; a failed fetch is `NetworkError` (status 0).
pub(crate) async fn send(url: &str, init: &JsValue, bearer: Option<&str>) -> Result<Response> {
    let network_error = || Error::client(NETWORK_ERROR, "the server could not be reached");

    // `Object.assign` skips `undefined` and `null`, so a missing init is an empty one.
    let init = Object::assign(&json::object(), init.unchecked_ref());
    if let Some(token) = bearer {
        // `new Headers(...)` takes every `HeadersInit` shape a page may use (object, array of
        // pairs, Headers), and throws on an invalid one.
        let headers = json::get(&init, "headers").unwrap_or(JsValue::UNDEFINED);
        let headers = Headers::new_with_str_sequence_sequence(&headers)
            .map_err(|_| Error::client(INVALID_ARGUMENT, "invalid request headers"))?;
        let mut value = String::with_capacity(7 + token.len());
        value.push_str("Bearer ");
        value.push_str(token);
        let _ = headers.set("Authorization", &value);
        json::set(&init, "headers", &headers);
    }

    let window = web_sys::window().ok_or_else(network_error)?;
    JsFuture::from(window.fetch_with_str_and_init(url, init.unchecked_ref()))
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or_else(network_error)
}

/// Reads a protocol answer: the parsed JSON body, or `None` for an empty one (`204` on logout).
/// A non-2xx answer is the server's `{error, error_code}`, or `HttpError` when the body is not
/// that shape.
pub(crate) async fn read(response: Response) -> Result<Option<JsValue>> {
    let status = response.status();
    // A body that cannot be read (connection cut mid-way) is as good as no answer.
    let text = match response.text() {
        Ok(promise) => read_text(promise).await,
        Err(_) => None,
    }
    .ok_or_else(|| Error::client(NETWORK_ERROR, "the server could not be reached"))?;
    let parsed = if text.is_empty() { None } else { json::parse(&text) };

    if (200..300).contains(&status) {
        if parsed.is_none() && !text.is_empty() {
            return Err(Error::invalid_response(status));
        }
        return Ok(parsed);
    }
    let mut error = server_error(status, parsed.as_ref());
    if status == 429 {
        error.retry_after = retry_after(&response);
    }
    Err(error)
}

/// `Retry-After` in seconds (what guestpass sends; the HTTP-date form reads as none). The
/// server must expose the header to cross-origin pages, as guestpass does.
fn retry_after(response: &Response) -> Option<u32> {
    let value = response.headers().get("Retry-After").ok()??;
    let seconds = js_sys::Number::parse_int(&value, 10);
    // NaN (not a number) fails the comparison.
    (seconds >= 0.0).then_some(seconds as u32)
}

/// Whether the server refused the access token itself (`401 InvalidSession`), so that a refresh
/// may help. Reads a copy of the body, leaving `response` whole for the caller.
pub(crate) async fn refused_session(response: &Response) -> bool {
    if response.status() != 401 {
        return false;
    }
    match response.clone() {
        Ok(copy) => read(copy).await.is_err_and(|error| error.is_invalid_session()),
        Err(_) => false,
    }
}

async fn read_text(promise: Promise) -> Option<String> {
    JsFuture::from(promise).await.ok()?.as_string()
}

/// The error a non-2xx answer stands for.
fn server_error(status: u16, body: Option<&JsValue>) -> Error {
    let field = |key| body.and_then(|b| json::get_string(b, key));
    match field("error_code") {
        Some(code) => {
            Error { code: code.into(), status, message: field("error").unwrap_or_default().into(), retry_after: None }
        }
        None => Error { status, ..Error::client(HTTP_ERROR, "the server answered with an error") },
    }
}
