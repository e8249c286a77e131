//! Variants rendered into a result store ahead of any request — jobs, uploads, S3 events and
//! `--eager` — through the image path's own resolution and render (spec::resolve, then the
//! result store → source → transform → store of `http::image`), one result per variant.

use crate::error::Error;
use crate::spec::{resolve, Hints, Key, Request, Rules, TransformSpec};
use crate::state::AppState;
use std::sync::Arc;

/// The outcome of one variant of one original, as jobs answer it and events log it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantResult {
    /// The original.
    pub source_key: String,
    /// The variant's canonical identity (an `f_auto` variant gives one result per format).
    pub variant: String,
    /// 200, or the status the same URL would have answered.
    pub status_code: u16,
    /// `ok`, or the error's public message.
    pub message: String,
    /// The bucket of the result store, when it is a bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_bucket: Option<String>,
    /// Where the variant is stored (absent with no result store).
    pub destination_key: Option<String>,
    /// Bytes of the variant.
    pub file_size: Option<usize>,
    /// Its MIME type.
    pub content_type: Option<String>,
    /// Its width.
    pub width: Option<u32>,
    /// Its height.
    pub height: Option<u32>,
}

impl VariantResult {
    /// Whether the variant is stored.
    pub fn succeeded(&self) -> bool {
        self.status_code == 200
    }

    /// Logs the outcome as one line (JSON on Lambda), success or failure.
    pub fn log(&self, trigger: &str) {
        let line = serde_json::to_string(self).unwrap_or_default();
        match self.succeeded() {
            true => tracing::info!(trigger, outcome = "succeeded", result = %line, "variant stored"),
            false => tracing::warn!(trigger, outcome = "failed", result = %line, "variant failed"),
        }
    }
}

/// Each variant of each key as a request names it: `f_auto` in every format the edge asks for
/// (AVIF, WebP, and JPEG-or-PNG), `t_NAME` expanded. Signatures and `--presets-only` do not
/// apply: the caller is trusted (the API key, the bucket's own events, the operator).
pub fn requests(
    state: &AppState,
    key: &Key,
    specs: &[TransformSpec],
) -> Vec<Result<crate::spec::Resolved, Error>> {
    let rules = Rules { signer: None, presets_only: false, ..state.rules() };
    let mut out = Vec::new();
    for spec in specs {
        for accept in [None, Some("image/avif"), Some("image/webp")] {
            let request = Request {
                key: Some(key),
                written: spec,
                signature: None,
                handler_signed: None,
                accept,
                hints: Hints::default(),
                now: crate::http::image::now(),
            };
            let resolved = resolve(&request, &rules).map_err(Error::from);
            let more = resolved.as_ref().is_ok_and(|r| r.vary_accept);
            out.push(resolved);
            if !more {
                break;
            }
        }
    }
    out
}

/// Renders every variant of `key` into `state`'s result store, at most `--max-transforms` at
/// once; results in request order. `bucket` names the store's bucket in the results.
pub async fn render(
    state: &AppState,
    key: &Key,
    specs: &[TransformSpec],
    bucket: Option<&str>,
) -> Vec<VariantResult> {
    render_until(state, key, specs, bucket, None).await
}

/// [`render`], starting no variant after `until`: those left are reported as 504s, so a job's
/// whole run is bounded however many heavy variants it names.
pub async fn render_until(
    state: &AppState,
    key: &Key,
    specs: &[TransformSpec],
    bucket: Option<&str>,
    until: Option<tokio::time::Instant>,
) -> Vec<VariantResult> {
    let limit = Arc::new(tokio::sync::Semaphore::new(state.config.max_transforms.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, resolved) in requests(state, key, specs).into_iter().enumerate() {
        let (state, key, limit) = (state.clone(), key.clone(), limit.clone());
        let bucket = bucket.map(str::to_string);
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            let expired = until.is_some_and(|t| tokio::time::Instant::now() >= t);
            (i, one(&state, key, resolved, bucket, expired).await)
        });
    }
    let mut results = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(r) => results.push(r),
            Err(e) => tracing::error!(error = %e, "a variant task failed"),
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

async fn one(
    state: &AppState,
    key: Key,
    resolved: Result<crate::spec::Resolved, Error>,
    bucket: Option<String>,
    expired: bool,
) -> VariantResult {
    let variant = resolved.as_ref().map(|r| r.variant.to_string()).unwrap_or_default();
    let base = VariantResult {
        source_key: key.to_string(),
        variant,
        status_code: 200,
        message: "ok".into(),
        destination_bucket: bucket,
        destination_key: None,
        file_size: None,
        content_type: None,
        width: None,
        height: None,
    };
    let located = resolved.as_ref().ok().and_then(|r| state.store.locate(&key, &r.variant));
    let rendered = match resolved {
        Ok(_) if expired => Err(crate::transform::TransformError::Deadline.into()),
        Ok(r) => crate::http::image::render_stored(state, key, r).await,
        Err(e) => Err(e),
    };
    match rendered {
        Ok(r) => {
            let size = crate::transform::identify::stated_size(&r.bytes);
            VariantResult {
                destination_key: located,
                file_size: Some(r.bytes.len()),
                content_type: Some(r.format.mime().to_string()),
                width: size.map(|s| s.0),
                height: size.map(|s| s.1),
                ..base
            }
        }
        Err(e) => VariantResult { status_code: e.status().as_u16(), message: e.public_message(), ..base },
    }
}
