//! The write endpoints (DESIGN §8): `PUT`/`DELETE /_/originals/{key}`, `GET /_/originals`,
//! `POST /_/jobs`. They exist only with `--api-key` (404 otherwise), and every one needs it in
//! `X-Api-Key` — checked here, in one place, before anything else is read.

mod jobs;
mod originals;

use crate::error::Error;
use crate::state::AppState;
use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::Method;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Whether `path` is one of the write endpoints.
pub(super) fn owns(path: &str) -> bool {
    path == "/_/originals" || path.starts_with("/_/originals/") || path == "/_/jobs"
}

/// One request to a write endpoint.
pub(super) async fn handle(state: &AppState, req: &Parts, body: Body) -> Result<Response, Error> {
    let Some(key) = &state.config.api_key else { return Err(Error::NoEndpoint) };
    check_api_key_of(state, req, key)?;
    let path = req.uri.path();
    match (&req.method, path.strip_prefix("/_/originals/")) {
        (&Method::PUT, Some(raw)) => originals::put(state, req, raw, body).await,
        (&Method::DELETE, Some(raw)) => originals::delete(state, raw).await,
        (&Method::GET | &Method::HEAD, None) if path == "/_/originals" => {
            originals::list(state, req.uri.query()).await
        }
        (&Method::POST, None) if path == "/_/jobs" => jobs::run(state, req, body).await,
        _ => Err(Error::ApiMethod(allowed(path))),
    }
}

/// The methods `path` answers, for a 405's `Allow`.
fn allowed(path: &str) -> &'static str {
    match path {
        "/_/originals" => "GET, HEAD",
        "/_/jobs" => "POST",
        _ => "PUT, DELETE",
    }
}

/// [`check_api_key`] with the client's back-off: a client that sent a wrong key is refused (429)
/// until its wait is over, its key not even compared.
pub(super) fn check_api_key_of(state: &AppState, req: &Parts, key: &str) -> Result<(), Error> {
    let client = super::backoff::client(req);
    if let Some(wait) = state.backoff.waiting(client) {
        return Err(Error::TooManyAttempts(wait.as_secs() + 1));
    }
    let checked = check_api_key(req, key);
    match checked {
        Ok(()) => state.backoff.succeeded(client),
        Err(_) => state.backoff.failed(client),
    }
    checked
}

/// `X-Api-Key` against the configured key. Digests of equal length are compared, so neither the
/// time taken nor the answer tells the key's length.
pub(super) fn check_api_key(req: &Parts, key: &str) -> Result<(), Error> {
    let given = req.headers.get("x-api-key").map(|v| v.as_bytes()).unwrap_or_default();
    let (given, want) = (Sha256::digest(given), Sha256::digest(key.as_bytes()));
    match bool::from(given.as_slice().ct_eq(want.as_slice())) {
        true => Ok(()),
        false => Err(Error::ApiKey),
    }
}

/// Reads a request body of at most `max` bytes, refusing a larger declared length before a byte
/// is read; the bytes are held in the memory budget until the returned reservation is dropped.
pub(super) async fn read_body(
    state: &AppState,
    req: &Parts,
    body: Body,
    max: u64,
) -> Result<(bytes::Bytes, super::budget::Reservation), Error> {
    let too_large = || crate::source::SourceError::TooLarge(max);
    let declared =
        req.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large().into());
    }
    super::body::read(state, body, max, 1).await
}
