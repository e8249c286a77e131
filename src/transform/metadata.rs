//! `f_json`: what the source is and what the options would make of it, from the header alone (the
//! frames of an animation are counted by walking its blocks, not by decoding them) — except where
//! `g_auto` places a crop, and `q_auto`, whose quality is searched: those need the pixels, decoded
//! and rendered as the transform would.

use super::decode::SourceFormat;
use super::geometry::Rect;
use super::{auto_quality, format, Limits, Output, Rendered, Timings, TransformError};
use crate::spec::{Format, TransformSpec};
use std::time::Instant;

/// The JSON body of an `f_json` answer.
#[derive(Debug, serde::Serialize)]
pub struct Metadata {
    /// The original.
    pub source: Source,
    /// What the same options without `f_json` would produce; none for an original pixflow names
    /// but does not transform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputInfo>,
}

/// The original: read from a header pixflow decodes, or only named (`identify.rs`).
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Source {
    /// A format pixflow transforms.
    Read(SourceInfo),
    /// A format pixflow names and passes through.
    Named(NamedInfo),
}

/// An original pixflow names but does not transform (yet).
#[derive(Debug, serde::Serialize)]
pub struct NamedInfo {
    /// `avif`, `heic`, `heif`, `jxl`, `svg`, `ico`, …
    pub format: &'static str,
    /// Size in bytes.
    pub bytes: usize,
    /// The stored width its header states (none for SVG).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// The stored height its header states.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Always false: served untouched with no options, a 415 with any.
    pub transformable: bool,
}

/// The original as stored.
#[derive(Debug, serde::Serialize)]
pub struct SourceInfo {
    /// Stored width (an SVG's own size, in CSS pixels).
    pub width: u32,
    /// Stored height.
    pub height: u32,
    /// `jpeg`, `png`, `webp`, `gif`, `bmp`, `tiff`, `jxl` or `svg`.
    pub format: &'static str,
    /// Always true: the options apply.
    pub transformable: bool,
    /// Size in bytes.
    pub bytes: usize,
    /// EXIF orientation, 1..=8.
    pub orientation: u8,
    /// Whether the pixel layout has an alpha channel.
    pub alpha: bool,
    /// Bits per sample the header states (none for SVG).
    #[serde(rename = "bitDepth", skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u8>,
    /// Whether the source is a drawing, rendered at the output's size (SVG).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub vector: bool,
    /// Frames (animations); 1 for still images.
    pub frames: u32,
    /// An animation's duration as browsers play it (a delay of 10 ms or less counts as 100 ms).
    #[serde(rename = "durationMs", skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// An animation's plays: 0 is forever.
    #[serde(rename = "loop", skip_serializing_if = "Option::is_none")]
    pub loop_count: Option<u32>,
}

/// The result the options describe.
#[derive(Debug, serde::Serialize)]
pub struct OutputInfo {
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Output format (for JPEG-or-PNG choices, decided by whether the source has alpha), written
    /// as its token value.
    #[serde(serialize_with = "format_name")]
    pub format: Format,
    /// Frames of the output: the source's when it stays animated, else 1.
    pub frames: u32,
    /// The part of the source the output is made from, in the pixels of the source as shown
    /// (auto-oriented, then `a_`): where a crop or `g_auto` put its window.
    pub region: Rect,
    /// With `q_N` or `q_auto`: the quality each lossy format's encoder would be given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<QualityInfo>,
}

/// The encoder quality of a request's `q_` — `q_auto`'s searched on the pixels it renders.
#[derive(Debug, serde::Serialize)]
pub struct QualityInfo {
    /// `q_auto`'s level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'static str>,
    /// `q_auto`'s SSIMULACRA2 target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f32>,
    /// The quality the output format's encoder is given (none for a format without one).
    pub quality: Option<u8>,
    /// `q_auto`: the output's SSIMULACRA2 score at that quality.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// Describes `bytes` under `spec`.
pub fn describe(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
) -> Result<Metadata, TransformError> {
    if let (Err(_), Some(named)) = (SourceFormat::sniff(bytes), super::identify::foreign(bytes)) {
        let size = super::identify::stated_size(bytes);
        let source = NamedInfo {
            format: named.name,
            bytes: bytes.len(),
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
            transformable: false,
        };
        return Ok(Metadata { source: Source::Named(source), output: None });
    }
    let planned = super::planned(bytes, spec, limits, deadline)?;
    let region = placed_region(bytes, &planned, spec, limits, deadline)?;
    let (header, _, plan, anim) = planned;
    let (width, height) = plan.output();
    // A drawing is planned at the size it is drawn at; its own size and the region are stated
    // in its own pixels.
    let (source_w, source_h) = header.vector.unwrap_or((header.width, header.height));
    let region = match header.drawing_scale() {
        k if k != 1.0 => region.scaled(1.0 / k),
        _ => region,
    };
    // Padding makes an opaque canvas, so only the source's alpha decides JPEG or PNG.
    let still = format::output_format(None, header.format, header.alpha && plan.canvas.is_none());
    let kept = TransformSpec { format: None, ..spec.clone() };
    let animated = anim.and_then(|a| super::animate::output_format(&kept, header.format).map(|f| (a, f)));
    let out_format = animated.map_or(still, |(_, f)| f);
    Ok(Metadata {
        source: Source::Read(SourceInfo {
            width: source_w,
            height: source_h,
            format: source_name(header.format),
            transformable: true,
            bytes: bytes.len(),
            orientation: header.orientation,
            alpha: header.alpha,
            bit_depth: header.bit_depth,
            vector: header.vector.is_some(),
            frames: anim.map_or(1, |a| a.frames),
            duration_ms: anim.map(|a| a.duration_ms),
            loop_count: anim.map(|a| a.loop_count),
        }),
        output: Some(OutputInfo {
            width,
            height,
            format: out_format,
            frames: animated.map_or(1, |(a, _)| a.frames),
            region,
            quality: None,
        }),
    })
}

/// `f_json`: the metadata, from the header alone (and the pixels where `g_auto` places a crop).
pub(super) fn run(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    started: Instant,
    deadline: Instant,
) -> Result<Output, TransformError> {
    let mut meta = super::decode::guarded("header reader", || describe(bytes, spec, limits, deadline))?;
    if let (Some(_), Some(out)) = (spec.quality, meta.output.as_mut()) {
        out.quality = Some(quality_report(bytes, spec, out.format, limits, deadline)?);
    }
    let json = serde_json::to_vec(&meta).map_err(|e| TransformError::Internal(e.to_string()))?;
    let timings = Timings { decode: started.elapsed(), ..Timings::default() };
    Ok(Output {
        bytes: json,
        format: Format::Json,
        width: meta.output.as_ref().map_or(0, |o| o.width),
        height: meta.output.as_ref().map_or(0, |o| o.height),
        quality: None,
        timings,
    })
}

/// `f_json`'s report of `q_`: the encoder quality of the output the same options without `f_json`
/// make. `q_auto` renders that still (an animation's first frame) and searches it, as an image
/// request does.
fn quality_report(
    bytes: &[u8],
    spec: &TransformSpec,
    out_format: Format,
    limits: &Limits,
    deadline: Instant,
) -> Result<QualityInfo, TransformError> {
    let level = match spec.quality {
        Some(crate::spec::Quality::Auto(level)) => level,
        q => {
            let quality = out_format.is_lossy().then(|| super::quality::encoder_quality(out_format, q));
            return Ok(QualityInfo { level: None, target: None, quality, score: None });
        }
    };
    let still = TransformSpec { format: None, page: Some(spec.page.unwrap_or(1)), ..spec.clone() };
    let Rendered::Still(still) = super::render(bytes, &still, limits, deadline)? else {
        return Err(TransformError::Internal("one page of an animation rendered as an animation".into()));
    };
    let chosen = super::quality(spec, still.format, &still.img, limits, deadline)?;
    let given = still.format.is_lossy().then_some(chosen.given);
    Ok(QualityInfo {
        level: Some(level.as_str()),
        target: Some(auto_quality::target(level)),
        quality: given.map(|g| g.quality),
        score: given.and_then(|g| g.score),
    })
}

fn format_name<S: serde::Serializer>(format: &Format, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(format.as_str())
}

fn source_name(f: SourceFormat) -> &'static str {
    match f {
        SourceFormat::Jpeg => "jpeg",
        SourceFormat::Png => "png",
        SourceFormat::Webp => "webp",
        SourceFormat::Gif => "gif",
        SourceFormat::Bmp => "bmp",
        SourceFormat::Tiff => "tiff",
        SourceFormat::Jxl => "jxl",
        SourceFormat::Avif => "avif",
        SourceFormat::Heic => "heic",
        SourceFormat::Svg => "svg",
    }
}

/// The region of the source a plan uses, with a `g_auto` window placed on the pixels (decoded as
/// [`super::run`] would, within the same budget), for `f_json`.
fn placed_region(
    bytes: &[u8],
    (header, displayed, plan, anim): &super::Planned,
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
) -> Result<Rect, TransformError> {
    // A window as large as its frame (the image, or `rect_`'s region) has nowhere to move.
    let fills_frame = (plan.region.width, plan.region.height) == (plan.frame.width, plan.frame.height);
    if !super::attention::applies(spec) || fills_frame {
        return Ok(plan.region);
    }
    let estimate = super::cost::within_budget(header, bytes.len(), plan, anim.as_ref(), spec, limits)?;
    let shrink = super::shrink_on_load(header, plan);
    let bounds = super::sandbox::Bounds { deadline, memory: estimate.memory };
    let decoded = super::decode_still(bytes, header.clone(), shrink, anim.is_some(), spec, limits, bounds)?;
    let img = super::orient::orient(decoded.image, header.orientation, spec);
    Ok(super::attention::place(&img, *displayed, plan, spec).region)
}
