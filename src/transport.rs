//! HTTP: every request the SDK makes goes through gloo-net here.
//!
//! An [`Outgoing`] request is built afresh for each attempt ([`Outgoing::build`]), with the
//! bearer token the route wants, so a request retried after a refresh carries the new token and
//! a page's body is sent again whole. [`read`] turns a protocol answer into a parsed JSON value
//! or an [`Error`] carrying the server's `error_code`. gloo-net calls the global `fetch` at call
//! time, so a page (or a test) that wraps `fetch` sees every request.

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use guestpass_protocol::answers::ErrorBody;
use wasm_bindgen::{JsCast, JsValue};

use crate::codec;
use crate::error::{Error, Result, HTTP_ERROR, INVALID_ARGUMENT, NETWORK_ERROR};

const JSON_TYPE: &str = "application/json";

/// A request to send, perhaps more than once.
#[derive(Debug)]
pub(crate) enum Outgoing<'a> {
    /// A protocol route: JSON in (when there is a body) and out.
    Protocol {
        method: Method,
        url: &'a str,
        /// `?link=true` (a login route that links instead).
        link: bool,
        /// JSON text.
        body: Option<&'a str>,
    },
    /// The page's own request (`user.fetch`): its URL and `RequestInit`, as it gave them.
    Page { url: &'a str, init: &'a JsValue },
}

impl Outgoing<'_> {
    /// A protocol request without a body.
    pub(crate) fn route(method: Method, url: &str) -> Outgoing<'_> {
        Outgoing::Protocol { method, url, link: false, body: None }
    }

    /// The request, with `Authorization: Bearer <bearer>` when there is one.
    fn build(&self, bearer: Option<&str>) -> Result<Request> {
        let authorization = bearer.map(|token| ["Bearer ", token].concat());
        match self {
            Outgoing::Protocol { method, url, link, body } => {
                let mut builder = RequestBuilder::new(url).method(method.clone()).header("Accept", JSON_TYPE);
                if *link {
                    builder = builder.query([("link", "true")]);
                }
                if let Some(value) = &authorization {
                    builder = builder.header("Authorization", value);
                }
                let built = match body {
                    // The server refuses any other content type on a body (415).
                    Some(text) => builder.header("Content-Type", JSON_TYPE).body(JsValue::from_str(text)),
                    None => builder.build(),
                };
                built.map_err(|_| Error::client(INVALID_ARGUMENT, "invalid request URL"))
            }
            &Outgoing::Page { url, init } => {
                // The page's `RequestInit` as it is (a missing one is an empty one): the
                // browser reads every shape of it, and throws on an invalid one.
                let init: &web_sys::RequestInit = init.unchecked_ref();
                let request = if JsValue::from(init).is_undefined() {
                    web_sys::Request::new_with_str(url)
                } else {
                    web_sys::Request::new_with_str_and_init(url, init)
                }
                .map_err(|_| Error::client(INVALID_ARGUMENT, "invalid request"))?;
                if let Some(value) = &authorization {
                    let _ = request.headers().set("Authorization", value);
                }
                Ok(Request::from(request))
            }
        }
    }
}

fn network_error() -> Error {
    Error::client(NETWORK_ERROR, "the server could not be reached")
}

/// Sends `outgoing` once. Any response is `Ok`, whatever its status; no response (offline, a
/// CORS refusal) is `NetworkError` (status 0).
pub(crate) async fn send(outgoing: &Outgoing<'_>, bearer: Option<&str>) -> Result<web_sys::Response> {
    let response = outgoing.build(bearer)?.send().await.map_err(|_| network_error())?;
    Ok(response.into())
}

/// Sends a protocol request and reads its answer (see [`read`]).
pub(crate) async fn request(outgoing: &Outgoing<'_>, bearer: Option<&str>) -> Result<Option<JsValue>> {
    read(send(outgoing, bearer).await?).await
}

/// Reads a protocol answer: the parsed JSON body, or `None` for an empty one (`204` on logout).
/// A non-2xx answer is the server's `{error, error_code}`, or `HttpError` when the body is not
/// that shape.
pub(crate) async fn read(response: web_sys::Response) -> Result<Option<JsValue>> {
    let response = Response::from(response);
    let status = response.status();
    // A body that cannot be read (connection cut mid-way) is as good as no answer.
    let text = response.text().await.map_err(|_| network_error())?;
    let parsed = if text.is_empty() { None } else { codec::parse(&text) };

    if (200..300).contains(&status) {
        if parsed.is_none() && !text.is_empty() {
            return Err(Error::invalid_response(status));
        }
        return Ok(parsed);
    }
    let mut error = match parsed.and_then(codec::from_js::<ErrorBody>) {
        Some(body) => Error { code: body.error_code.into(), status, message: body.error.into(), retry_after: None },
        None => Error { status, ..Error::client(HTTP_ERROR, "the server answered with an error") },
    };
    if status == 429 {
        error.retry_after = retry_after(&response);
    }
    Err(error)
}

/// `Retry-After` in seconds (what guestpass sends; the HTTP-date form reads as none). The
/// server must expose the header to cross-origin pages, as guestpass does.
fn retry_after(response: &Response) -> Option<u32> {
    response.headers().get("Retry-After")?.trim().parse().ok()
}

/// Whether the server refused the access token itself (`401 InvalidSession`), so that a refresh
/// may help. Reads a copy of the body, leaving `response` whole for the caller.
pub(crate) async fn refused_session(response: &web_sys::Response) -> bool {
    if response.status() != 401 {
        return false;
    }
    match response.clone() {
        Ok(copy) => read(copy).await.is_err_and(|error| error.is_invalid_session()),
        Err(_) => false,
    }
}
