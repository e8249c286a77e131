//! `PUT /_/originals/{key}` (checked, stored whole, variants purged and eager ones rendered),
//! `DELETE /_/originals/{key}` (the original and its variants) and `GET /_/originals` (a page of
//! keys). The key in the path is percent-decoded once and validated as an image URL's key is.

use super::super::response;
use crate::error::Error;
use crate::events::{fresh, variants};
use crate::spec::{decode_form, validate_key, Key, SpecError};
use crate::state::AppState;
use crate::transform::inspect::inspect;
use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::{header, StatusCode};
use std::time::Instant;

/// The most keys one listing page holds, and the default.
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

fn key_of(raw: &str) -> Result<Key, Error> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| SpecError::new("bad_key", raw, "percent-encoding does not decode to UTF-8"))?;
    Ok(validate_key(&decoded)?)
}

/// Stores the body as the original at `raw` once it is known to be an image pixflow serves.
pub(super) async fn put(state: &AppState, req: &Parts, raw: &str, body: Body) -> Result<Response, Error> {
    let key = key_of(raw)?;
    let only_if_new = match req.headers.get(header::IF_NONE_MATCH).map(|v| v.as_bytes()) {
        None => false,
        Some(b"*") => true,
        Some(_) => return Err(Error::BadBody("If-None-Match on an upload must be `*`".into())),
    };
    let (bytes, held) = super::read_body(state, req, body, state.config.max_source_bytes).await?;
    // The check runs in a transform slot with the budget of a real transform; a file with no
    // estimate is refused by the check itself, in its own words.
    let (limits, deadline) = (state.config.limits.clone(), Instant::now() + state.config.transform_timeout);
    let identity = crate::spec::TransformSpec::default();
    let held = match super::super::slots::assess(state, &bytes, &identity, deadline).await {
        Ok(e) => super::super::slots::hold_up_to(state, e.memory, held).await?,
        Err(_) => held,
    };
    let checked = bytes.clone();
    let inspected = super::super::slots::run_in_slot(state, key.as_str(), move || {
        let _held_until_checked = held;
        inspect(&checked, &limits, deadline)
    })
    .await?;
    let _one_writer = state.writes.lock(&key).await;
    let written = state.source.put(&key, bytes.clone(), inspected.mime, only_if_new).await?;
    // A new key may have a cached 404 at the edge, a replaced one old variants everywhere.
    let fresh = fresh::original_changed(state, &key).await;
    let rendered = variants::render(state, &key, &state.config.eager, state.store_bucket()).await;
    rendered.iter().for_each(|v| v.log("upload"));
    let mut answer = serde_json::json!({
        "key": key.as_str(),
        "bytes": bytes.len(),
        "etag": written.etag,
        "contentType": inspected.mime,
        "format": inspected.format,
        "width": inspected.width,
        "height": inspected.height,
        "purged": fresh.purged,
    });
    if !rendered.is_empty() {
        answer["variants"] = serde_json::to_value(&rendered).unwrap_or_default();
    }
    let status = if written.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(response::json_uncached(status, answer))
}

/// Deletes the original at `raw` and every stored variant of it: 204, or 404 when there was none.
pub(super) async fn delete(state: &AppState, raw: &str) -> Result<Response, Error> {
    let key = key_of(raw)?;
    let _one_writer = state.writes.lock(&key).await;
    if !state.source.delete(&key).await? {
        return Err(crate::source::SourceError::NotFound(key.to_string()).into());
    }
    fresh::original_changed(state, &key).await;
    Ok(response::no_content())
}

/// `?prefix=&after=&limit=`: one page of originals in key order, and where the next starts.
pub(super) async fn list(state: &AppState, query: Option<&str>) -> Result<Response, Error> {
    let (mut prefix, mut after, mut limit) = (String::new(), None, DEFAULT_LIMIT);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode_form(value)?;
        match name {
            "prefix" => prefix = value,
            "after" => after = Some(value).filter(|a| !a.is_empty()),
            "limit" => {
                limit = value.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                    SpecError::new("bad_limit", pair, "limit must be a whole number from 1 to 1000")
                })?
            }
            _ => {
                return Err(SpecError::new(
                    "unknown_parameter",
                    pair,
                    "only prefix, after and limit are read here",
                )
                .into())
            }
        }
    }
    let page = state.source.page(&prefix, after.as_deref(), limit).await?;
    Ok(response::json_uncached(StatusCode::OK, serde_json::to_value(&page).unwrap_or_default()))
}
