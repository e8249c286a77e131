//! One request, start to end: parse → sign check → cache key → memory cache (result store →
//! source → transform off the runtime → store) → response. No pixels are touched here.

use super::budget::Reservation;
use super::response::{self, Caching};
use super::AppState;
use crate::cache::{Rendered, StoredResult};
use crate::error::Error;
use crate::spec::{check_expiry, parse_request, Format, Key, ParsedRequest, TransformSpec};
use crate::transform::{self, SourceFormat, TransformError};
use axum::extract::{Request, State};
use axum::response::Response;
use http::request::Parts;
use http::{header, Method, StatusCode};
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The fallback handler: every path comes here.
pub(super) async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let (req, body) = req.into_parts();
    let head = req.method == Method::HEAD;
    let path = req.uri.path();
    let result =
        if req.method == Method::POST && (path == "/_/transform" || path.starts_with("/_/transform/")) {
            super::post::transform(&state, &req, body).await
        } else {
            route(&state, &req).await
        };
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            if e.should_log() {
                tracing::error!(path = %req.uri.path(), error = %e, "request failed");
            } else if let Some(detail) = e.log_detail() {
                tracing::info!(path = %req.uri.path(), %detail, "source refused");
            }
            response::error(&e)
        }
    };
    if head {
        response::without_body(resp)
    } else {
        resp
    }
}

async fn route(state: &AppState, req: &Parts) -> Result<Response, Error> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(Error::Method);
    }
    let path = req.uri.path();
    if path == "/_" || path.starts_with("/_/") {
        return endpoint(state, path).await;
    }
    let parsed = parse_request(path, req.uri.query(), state.config.limits.max_output_side)?;
    authorize(state, &parsed)?;
    let if_none_match = req.headers.get(header::IF_NONE_MATCH);
    if parsed.spec.is_identity() {
        return original(state, &parsed.key, if_none_match).await;
    }
    let accept = req.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    variant(state, parsed, accept, if_none_match).await
}

async fn endpoint(state: &AppState, path: &str) -> Result<Response, Error> {
    match path {
        "/_/health" => Ok(response::json(StatusCode::OK, serde_json::json!({ "status": "ok" }))),
        "/_/demo" if state.config.demo => {
            let keys = state.source.list(Some(super::demo::KEYS)).await?;
            Ok(response::html(super::demo::page(&keys)))
        }
        _ => Err(Error::NoEndpoint),
    }
}

/// Expiry always; the signature when a secret is configured (unsigned presets if allowed).
fn authorize(state: &AppState, parsed: &ParsedRequest) -> Result<(), Error> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    check_expiry(&parsed.spec, now)?;
    if parsed.spec.is_identity() {
        return Ok(());
    }
    let is_preset = parsed.spec.is_preset_only();
    if state.config.presets_only && !is_preset {
        return Err(Error::PresetsOnly);
    }
    let Some(signer) = &state.config.signer else {
        return Ok(());
    };
    if state.config.allow_unsigned_presets && is_preset {
        return Ok(());
    }
    Ok(signer.verify(&parsed.spec, &parsed.key, parsed.signature.as_deref())?)
}

/// A strong ETag over what determines the bytes: the key, the variant and the source's version.
fn etag(key: &Key, variant: &str, source_etag: &str) -> String {
    let mut h = Sha256::new();
    h.update(key.as_str().as_bytes());
    h.update([0]);
    h.update(variant.as_bytes());
    h.update([0]);
    h.update(source_etag.as_bytes());
    let d = h.finalize();
    let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// No options: the original bytes, untouched, if they are an image. The bytes count against the
/// memory budget until the client has them, so slow downloads of large originals cannot pile up.
async fn original(
    state: &AppState,
    key: &Key,
    if_none_match: Option<&http::HeaderValue>,
) -> Result<Response, Error> {
    let meta = state.source_version(key).await?;
    let tag = etag(key, "", &meta.etag);
    let caching = Caching { etag: &tag, cache_control: &state.config.cache_control, vary_accept: false };
    if response::etag_matches(if_none_match, &tag) {
        return Ok(response::not_modified(&caching));
    }
    let max = state.config.max_source_bytes;
    if meta.len > max {
        return Err(crate::source::SourceError::TooLarge(max).into());
    }
    let held = state.budget.reserve(meta.len, state.config.queue_wait).await?;
    let original = state.source.get(key, max).await?;
    let mime = SourceFormat::sniff(&original.bytes)?.mime();
    Ok(response::image_held(original.bytes, held, mime, &caching, None))
}

async fn variant(
    state: &AppState,
    parsed: ParsedRequest,
    accept: Option<&str>,
    if_none_match: Option<&http::HeaderValue>,
) -> Result<Response, Error> {
    let ParsedRequest { key, spec: written, .. } = parsed;
    let mut spec = state.config.presets.expand(&written)?;
    spec.check_crop_coordinates()?;
    let limits = &state.config.limits;
    transform::geometry::check_request(&spec, limits.max_output_side).map_err(TransformError::from)?;
    transform::geometry::check_box_pixels(&spec, limits.max_output_pixels).map_err(TransformError::from)?;
    let vary_accept = resolve_format(&mut spec, accept);
    let variant = variant_name(&written, spec.format);
    let meta = state.source_version(&key).await?;
    let tag = etag(&key, &variant, &meta.etag);
    let caching = Caching { etag: &tag, cache_control: &state.config.cache_control, vary_accept };
    if response::etag_matches(if_none_match, &tag) {
        return Ok(response::not_modified(&caching));
    }
    let cache_key = format!("{key}\n{variant}\n{}", meta.etag);
    let (rendered, fresh) = state
        .memory
        .get_or_render(cache_key, render(state, &key, &variant, spec, &meta.etag, meta.len))
        .await
        .map_err(|e| (*e).clone())?;
    let timing = if fresh { rendered.server_timing.as_str() } else { "cache;desc=\"memory\"" };
    Ok(response::image(rendered.bytes.clone(), &rendered.content_type, &caching, Some(timing)))
}

/// Runs the pipeline off the async runtime, under the transform deadline and within the memory
/// budget: the estimate from the header and plan is reserved before the work starts (on top of
/// `held`, what the caller already reserved for the source bytes) and held until it ends.
pub(super) async fn run_transform(
    state: &AppState,
    bytes: bytes::Bytes,
    spec: TransformSpec,
    what: &str,
    mut held: Reservation,
) -> Result<transform::Output, Error> {
    let limits = state.config.limits.clone();
    let estimate = transform::assess(&bytes, &spec, &limits)?;
    let more = estimate.memory.saturating_sub(held.num_permits() as u64 * 1024);
    if more > 0 {
        held.merge(state.budget.reserve(more, state.config.queue_wait).await?);
    }
    let deadline = Instant::now() + state.config.transform_timeout;
    run_guarded(state, what, move || {
        let _held_until_the_work_ends = held;
        transform::run(&bytes, &spec, &limits, deadline)
    })
    .await
}

/// Runs CPU work in a transform slot on the blocking pool. Back-pressure: at most N at once; a
/// request that cannot start within the queue wait is refused with 503 rather than piling up
/// decoded images in memory. A panic is a 500 for this request only.
pub async fn run_guarded<F>(state: &AppState, what: &str, work: F) -> Result<transform::Output, Error>
where
    F: FnOnce() -> Result<transform::Output, TransformError> + Send + 'static,
{
    let permit = tokio::time::timeout(state.config.queue_wait, state.permits.clone().acquire_owned())
        .await
        .map_err(|_| Error::Busy)?
        .map_err(|_| Error::Busy)?;
    let timeout = state.config.transform_timeout;
    let task = tokio::task::spawn_blocking(move || {
        let _held_until_the_work_ends = permit;
        work()
    });
    match tokio::time::timeout(timeout + Duration::from_secs(1), task).await {
        Err(_) => Err(TransformError::Deadline.into()),
        Ok(Err(join)) => {
            tracing::error!(key = %what, "transform panicked: {join}");
            Err(TransformError::Internal("panic".into()).into())
        }
        Ok(Ok(result)) => Ok(result?),
    }
}

/// `f_auto` becomes AVIF or WebP for clients that take them; what is left as `Auto` means
/// JPEG-or-PNG, which the source alone decides. Returns whether the answer depends on `Accept`.
pub(super) fn resolve_format(spec: &mut TransformSpec, accept: Option<&str>) -> bool {
    let varies = spec.format == Some(Format::Auto);
    spec.format = transform::format::resolve_requested(spec.format, accept);
    varies
}

/// The name of a variant in caches and the result store: the canonical options as written (with
/// `f_auto` resolved to `format`), plus the format's extension when the URL fixes it.
pub fn variant_name(written: &TransformSpec, format: Option<Format>) -> String {
    let canonical = TransformSpec { format, expires: None, ..written.clone() };
    match format {
        Some(f) if f != Format::Auto => format!("{canonical}.{}", f.as_str()),
        _ => canonical.to_string(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// A memory miss: the result store if it holds this version, else fetch, transform and store.
async fn render(
    state: &AppState,
    key: &Key,
    variant: &str,
    spec: TransformSpec,
    etag: &str,
    source_len: u64,
) -> Result<Rendered, Error> {
    let started = Instant::now();
    match state.store.get(key, variant).await {
        Ok(Some(r)) if r.source_etag == etag => {
            state.stats.store_hits.fetch_add(1, Ordering::Relaxed);
            let server_timing = format!("store;desc=\"hit\";dur={}", ms(started.elapsed()));
            return Ok(Rendered { bytes: r.bytes, content_type: r.content_type, server_timing });
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
    let content_type = out.format.mime().to_string();
    let stored =
        StoredResult { bytes: bytes.clone(), content_type: content_type.clone(), source_etag: original.etag };
    let store_start = Instant::now();
    if let Err(e) = state.store.put(key, variant, &stored).await {
        tracing::warn!(%key, error = %e, "result store write failed; serving anyway");
    }
    let t = out.timings;
    let server_timing = format!(
        "fetch;dur={}, decode;dur={}, transform;dur={}, encode;dur={}, store;dur={}",
        ms(fetch),
        ms(t.decode),
        ms(t.transform),
        ms(t.encode),
        ms(store_start.elapsed())
    );
    Ok(Rendered { bytes, content_type, server_timing })
}
