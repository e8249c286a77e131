//! `POST /_/transform`: an image in the request body instead of a source key. Raw bytes
//! (`Content-Type: image/*`) come back as an image; JSON `{"image": base64, "options": "…"}` comes
//! back as JSON. Off unless `--allow-post`; with `--post-api-key` it needs `X-Api-Key`; with a
//! signing secret the options must be signed over the path `_/transform`.

use super::image::now;
use super::response;
use super::slots::run_transform;
use crate::error::Error;
use crate::source::SourceError;
use crate::spec::{parse_post, resolve, Request};
use crate::state::AppState;
use crate::transform::TransformError;
use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use http::request::Parts;
use http::{header, StatusCode};

#[derive(serde::Deserialize)]
struct JsonBody {
    image: String,
    #[serde(default)]
    options: String,
}

/// Handles one POST.
pub(super) async fn transform(state: &AppState, req: &Parts, body: Body) -> Result<Response, Error> {
    let config = &state.config;
    if !config.allow_post {
        return Err(Error::NoEndpoint);
    }
    if let Some(key) = &config.post_api_key {
        super::api::check_api_key_of(state, req, key)?;
    }
    let max = config.max_source_bytes;
    let content_type = req.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let is_json = content_type.starts_with("application/json");
    // Base64 makes JSON bodies a third larger than the image they carry.
    let max_body = if is_json { max.saturating_mul(4) / 3 + 4096 } else { max };
    // Refused before a byte is read: a declared length over the limit. The budget is reserved as
    // the body arrives (for JSON, the decoded image beside it), within a minimum rate.
    let declared = req.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body) {
        return Err(SourceError::TooLarge(max).into());
    }
    let (body, held) = super::body::read(state, body, max_body, if is_json { 2 } else { 1 }).await?;
    let path_options = req.uri.path().strip_prefix("/_/transform").unwrap_or("").trim_start_matches('/');
    let (json, image, options) = if is_json {
        let parsed: JsonBody = serde_json::from_slice(&body).map_err(|e| {
            tracing::info!(error = %e, "POST body is not the expected JSON");
            Error::BadBody("the JSON body must be {\"image\": base64, \"options\": \"…\"}".into())
        })?;
        let image = base64::engine::general_purpose::STANDARD.decode(parsed.image.trim()).map_err(|e| {
            tracing::info!(error = %e, "POST image is not base64");
            Error::BadBody("`image` must be standard base64".into())
        })?;
        let options = if parsed.options.is_empty() { path_options.to_string() } else { parsed.options };
        (true, bytes::Bytes::from(image), options)
    } else if content_type.starts_with("image/") {
        (false, body, path_options.to_string())
    } else {
        return Err(TransformError::Unsupported(format!(
            "POST a body with Content-Type image/* or application/json, not `{content_type}`"
        ))
        .into());
    };
    if image.len() as u64 > max {
        return Err(SourceError::TooLarge(max).into());
    }
    let (written, signature) = parse_post(&options, req.uri.query(), config.limits.max_output_side)?;
    let accept = req.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let hints = crate::spec::Hints::from_headers(&req.headers);
    let request = Request {
        key: None,
        written: &written,
        signature: signature.as_deref(),
        handler_signed: None,
        accept,
        hints,
        now: now(),
    };
    let resolved = resolve(&request, &state.rules())?;
    let out = run_transform(state, image, resolved.spec, "POST /_/transform", held).await?;
    let mime = out.format.mime();
    if json {
        let body = serde_json::json!({
            "image": base64::engine::general_purpose::STANDARD.encode(&out.bytes),
            "contentType": mime,
            "width": out.width,
            "height": out.height,
            "bytes": out.bytes.len(),
        });
        return Ok(response::json_uncached(StatusCode::OK, body));
    }
    Ok(response::uploaded(out.bytes.into(), mime, out.width, out.height))
}
