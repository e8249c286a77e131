//! The pipeline: header check → plan → decode (DCT-scaled) → orient → resize → colour → effects →
//! canvas → encode. One step per file, in this fixed order, with a deadline check between steps.
//! Synchronous and CPU-bound: callers run it off the async runtime.

mod canvas;
mod color;
pub mod dc_only;
pub mod decode;
mod effects;
mod encode;
pub mod format;
pub mod geometry;
pub mod metadata;
mod orient;
mod resize;
pub mod shrink_png;

pub use decode::{read_header, Header, SourceFormat};
pub use encode::default_quality;
pub use format::{resolve_auto, AutoFormat};
pub use geometry::GeometryError;

use crate::spec::{Format, Quality, Rgb, TransformSpec};
use std::time::Instant;

/// Limits that bound the work one request can cause.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest source, in pixels, read from the header before decoding.
    pub max_source_pixels: u64,
    /// Largest output side in pixels.
    pub max_output_side: u32,
    /// Largest encoded output in bytes.
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_source_pixels: 50_000_000, max_output_side: 8192, max_output_bytes: 50 << 20 }
    }
}

/// Why a transform failed; `crate::error` maps each to an HTTP status.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransformError {
    /// Not an image format pixflow reads (415).
    #[error("{0}")]
    Unsupported(String),
    /// A recognised format that does not decode (422).
    #[error("the source image is corrupt: {0}")]
    Corrupt(String),
    /// Over the source pixel limit (413).
    #[error("the source is {0}x{1} px, over the limit of {2} pixels")]
    TooManyPixels(u32, u32, u64),
    /// Over another size limit (413).
    #[error("{0}")]
    OverLimit(String),
    /// The options cannot apply to this source (400).
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    /// Past the transform deadline (504).
    #[error("the transform did not finish within its deadline")]
    Deadline,
    /// A bug or an encoder failure (500).
    #[error("{0}")]
    Internal(String),
}

/// An encoded result.
#[derive(Debug, Clone)]
pub struct Output {
    /// The encoded bytes.
    pub bytes: Vec<u8>,
    /// Their format.
    pub format: Format,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Time spent in each stage.
    pub timings: Timings,
}

/// Time spent per stage, for `Server-Timing`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Header check and decode (including the DCT-domain shrink).
    pub decode: std::time::Duration,
    /// Colour, orientation, resize, effects and canvas.
    pub transform: std::time::Duration,
    /// Encoding.
    pub encode: std::time::Duration,
}

fn check(deadline: Instant) -> Result<(), TransformError> {
    if Instant::now() > deadline {
        return Err(TransformError::Deadline);
    }
    Ok(())
}

/// Runs `spec` (presets expanded; `f_auto` already resolved to AVIF/WebP, or left as `Auto`
/// meaning JPEG-or-PNG) on the source `bytes`.
pub fn run(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
) -> Result<Output, TransformError> {
    let started = Instant::now();
    if spec.format == Some(Format::Json) {
        let meta = metadata::describe(bytes, spec, limits)?;
        let json = serde_json::to_vec(&meta).map_err(|e| TransformError::Internal(e.to_string()))?;
        let timings = Timings { decode: started.elapsed(), ..Timings::default() };
        return Ok(Output {
            bytes: json,
            format: Format::Json,
            width: meta.output.width,
            height: meta.output.height,
            timings,
        });
    }
    let (header, displayed, plan) = planned(bytes, spec, limits)?;
    let eighths = if header.format == SourceFormat::Jpeg { dct_scale(&plan) } else { 8 };
    let png_factor = match header.format {
        SourceFormat::Png => shrink_png::factor((plan.region.width, plan.region.height), plan.scaled),
        _ => 1,
    };
    check(deadline)?;

    let (exif, source_format) = (header.orientation, header.format);
    let decoded = decode::decode(bytes, header, eighths, png_factor, spec.gray, limits)?;
    let decoded_at = Instant::now();
    let icc = decoded.header.icc;
    let mut img = orient::orient(decoded.image, exif, spec);
    check(deadline)?;

    // The plan is in full-size displayed pixels; the decoded image may be DCT-scaled.
    let fx = f64::from(img.width()) / f64::from(displayed.0);
    let fy = f64::from(img.height()) / f64::from(displayed.1);
    let r = plan.region;
    let exact = fx == 1.0 && fy == 1.0 && !plan.resizes();
    if exact && (r.width, r.height) != (img.width(), img.height()) {
        img = img.crop_imm(r.x, r.y, r.width, r.height);
    } else if !exact {
        let region = resize::Region {
            x: f64::from(r.x) * fx,
            y: f64::from(r.y) * fy,
            width: f64::from(r.width) * fx,
            height: f64::from(r.height) * fy,
        };
        img = resize::resize(&img, region, plan.scaled)?;
    }
    // Colour management after the resize, as libvips' thumbnail does: far fewer pixels to convert.
    img = color::to_srgb(img, icc.as_deref());
    if spec.gray {
        img = color::grayscale(img);
    }
    check(deadline)?;

    img = effects::apply(img, spec);
    let bg = spec.background.unwrap_or(Rgb::WHITE);
    if let Some(c) = plan.canvas {
        img = canvas::pad(img, c.width, c.height, c.left, c.top, bg);
    }
    img = color::drop_opaque_alpha(img);
    let transparent = img.color().has_alpha();
    let format = format::output_format(spec.format, source_format, transparent);
    if format == Format::Jpeg {
        img = canvas::flatten(img, bg);
    }
    check(deadline)?;

    let quality = quality(spec, format);
    let lossless = transparent
        && spec.quality.is_none()
        && matches!(source_format, SourceFormat::Png | SourceFormat::Gif);
    let encode_start = Instant::now();
    let bytes = encode::encode(&img, format, quality, lossless)?;
    let timings = Timings {
        decode: decoded_at - started,
        transform: encode_start - decoded_at,
        encode: encode_start.elapsed(),
    };
    if bytes.len() as u64 > limits.max_output_bytes {
        return Err(TransformError::OverLimit(format!(
            "the encoded result is {} bytes, over the {} byte limit",
            bytes.len(),
            limits.max_output_bytes
        )));
    }
    Ok(Output { bytes, format, width: img.width(), height: img.height(), timings })
}

/// The header (limits checked), the displayed size (after EXIF orientation) and the geometry plan.
fn planned(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
) -> Result<(Header, (u32, u32), geometry::Plan), TransformError> {
    let header = read_header(bytes, limits)?;
    let displayed = orient::displayed_size((header.width, header.height), header.orientation, spec);
    let plan = geometry::plan(displayed, spec, limits.max_output_side)?;
    Ok((header, displayed, plan))
}

/// The URL's quality, or the format's default.
fn quality(spec: &TransformSpec, format: Format) -> u8 {
    match spec.quality {
        Some(Quality::Fixed(q)) => q,
        None => default_quality(format),
    }
}

/// The benchmark floor for a JPEG source: libjpeg-turbo's decode at the scale [`run`] would
/// choose, then the same encoder on a crop of the output size — no colour management, resize or
/// effects. Returns the encoded size. `pixflow bench --floor` times it beside [`run`].
pub fn floor(bytes: &[u8], spec: &TransformSpec, limits: &Limits) -> Result<usize, TransformError> {
    let (header, _, plan) = planned(bytes, spec, limits)?;
    let img = decode::decode_turbo(bytes, dct_scale(&plan), spec.gray)?;
    let (w, h) = plan.output();
    let (w, h) = (w.min(img.width()), h.min(img.height()));
    let img = img.crop_imm(0, 0, w, h);
    let format = format::output_format(spec.format, header.format, false);
    let quality = quality(spec, format);
    Ok(encode::encode(&img, format, quality, false)?.len())
}

/// The libjpeg-turbo scale (in eighths: 1, 2, 4 or 8) that shrinks the most while leaving at
/// least the target size, so the resizer only ever reduces. This is sharp's default
/// (`fastShrinkOnLoad`); the DCT-domain shrink is itself an area average, so the quality cost is
/// small (BENCHMARKS.md measures it).
pub fn dct_scale(plan: &geometry::Plan) -> u8 {
    let (rw, rh) = (u64::from(plan.region.width), u64::from(plan.region.height));
    let (tw, th) = (u64::from(plan.scaled.0), u64::from(plan.scaled.1));
    [1u8, 2, 4].into_iter().find(|&n| rw * u64::from(n) >= 8 * tw && rh * u64::from(n) >= 8 * th).unwrap_or(8)
}
