//! What a request will cost, from the header and the plan alone, before any pixel is decoded:
//! CPU work (in cost units, about one millisecond of one core on the reference machine in
//! BENCHMARKS.md) and peak memory (bytes). Over the budget is a 413 naming the limit, so one URL
//! cannot hold a core or a gigabyte; the weights are deliberately on the high side.

use super::decode::{Header, SourceFormat};
use super::format::still_format;
use super::geometry::Plan;
use super::{frames, Limits, TransformError};
use crate::spec::{Format, Quality, TransformSpec};

/// The estimate for one transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// CPU work, in cost units (≈ ms of one core).
    pub cost: u64,
    /// Peak memory of the transform, in bytes (the source bytes included).
    pub memory: u64,
}

/// Nanoseconds of decoding: per source pixel (entropy decoding reads the whole file whatever
/// the scale) and per decoded pixel (the inverse DCT and colour conversion at the decoded size).
fn decode_ns(format: SourceFormat) -> (f64, f64) {
    match format {
        SourceFormat::Jpeg => (2.0, 6.0),
        SourceFormat::Png | SourceFormat::Gif | SourceFormat::Webp => (25.0, 0.0),
        SourceFormat::Bmp | SourceFormat::Tiff => (12.0, 0.0),
        // jxl-oxide on one thread: ≈ 250 ns a pixel on 9 MP photos and noise at quality 90
        // (scripts/cost; 60 ns underestimated it 3-4×). An SVG per pixel drawn (its element count
        // is bounded apart, and the sandbox stops it at the deadline).
        SourceFormat::Jxl => (250.0, 0.0),
        SourceFormat::Svg => (30.0, 0.0),
        // rav1d on one thread, then YUV → RGB.
        SourceFormat::Avif => (40.0, 0.0),
        // libde265 on one thread, then YUV → RGB (a first estimate, as AVIF's).
        SourceFormat::Heic => (40.0, 0.0),
    }
}

/// Nanoseconds per encoded pixel, and working bytes per pixel inside the encoder.
fn encode_weights(format: Format) -> (f64, f64) {
    match format {
        Format::Jpeg | Format::Auto => (10.0, 4.0),
        Format::Png => (40.0, 8.0),
        Format::Gif => (60.0, 8.0),
        Format::Webp => (150.0, 12.0),
        Format::Avif => (1200.0, 24.0),
        Format::Json => (0.0, 0.0),
        // The hash's DCT over at most 100 × 100 px.
        Format::Thumbhash => (50.0, 16.0),
    }
}

/// Bytes per pixel fast-ssim2's reference keeps (its XYB pyramid and blurred statistics) while
/// q_auto searches, measured with `pixflow cost` (BENCHMARKS.md).
const SCORER_BYTES_PER_PIXEL: f64 = 100.0;

/// Taps of the separable gaussian the `image` crate uses for `sigma` (its own kernel size rule).
pub(super) fn gaussian_radius(sigma: f64) -> u32 {
    let size = ((((sigma - 0.8) / 0.3) + 1.0) * 2.0 + 1.0).max(3.0) as u32;
    (size | 1) / 2
}

/// Estimates `plan` on a source with `header`, decoded at `decoded` pixels (after shrink-on-load),
/// written as `format`.
pub fn estimate(
    header: &Header,
    source_bytes: usize,
    decoded: (u32, u32),
    plan: &Plan,
    spec: &TransformSpec,
    format: Format,
) -> Estimate {
    let (ns, memory) = parts(header, source_bytes, decoded, plan, spec, format);
    Estimate { cost: (ns / 1e6).ceil() as u64, memory: memory.ceil() as u64 }
}

/// The estimate's nanoseconds and bytes, unrounded.
fn parts(
    header: &Header,
    source_bytes: usize,
    decoded: (u32, u32),
    plan: &Plan,
    spec: &TransformSpec,
    format: Format,
) -> (f64, f64) {
    let px = |(w, h): (u32, u32)| u64::from(w) as f64 * u64::from(h) as f64;
    let decoded_px = px(decoded);
    let scaled_px = px(plan.scaled);
    let out_px = px(plan.output());
    let channels = if header.alpha { 4.0 } else { 3.0 };
    // The resizer's two passes read the decoded region and write the scaled size.
    let resize_ns = if plan.resizes() { 3.0 * (decoded_px + scaled_px) } else { 0.0 };
    let blur_ns = |sigma: f64| out_px * channels * 2.0 * f64::from(2 * gaussian_radius(sigma) + 1) * 0.45;
    let effects_ns = spec.blur.map_or(0.0, |s| blur_ns(s.get()))
        + spec.sharpen.map_or(0.0, |s| blur_ns(s.get()) + out_px * 5.0);
    let colour_ns = if header.icc.is_some() { out_px * 15.0 } else { 0.0 };
    let (encode_ns, encode_bytes) = encode_weights(format);
    let (search_ns, search_bytes) = search_weights(spec, format, out_px);
    let source_px = f64::from(header.width) * f64::from(header.height);
    let (per_source, per_decoded) = decode_ns(header.format);
    let total_ns = source_px * per_source
        + decoded_px * per_decoded
        + resize_ns
        + effects_ns
        + colour_ns
        + out_px * encode_ns
        + search_ns;
    // Decoders other than libjpeg-turbo may hold 16-bit samples and a second copy while narrowing.
    // jxl-oxide holds 32-bit float channels and a render beside them (decode_jxl::alloc_budget).
    let per_pixel = match header.format {
        SourceFormat::Jpeg => channels,
        SourceFormat::Jxl => 32.0,
        _ => 16.0,
    };
    let decoded_bytes = decoded_px * per_pixel;
    // The scaled image, one effect's output beside it, the padded canvas, and the encoder's state.
    let working = scaled_px * channels * 2.0 + out_px * (channels + encode_bytes);
    // A sandboxed decode (transform/sandbox.rs) holds its own copy of the source, its runtime and,
    // for an SVG, the parsed document (≈ 8 bytes a source byte) beside the pixels it sends back.
    let sandbox = match header.format {
        SourceFormat::Svg => source_bytes as f64 * 9.0 + super::sandbox::CHILD_BASE_BYTES as f64,
        SourceFormat::Heic => source_bytes as f64 + super::sandbox::CHILD_BASE_BYTES as f64,
        _ => 0.0,
    };
    let memory =
        source_bytes as f64 + decoded_bytes + working + search_bytes + sandbox + f64::from(8u32 << 20);
    (total_ns, memory)
}

/// `q_auto`'s search on a lossy format (auto_quality.rs): up to its trials of encoding a window of
/// at most its pixels, each decoded (≈ 40 ns/px at worst, AVIF) and scored (≈ 100 ns/px), after
/// the scorer's reference (≈ 50 ns/px); the reference's pyramid and a trial's output and decode
/// stay in memory.
fn search_weights(spec: &TransformSpec, format: Format, out_px: f64) -> (f64, f64) {
    use super::auto_quality::{MAX_TRIALS, SEARCH_PIXELS};
    if !matches!(spec.quality, Some(Quality::Auto(_))) || !format.is_lossy() {
        return (0.0, 0.0);
    }
    let px = out_px.min(f64::from(SEARCH_PIXELS));
    let (encode_ns, encode_bytes) = encode_weights(format);
    let ns = px * (f64::from(MAX_TRIALS) * (encode_ns + 40.0 + 100.0) + 50.0);
    (ns, px * (SCORER_BYTES_PER_PIXEL + encode_bytes + 8.0))
}

/// Estimates an animation written as an animation: every frame is a whole canvas through the same
/// steps as a still (RGBA, no shrink-on-load), so cost is per frame times frames; memory holds a
/// few canvases (the decoder's two, the steps', the encoder's) and the encoded bytes so far.
pub fn animation(
    header: &Header,
    source_bytes: usize,
    plan: &Plan,
    spec: &TransformSpec,
    format: Format,
    frames: u32,
) -> Estimate {
    let canvas = (header.width, header.height);
    let rgba = Header { alpha: true, icc: None, ..header.clone() };
    // The per-frame decode of a GIF/WebP/APNG frame is about its canvas, as for a still.
    let (still_ns, frame_memory) = parts(&rgba, 0, canvas, plan, spec, format);
    let canvas_px = f64::from(canvas.0) * f64::from(canvas.1);
    let out = plan.output();
    let out_px = f64::from(out.0) * f64::from(out.1);
    // Frame decoding and animated encoding cost other than a still's (scripts/cost on the
    // animated corpus): lossy WebP frames decode slowly, GIF frames are quantised one by one.
    let frame_decode = match header.format {
        SourceFormat::Gif => 18.0,
        SourceFormat::Webp => 90.0,
        _ => 30.0,
    };
    let frame_encode = match format {
        Format::Gif => 170.0,
        Format::Webp => 180.0,
        _ => 60.0,
    };
    let (still_decode, _) = decode_ns(header.format);
    let (still_encode, _) = encode_weights(format);
    let frame_ns =
        still_ns + canvas_px * (frame_decode - still_decode) + out_px * (frame_encode - still_encode);
    let encoded = out_px * f64::from(frames) * 0.5;
    let memory = source_bytes as f64 + canvas_px * 4.0 * 3.0 + frame_memory + out_px * 4.0 * 4.0 + encoded;
    Estimate { cost: (frame_ns * f64::from(frames) / 1e6).ceil() as u64, memory: memory.ceil() as u64 }
}

/// The cost and memory estimate of `spec` on the source `bytes`, read from the header and the
/// plan alone; over [`Limits::max_cost`] or [`Limits::max_memory`] it is a 413 naming the limit.
pub fn assess(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: std::time::Instant,
) -> Result<Estimate, TransformError> {
    if spec.format == Some(Format::Json) {
        return Ok(Estimate { cost: 1, memory: bytes.len() as u64 + (1 << 20) });
    }
    super::or_repaired(bytes, |bytes| {
        let (header, _, plan, anim) = super::planned(bytes, spec, limits, deadline)?;
        within_budget(&header, bytes.len(), &plan, anim.as_ref(), spec, limits)
    })
}

pub(super) fn within_budget(
    header: &Header,
    source_bytes: usize,
    plan: &Plan,
    anim: Option<&frames::Animation>,
    spec: &TransformSpec,
    limits: &Limits,
) -> Result<Estimate, TransformError> {
    let (eighths, png_factor) = super::shrink_on_load(header, plan);
    let shrink =
        |v: u32| (u64::from(v) * u64::from(eighths)).div_ceil(8).div_ceil(u64::from(png_factor)) as u32;
    let decoded = (shrink(header.width), shrink(header.height));
    if let Some(a) = anim {
        frames::check_limits(a, (header.width, header.height), limits)?;
    }
    let animated = anim.and_then(|a| super::animate::output_format(spec, header.format).map(|f| (a, f)));
    let e = match animated {
        Some((a, format)) => animation(header, source_bytes, plan, spec, format, a.frames),
        None => {
            let format = still_format(spec, header.format, header.alpha, plan.output());
            let still = estimate(header, source_bytes, decoded, plan, spec, format);
            match anim {
                // A still of an animation decodes the frames before it too (25 ns a canvas pixel).
                Some(_) => {
                    let before = u64::from(spec.page.unwrap_or(1) - 1);
                    let canvas_ms = (u64::from(header.width) * u64::from(header.height)).div_ceil(40_000);
                    Estimate { cost: still.cost + before * canvas_ms, ..still }
                }
                None => still,
            }
        }
    };
    if e.cost > limits.max_cost {
        return Err(TransformError::OverBudget(format!(
            "this transform would cost about {} units (≈ ms of CPU), over the budget of {} (--max-cost)",
            e.cost, limits.max_cost
        )));
    }
    if e.memory > limits.max_memory {
        return Err(TransformError::OverBudget(format!(
            "this transform would need about {} MB, over the memory budget of {} MB (--max-memory-mb)",
            e.memory >> 20,
            limits.max_memory >> 20
        )));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_radius_matches_the_kernel_rule_of_the_image_crate() {
        // image 0.25: size = ((sigma - 0.8) / 0.3 + 1) * 2 + 1, at least 3, made odd.
        assert_eq!(gaussian_radius(0.3), 1);
        assert_eq!(gaussian_radius(1.0), 2);
        assert_eq!(gaussian_radius(100.0), 332);
    }
}
