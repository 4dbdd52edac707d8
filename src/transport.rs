//! HTTP: the only code that calls `fetch`.
//!
//! One function, [`request`], sends a JSON request and turns the answer into parsed JSON or an
//! [`Error`] carrying the server's `error_code`. `fetch` is looked up on `window` at call time, so
//! a page (or a test) that wraps `window.fetch` sees every request.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

use crate::error::{Error, Result, HTTP_ERROR, NETWORK_ERROR};
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

/// Sends one request and reads its answer.
///
/// `bearer` is whichever token the route wants (access or refresh, wire.md). The result is the
/// parsed JSON body, or `None` for an empty one (`204` on logout). A failed fetch is
/// `NetworkError` (status 0); a non-2xx answer is the server's `{error, error_code}`, or
/// `HttpError` when the body is not that shape.
pub(crate) async fn request(
    method: Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<&JsValue>,
) -> Result<Option<JsValue>> {
    let network_error = || Error::client(NETWORK_ERROR, "the server could not be reached");

    // A plain object is a valid `HeadersInit`, and cheaper to build than a `Headers`.
    let headers = json::object();
    let header = |name, value: &str| json::set(&headers, name, &JsValue::from_str(value));
    header("Accept", "application/json");
    if let Some(token) = bearer {
        let mut value = String::with_capacity(7 + token.len());
        value.push_str("Bearer ");
        value.push_str(token);
        header("Authorization", &value);
    }
    let init = RequestInit::new();
    init.set_method(method.as_str());
    if let Some(body) = body {
        // The server refuses any other content type on a body (415).
        header("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(&json::stringify(body)));
    }
    init.set_headers(&headers);

    let window = web_sys::window().ok_or_else(network_error)?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .ok()
        .and_then(|r| r.dyn_into().ok())
        .ok_or_else(network_error)?;

    let status = response.status();
    // A body that cannot be read (connection cut mid-way) is as good as no answer.
    let text = match response.text() {
        Ok(promise) => read_text(promise).await,
        Err(_) => None,
    }
    .ok_or_else(network_error)?;
    let parsed = if text.is_empty() { None } else { json::parse(&text) };

    if (200..300).contains(&status) {
        if parsed.is_none() && !text.is_empty() {
            return Err(Error::invalid_response(status));
        }
        return Ok(parsed);
    }
    Err(server_error(status, parsed.as_ref()))
}

async fn read_text(promise: Promise) -> Option<String> {
    JsFuture::from(promise).await.ok()?.as_string()
}

/// The error a non-2xx answer stands for.
fn server_error(status: u16, body: Option<&JsValue>) -> Error {
    let field = |key| body.and_then(|b| json::get_string(b, key));
    match field("error_code") {
        Some(code) => Error { code: code.into(), status, message: field("error").unwrap_or_default().into() },
        None => Error { status, ..Error::client(HTTP_ERROR, "the server answered with an error") },
    }
}
