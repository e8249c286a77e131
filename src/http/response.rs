//! The one owner of response headers: images, 304s and JSON errors.

use crate::error::Error;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

/// How a successful image response is cached and varied.
pub(super) struct Caching<'a> {
    /// Strong ETag, quoted.
    pub etag: &'a str,
    /// `Cache-Control` value.
    pub cache_control: &'a str,
    /// Whether the answer depended on `Accept`.
    pub vary_accept: bool,
    /// The client hint headers the answer depended on.
    pub vary_hints: &'a [&'static str],
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

fn cached(mut builder: http::response::Builder, c: &Caching<'_>) -> http::response::Builder {
    builder =
        builder.header(header::ETAG, value(c.etag)).header(header::CACHE_CONTROL, value(c.cache_control));
    let vary: Vec<&str> =
        c.vary_accept.then_some("Accept").into_iter().chain(c.vary_hints.iter().copied()).collect();
    if !vary.is_empty() {
        builder = builder.header(header::VARY, value(&vary.join(", ")));
    }
    builder
}

/// 200 with the image bytes. `Content-Type` is always set.
pub(super) fn image(bytes: Bytes, content_type: &str, c: &Caching<'_>, timing: Option<&str>) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, value(content_type))
        .header(header::CONTENT_LENGTH, bytes.len())
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // A script in an SVG original must never run in the CDN's origin (DESIGN §2 "Inputs").
    if content_type == crate::transform::identify::SVG_MIME {
        builder = builder.header(
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'; style-src 'unsafe-inline'",
        );
    }
    if let Some(t) = timing {
        builder = builder.header("server-timing", value(t));
    }
    cached(builder, c).body(Body::from(bytes)).unwrap_or_else(|_| fallback())
}

/// As [`image`], with a body that holds `reservation` until it has been sent.
pub(super) fn image_held(
    bytes: Bytes,
    reservation: super::budget::Reservation,
    content_type: &str,
    c: &Caching<'_>,
    timing: Option<&str>,
) -> Response {
    let (parts, _) = image(bytes.clone(), content_type, c, timing).into_parts();
    Response::from_parts(parts, Body::new(super::budget::HeldBody::new(bytes, reservation)))
}

/// 304 for a matching `If-None-Match`.
pub(super) fn not_modified(c: &Caching<'_>) -> Response {
    cached(Response::builder().status(StatusCode::NOT_MODIFIED), c)
        .body(Body::empty())
        .unwrap_or_else(|_| fallback())
}

/// A JSON body with no-cache semantics fitting its status.
pub(super) fn json(status: StatusCode, body: serde_json::Value) -> Response {
    let text = body.to_string();
    let cache = if status.is_server_error() { "no-store" } else { "public, max-age=60" };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, text.len())
        .header(header::CACHE_CONTROL, cache)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(text))
        .unwrap_or_else(|_| fallback())
}

/// A JSON body that no cache keeps (a POST's answer).
pub(super) fn json_uncached(status: StatusCode, body: serde_json::Value) -> Response {
    uncached(json(status, body))
}

/// `resp` marked for no cache to keep.
pub(super) fn uncached(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `{"error": code, "message": sentence}` with the error's status; 4xx cache briefly, 5xx never.
pub(super) fn error(e: &Error) -> Response {
    let mut resp = json(e.status(), serde_json::json!({ "error": e.code(), "message": e.public_message() }));
    if e.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = match e {
            Error::ApiMethod(methods) => methods,
            _ => "GET, HEAD",
        };
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    if e.status() == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if let Error::TooManyAttempts(secs) = e {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*secs));
    }
    resp
}

fn fallback() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}

/// `HEAD`: the same status and headers, no body.
pub(super) fn without_body(resp: Response) -> Response {
    let (parts, _) = resp.into_parts();
    Response::from_parts(parts, Body::empty())
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, as RFC 9110 asks).
pub(super) fn etag_matches(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(v) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    v.split(',').any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// An HTML page (the demo), never cached long: it lists what the source holds now. It asks for
/// the client hints its `dpr_auto`/`w_auto` images use.
pub(super) fn html(page: String) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header("accept-ch", "Sec-CH-DPR, Sec-CH-Width")
        .header(header::CONTENT_LENGTH, page.len())
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(page))
        .unwrap_or_else(|_| fallback())
}

/// The demo page's script (a fixed file inside the binary).
pub(super) fn script(source: &'static str) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
        .header(header::CONTENT_LENGTH, source.len())
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(source))
        .unwrap_or_else(|_| fallback())
}

/// 204 with no body, cached nowhere (a DELETE's answer).
pub(super) fn no_content() -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_else(|_| fallback())
}

/// A transformed upload: never cached anywhere, it answers one request.
pub(super) fn uploaded(bytes: Bytes, content_type: &str, width: u32, height: u32) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, value(content_type))
        .header(header::CONTENT_LENGTH, bytes.len())
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header("x-image-width", width)
        .header("x-image-height", height)
        .body(Body::from(bytes))
        .unwrap_or_else(|_| fallback())
}
