//! The pipeline: header check → plan → decode (DCT-scaled) → orient → resize → colour → effects →
//! canvas → encode. One step per file, in this fixed order, with a deadline check between steps.
//! Synchronous and CPU-bound: callers run it off the async runtime.

mod animate;
mod aom;
mod attention;
pub mod auto_quality;
mod av1;
mod canvas;
mod cicp;
mod color;
pub mod cost;
pub mod dc_only;
pub mod decode;
mod decode_heif;
mod decode_jxl;
pub mod decode_svg;
mod decode_tiff;
mod effects;
mod encode;
mod encode_anim;
mod encode_avif;
pub mod format;
pub mod frames;
pub mod geometry;
mod gif_blocks;
mod gif_writer;
mod heif;
#[cfg(feature = "heic")]
mod hevc;
pub mod identify;
pub mod inspect;
mod jpeg_cut;
mod jpeg_meta;
mod jpeg_turbo;
pub mod metadata;
mod orient;
mod placeholder;
pub mod quality;
mod repair;
mod resize;
pub mod sandbox;
pub mod shrink_png;
mod steps;
mod webp_anim;
mod yuv;

pub use auto_quality::Given;
pub use cost::assess;
pub use decode::{read_header, Header, SourceFormat};
pub use format::{resolve_auto, AutoFormat};
pub use geometry::GeometryError;

use crate::spec::{Format, ResizeMode, Rgb, TransformSpec};
use std::time::Instant;
use steps::Steps;

/// Limits that bound the work one request can cause.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest source, in pixels, read from the header before decoding.
    pub max_source_pixels: u64,
    /// Largest output side in pixels.
    pub max_output_side: u32,
    /// Largest output in pixels (width × height).
    pub max_output_pixels: u64,
    /// Largest enlargement of the source, per side (2.0 doubles it).
    pub max_upscale: f64,
    /// Largest estimated CPU cost of one transform, in cost units (≈ ms of one core).
    pub max_cost: u64,
    /// Largest estimated memory of one transform, in bytes (the whole memory budget).
    pub max_memory: u64,
    /// Largest encoded output in bytes.
    pub max_output_bytes: u64,
    /// Most frames of an animated source.
    pub max_frames: u32,
    /// Most pixels of an animated source, summed over its (whole-canvas) frames.
    pub max_animation_pixels: u64,
}

/// The defaults of [`Limits`], which the flags use too.
pub mod limit_defaults {
    /// `--max-source-mp`.
    pub const MAX_SOURCE_MP: f64 = 50.0;
    /// `--max-output-side`.
    pub const MAX_OUTPUT_SIDE: u32 = 8192;
    /// `--max-output-mp`: an 8192 × 4096 panorama fits.
    pub const MAX_OUTPUT_MP: f64 = 40.0;
    /// `--max-upscale`.
    pub const MAX_UPSCALE: f64 = 8.0;
    /// `--max-cost`: about 8 s of one core.
    pub const MAX_COST: u64 = 8_000;
    /// `--max-memory-mb` off Lambda.
    pub const MAX_MEMORY_MB: u64 = 1024;
    /// `--max-output-mb`.
    pub const MAX_OUTPUT_MB: f64 = 50.0;
    /// `--max-frames`.
    pub const MAX_FRAMES: u32 = 1_000;
    /// `--max-animation-mp`.
    pub const MAX_ANIMATION_MP: f64 = 500.0;
}

impl Default for Limits {
    fn default() -> Self {
        use limit_defaults::*;
        Limits {
            max_source_pixels: (MAX_SOURCE_MP * 1e6) as u64,
            max_output_side: MAX_OUTPUT_SIDE,
            max_output_pixels: (MAX_OUTPUT_MP * 1e6) as u64,
            max_upscale: MAX_UPSCALE,
            max_cost: MAX_COST,
            max_memory: MAX_MEMORY_MB << 20,
            max_output_bytes: (MAX_OUTPUT_MB * 1e6) as u64,
            max_frames: MAX_FRAMES,
            max_animation_pixels: (MAX_ANIMATION_MP * 1e6) as u64,
        }
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
    /// Over the CPU or memory budget, estimated before decoding (413).
    #[error("{0}")]
    OverBudget(String),
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
    /// The quality the encoder was given, for a lossy output, and `q_auto`'s search
    /// (`Server-Timing` reports them).
    pub quality: Option<Given>,
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
/// meaning JPEG-or-PNG) on the source `bytes`. An APNG whose animation does not decode is run
/// again as its default image, the still browsers show for it; a JPEG whose header does not read
/// is run again without the stray bytes between its segments, which libjpeg skips.
pub fn run(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
) -> Result<Output, TransformError> {
    or_repaired(bytes, |bytes| run_once(bytes, spec, limits, deadline))
}

/// `work` on `bytes`, and if it finds them corrupt or unsupported, on their repair when there is
/// one (an APNG's default image, a JPEG without stray header bytes); the first error otherwise.
pub(super) fn or_repaired<T>(
    bytes: &[u8],
    work: impl Fn(&[u8]) -> Result<T, TransformError>,
) -> Result<T, TransformError> {
    match work(bytes) {
        Err(e @ (TransformError::Corrupt(_) | TransformError::Unsupported(_))) => {
            match repair::apng_still(bytes).or_else(|| repair::jpeg_header_strays(bytes)) {
                Some(repaired) => {
                    tracing::info!(error = %e, "the source does not decode as it is; its repair is used");
                    work(&repaired).map_err(|_| e)
                }
                None => Err(e),
            }
        }
        other => other,
    }
}

fn run_once(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
) -> Result<Output, TransformError> {
    let started = Instant::now();
    match spec.format {
        Some(Format::Json) => return metadata::run(bytes, spec, limits, started, deadline),
        Some(Format::Thumbhash) => return placeholder::run(bytes, spec, limits, deadline, started),
        _ => {}
    }
    let still = match render(bytes, spec, limits, deadline)? {
        Rendered::Animation(out) => return Ok(out),
        Rendered::Still(still) => still,
    };
    let Still { img, format, lossless, decoded_at } = still;
    let encode_start = Instant::now();
    let chosen = quality(spec, format, &img, limits, deadline)?;
    let bytes = match chosen.bytes {
        Some(bytes) => bytes,
        None => encode::encode(&img, format, chosen.given.quality, lossless)?,
    };
    let timings = Timings {
        decode: decoded_at - started,
        transform: encode_start - decoded_at,
        encode: encode_start.elapsed(),
    };
    check_output_size(&bytes, limits)?;
    let quality = (format.is_lossy() && !lossless).then_some(chosen.given);
    Ok(Output { bytes, format, width: img.width(), height: img.height(), quality, timings })
}

/// What [`render`] made: an animation is encoded frame by frame as it is rendered.
pub(super) enum Rendered {
    Animation(Output),
    Still(Still),
}

/// A still's pixels, ready for its encoder.
pub(super) struct Still {
    pub img: image::DynamicImage,
    pub format: Format,
    /// Lossless WebP (a drawing with alpha, no quality asked).
    pub lossless: bool,
    pub decoded_at: Instant,
}

/// Everything of [`run`] but the still's encode.
pub(super) fn render(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
) -> Result<Rendered, TransformError> {
    let (header, displayed, plan, anim) = planned(bytes, spec, limits, deadline)?;
    let (eighths, png_factor) = shrink_on_load(&header, &plan);
    let estimate = cost::within_budget(&header, bytes.len(), &plan, anim.as_ref(), spec, limits)?;
    let bounds = sandbox::Bounds { deadline, memory: estimate.memory };
    check(deadline)?;

    // A part of a large JPEG at full scale: cut it in the DCT domain and decode the cut alone.
    let cut = jpeg_cut::cut(bytes, &header, displayed, &plan, eighths, spec);
    let (bytes, header, displayed, plan) = match &cut {
        Some(c) => (c.bytes.as_slice(), c.header.clone(), c.displayed, c.plan),
        None => (bytes, header, displayed, plan),
    };
    let steps = Steps::new(header.orientation, displayed, &plan, spec, deadline);
    let source_format = header.format;
    if let Some((anim, format)) =
        anim.and_then(|a| animate::output_format(spec, source_format).map(|f| (a, f)))
    {
        return animate::run(bytes, header, &anim, &steps, format, limits).map(Rendered::Animation);
    }
    let decoded = decode_still(bytes, header, (eighths, png_factor), anim.is_some(), spec, limits, bounds)?;
    let decoded_at = Instant::now();
    let mut img = steps.render(decoded.image, decoded.header.icc.as_deref())?;
    img = color::drop_opaque_alpha(img);
    let bg = spec.background.unwrap_or(Rgb::WHITE);
    let transparent = img.color().has_alpha();
    let format = format::still_format(spec, source_format, transparent, (img.width(), img.height()));
    if format == Format::Jpeg {
        img = canvas::flatten(img, bg);
    }
    check(deadline)?;
    let lossless = transparent
        && spec.quality.is_none()
        && matches!(source_format, SourceFormat::Png | SourceFormat::Gif | SourceFormat::Svg);
    Ok(Rendered::Still(Still { img, format, lossless, decoded_at }))
}

/// The still a request renders: `pg_`'s frame of an animation (else the first, coalesced), or
/// the image decoded at the `shrink` of [`shrink_on_load`].
fn decode_still(
    bytes: &[u8],
    header: Header,
    (eighths, png_factor): (u8, u32),
    animated: bool,
    spec: &TransformSpec,
    limits: &Limits,
    bounds: sandbox::Bounds,
) -> Result<decode::Decoded, TransformError> {
    decode::guarded("decoder", || match animated {
        true => {
            let frame = frames::nth(bytes, header.format, spec.page.unwrap_or(1), limits)?;
            Ok(decode::Decoded { image: image::DynamicImage::ImageRgba8(frame), header })
        }
        false => decode::decode(bytes, header, (eighths, png_factor), spec.gray, limits, bounds),
    })
}

/// Refuses an encoded result over `--max-output-mb`.
fn check_output_size(bytes: &[u8], limits: &Limits) -> Result<(), TransformError> {
    if bytes.len() as u64 > limits.max_output_bytes {
        return Err(TransformError::OverLimit(format!(
            "the encoded result is {} bytes, over the {} byte limit",
            bytes.len(),
            limits.max_output_bytes
        )));
    }
    Ok(())
}

/// What the header says, checked: the header (pixel limit), the displayed size (after EXIF
/// orientation), the geometry plan (output and enlargement limits) and, for an animated source,
/// its frames (`pg_` within them; the frame limits are the budget's, so `f_json` still describes
/// an animation too long to render).
type Planned = (Header, (u32, u32), geometry::Plan, Option<frames::Animation>);

pub(super) fn planned(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
) -> Result<Planned, TransformError> {
    let header = decode::guarded("header reader", || read_header(bytes, limits, deadline))?;
    let anim = frames::scan(header.format, bytes);
    let count = anim.map_or(1, |a| a.frames);
    if let Some(page) = spec.page.filter(|&p| p > count) {
        return Err(GeometryError::NoSuchFrame(page, count).into());
    }
    // A drawing loses nothing when drawn larger: the modes that refuse to enlarge a raster
    // (`c_limit`, the default, `c_lfill`, `c_lpad`) act as their enlarging twins on it.
    let vector_spec;
    let spec = match (header.vector, spec.mode.unwrap_or(ResizeMode::Limit)) {
        (Some(_), mode @ (ResizeMode::Limit | ResizeMode::LFill | ResizeMode::LPad)) => {
            let mode = match mode {
                ResizeMode::Limit => ResizeMode::Fit,
                ResizeMode::LFill => ResizeMode::Fill,
                _ => ResizeMode::Pad,
            };
            vector_spec = TransformSpec { mode: Some(mode), ..spec.clone() };
            &vector_spec
        }
        _ => spec,
    };
    let (mut displayed, mut plan) = plan_on(&header, spec, limits)?;
    let mut header = header;
    if let Some(drawn) = vector_drawing(&header, &plan, limits) {
        // A vector is drawn at the size its output needs, so it is never enlarged (or shrunk)
        // from a raster; `rect_` is in the SVG's own pixels and scales with it.
        header = Header { width: drawn.0, height: drawn.1, ..header };
        let k = header.drawing_scale();
        let rect = spec.rect.map(|r| r.map(|v| (f64::from(v) * k).round() as u32));
        (displayed, plan) = plan_on(&header, &TransformSpec { rect, ..spec.clone() }, limits)?;
    }
    if header.vector.is_some() {
        decode::check_pixels(&header, limits)?;
    }
    geometry::check_plan_limits(&plan, limits.max_output_pixels, limits.max_upscale)?;
    Ok((header, displayed, plan, anim))
}

/// The displayed size and the plan of `spec` on a source of `header`'s size.
fn plan_on(
    header: &Header,
    spec: &TransformSpec,
    limits: &Limits,
) -> Result<((u32, u32), geometry::Plan), TransformError> {
    let displayed = orient::displayed_size((header.width, header.height), header.orientation, spec);
    let plan = match spec.rect {
        None => geometry::plan(displayed, spec, limits.max_output_side)?,
        Some(rect) => {
            // Cut from the auto-oriented original, before `a_`: carried into the image as shown.
            let upright = orient::displayed_size(
                (header.width, header.height),
                header.orientation,
                &TransformSpec::default(),
            );
            let frame = orient::rect_shown(rect, upright, spec)
                .ok_or(GeometryError::OutsideImage("rect_", upright.0, upright.1))?;
            let plan = geometry::plan((frame.width, frame.height), spec, limits.max_output_side)?;
            geometry::within(plan, frame)
        }
    };
    Ok((displayed, plan))
}

/// The size to draw a vector source at so that `plan`'s region comes out at the scaled size
/// (within the source pixel limit), when that is not the size it was planned on.
fn vector_drawing(header: &Header, plan: &geometry::Plan, limits: &Limits) -> Option<(u32, u32)> {
    let (w, h) = header.vector.map(|(w, h)| (f64::from(w), f64::from(h)))?;
    let k = f64::max(
        f64::from(plan.scaled.0) / f64::from(plan.region.width),
        f64::from(plan.scaled.1) / f64::from(plan.region.height),
    );
    let k = k.min((limits.max_source_pixels as f64 / (w * h)).sqrt());
    let drawn = ((w * k).round().max(1.0) as u32, (h * k).round().max(1.0) as u32);
    (drawn != (header.width, header.height)).then_some(drawn)
}

/// The JPEG DCT scale (eighths) and the PNG box factor the decode will use.
pub(super) fn shrink_on_load(header: &Header, plan: &geometry::Plan) -> (u8, u32) {
    match header.format {
        SourceFormat::Jpeg => (dct_scale(plan), 1),
        SourceFormat::Png => (8, shrink_png::factor((plan.region.width, plan.region.height), plan.scaled)),
        _ => (8, 1),
    }
}

/// The encoder quality for `format`: the URL's, or the default, mapped from JPEG's scale; for
/// `q_auto` and a lossy format, searched on `img`, the pixels about to be encoded (an animation's
/// first frame).
pub(super) fn quality(
    spec: &TransformSpec,
    format: Format,
    img: &image::DynamicImage,
    limits: &Limits,
    deadline: Instant,
) -> Result<auto_quality::Chosen, TransformError> {
    match spec.quality {
        Some(crate::spec::Quality::Auto(level)) if format.is_lossy() => {
            auto_quality::choose(img, format, level, limits, deadline)
        }
        q => {
            let given = Given { quality: quality::encoder_quality(format, q), score: None, trials: 0 };
            Ok(auto_quality::Chosen { given, bytes: None })
        }
    }
}

/// The benchmark floor for a JPEG source: libjpeg-turbo's decode at the scale [`run`] would
/// choose, then the same encoder on a crop of the output size — no colour management, resize or
/// effects. Returns the encoded size. `pixflow bench --floor` times it beside [`run`].
pub fn floor(bytes: &[u8], spec: &TransformSpec, limits: &Limits) -> Result<usize, TransformError> {
    let (header, _, plan, _) = planned(bytes, spec, limits, Instant::now() + FLOOR_TIME)?;
    let img = decode::decode_turbo(bytes, dct_scale(&plan), spec.gray)?;
    let (w, h) = plan.output();
    let (w, h) = (w.min(img.width()), h.min(img.height()));
    let img = img.crop_imm(0, 0, w, h);
    let format = format::output_format(spec.format, header.format, false);
    let quality = quality::encoder_quality(format, spec.quality);
    Ok(encode::encode(&img, format, quality, false)?.len())
}

/// How long [`floor`]'s header read may take (a benchmark's, never a request's).
const FLOOR_TIME: std::time::Duration = std::time::Duration::from_secs(60);

/// The libjpeg-turbo scale (in eighths: 1, 2, 4 or 8) that shrinks the most while leaving at
/// least the target size, so the resizer only ever reduces. This is sharp's default
/// (`fastShrinkOnLoad`); the DCT-domain shrink is itself an area average, so the quality cost is
/// small (BENCHMARKS.md measures it).
pub fn dct_scale(plan: &geometry::Plan) -> u8 {
    let (rw, rh) = (u64::from(plan.region.width), u64::from(plan.region.height));
    let (tw, th) = (u64::from(plan.scaled.0), u64::from(plan.scaled.1));
    [1u8, 2, 4].into_iter().find(|&n| rw * u64::from(n) >= 8 * tw && rh * u64::from(n) >= 8 * th).unwrap_or(8)
}
