//! The image path, start to end: parse → resolve (spec::resolve: expiry, presets-only,
//! signature, presets, limits, `f_auto`) → the original, or the variant from the memory cache
//! (result store → source → transform in a slot → store). No pixels are touched here.

use super::response::{self, Caching};
use super::slots::run_transform;
use crate::cache::{Rendered, StoredResult, VariantKey};
use crate::error::Error;
use crate::spec::{parse_request, resolve, Format, Key, Request, Resolved};
use crate::state::AppState;
use crate::transform::{Given, SourceFormat};
use axum::response::Response;
use http::request::Parts;
use http::{header, HeaderValue};
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Unix time now.
pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A GET or HEAD of an image URL.
pub(super) async fn serve(state: &AppState, req: &Parts) -> Result<Response, Error> {
    let parsed = parse_request(req.uri.path(), req.uri.query(), state.config.limits.max_output_side)?;
    // An AWS image handler URL may name a bucket: it must be the one this origin reads.
    if let Some(bucket) = parsed.handler.as_ref().and_then(|h| h.bucket.as_deref()) {
        if state.config.source_bucket() != Some(bucket) {
            return Err(Error::Bucket(bucket.to_string()));
        }
    }
    let if_none_match = req.headers.get(header::IF_NONE_MATCH);
    let accept = req.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let request = Request {
        key: Some(&parsed.key),
        written: &parsed.spec,
        signature: parsed.signature.as_deref(),
        handler_signed: parsed.handler.as_ref().map(|h| h.signed.as_str()),
        accept,
        hints: crate::spec::Hints::from_headers(&req.headers),
        now: now(),
    };
    let resolved = resolve(&request, &state.rules())?;
    if parsed.spec.is_identity() {
        return original(state, &parsed.key, if_none_match).await;
    }
    variant(state, parsed.key, resolved, if_none_match).await
}

/// A strong ETag over what determines the bytes: the key, the variant and the source's version.
fn etag(key: &Key, variant: &str, source_etag: &str) -> String {
    let mut h = Sha256::new();
    for part in [key.as_str(), variant, source_etag] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// No options: the original bytes, untouched, if they are an image. The bytes count against the
/// memory budget until the client has them, so slow downloads of large originals cannot pile up.
async fn original(
    state: &AppState,
    key: &Key,
    if_none_match: Option<&HeaderValue>,
) -> Result<Response, Error> {
    let started = Instant::now();
    let meta = state.source_version(key).await?;
    let tag = etag(key, "", &meta.etag);
    let caching = Caching {
        etag: &tag,
        cache_control: &state.config.cache_control,
        vary_accept: false,
        vary_hints: &[],
    };
    if response::etag_matches(if_none_match, &tag) {
        return Ok(response::not_modified(&caching));
    }
    let max = state.config.max_source_bytes;
    if meta.len > max {
        return Err(crate::source::SourceError::TooLarge(max).into());
    }
    let held = state.budget.reserve(meta.len, state.config.queue_wait).await?;
    let original = state.source.get(key, max).await?;
    // Every format pixflow names passes through, decoded or not; unknown bytes stay a 415.
    let mut bytes = original.bytes;
    let mime = match SourceFormat::sniff(&bytes) {
        // An SVGZ goes out inflated (within the source limit), as the SVG it is; inflating is
        // work on the file's bytes, done on the blocking pool.
        Ok(SourceFormat::Svg) if bytes.starts_with(&[0x1f, 0x8b]) => {
            let gzipped = bytes.clone();
            let inflate = move || crate::transform::decode_svg::text(&gzipped, max).map(|t| t.into_owned());
            bytes = tokio::task::spawn_blocking(inflate)
                .await
                .map_err(|_| crate::transform::TransformError::Internal("the SVGZ inflater stopped".into()))??
                .into();
            SourceFormat::Svg.mime()
        }
        Ok(format) => format.mime(),
        Err(e) => crate::transform::identify::foreign(&bytes).map(|f| f.mime).ok_or(e)?,
    };
    let timing = format!("fetch;dur={}", ms(started.elapsed()));
    Ok(response::image_held(bytes, held, mime, &caching, Some(&timing)))
}

async fn variant(
    state: &AppState,
    key: Key,
    resolved: Resolved,
    if_none_match: Option<&HeaderValue>,
) -> Result<Response, Error> {
    let meta = state.source_version(&key).await?;
    let tag = etag(&key, resolved.variant.as_str(), &meta.etag);
    let caching = Caching {
        etag: &tag,
        cache_control: &state.config.cache_control,
        vary_accept: resolved.vary_accept,
        vary_hints: &resolved.vary_hints,
    };
    if response::etag_matches(if_none_match, &tag) {
        return Ok(response::not_modified(&caching));
    }
    let cache_key = VariantKey { key, variant: resolved.variant, source_version: meta.etag };
    // The timing of a fresh render travels beside the cache, never inside its entries.
    let timing = Arc::new(Mutex::new(None));
    let render = render(state, &cache_key, resolved.spec, meta.len, timing.clone());
    let (rendered, fresh) =
        state.memory.get_or_render(cache_key.clone(), render).await.map_err(|e| (*e).clone())?;
    let fresh_timing = timing.lock().ok().and_then(|mut t| t.take());
    let timing = match (fresh, fresh_timing) {
        (true, Some(t)) => t,
        _ => "cache;desc=\"memory\"".to_string(),
    };
    Ok(response::image(rendered.bytes.clone(), rendered.format.mime(), &caching, Some(&timing)))
}

/// A variant made sure of in the result store, past the memory cache (jobs and eager variants):
/// the stored one if it was made from the current version, else fetched, transformed and stored.
pub(crate) async fn render_stored(state: &AppState, key: Key, resolved: Resolved) -> Result<Rendered, Error> {
    let meta = state.source_version(&key).await?;
    let vk = VariantKey { key, variant: resolved.variant, source_version: meta.etag };
    render(state, &vk, resolved.spec, meta.len, Arc::default()).await
}

/// A memory miss: the result store if it holds this version, else fetch, transform and store.
async fn render(
    state: &AppState,
    vk: &VariantKey,
    spec: crate::spec::TransformSpec,
    source_len: u64,
    timing: Arc<Mutex<Option<String>>>,
) -> Result<Rendered, Error> {
    let started = Instant::now();
    let key = &vk.key;
    match state.store.get(key, &vk.variant).await {
        Ok(Some(r)) if r.source_etag == vk.source_version => {
            if let Some(format) = Format::from_mime(&r.content_type) {
                state.stats.store_hits.fetch_add(1, Ordering::Relaxed);
                set(&timing, format!("store;desc=\"hit\";dur={}", ms(started.elapsed())));
                return Ok(Rendered { bytes: r.bytes, format });
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(%key, error = %e, "result store read failed; transforming"),
    }
    let fetch_start = Instant::now();
    let max = state.config.max_source_bytes;
    let held = state.budget.reserve(source_len.min(max), state.config.queue_wait).await?;
    let original = state.source.get(key, max).await?;
    let fetch = fetch_start.elapsed();
    state.stats.transforms.fetch_add(1, Ordering::Relaxed);
    let out = run_transform(state, original.bytes.clone(), spec, key.as_str(), held).await?;
    let bytes: bytes::Bytes = out.bytes.into();
    let stored = StoredResult {
        bytes: bytes.clone(),
        content_type: out.format.mime().to_string(),
        source_etag: original.etag,
    };
    let store_start = Instant::now();
    if let Err(e) = state.store.put(key, &vk.variant, &stored).await {
        tracing::warn!(%key, error = %e, "result store write failed; serving anyway");
    }
    let t = out.timings;
    // The encoder's quality, for a lossy output: what `q_auto` chose, or what `q_N` mapped to.
    let quality = match out.quality {
        Some(Given { quality, score: Some(score), trials }) => {
            format!(", quality;desc=\"q{quality} ssimulacra2 {score:.1} trials {trials}\"")
        }
        Some(Given { quality, .. }) => format!(", quality;desc=\"q{quality}\""),
        None => String::new(),
    };
    set(
        &timing,
        format!(
            "fetch;dur={}, decode;dur={}, transform;dur={}, encode;dur={}, store;dur={}{quality}",
            ms(fetch),
            ms(t.decode),
            ms(t.transform),
            ms(t.encode),
            ms(store_start.elapsed())
        ),
    );
    Ok(Rendered { bytes, format: out.format })
}

fn set(slot: &Mutex<Option<String>>, value: String) {
    if let Ok(mut s) = slot.lock() {
        *s = Some(value);
    }
}
