//! `f_thumbhash`: the ThumbHash of the image the other options describe, as base64 text — the
//! `thumbhash` crate, the algorithm author's own Rust port. The request is planned as usual, then
//! the plan is scaled so its output fits the 100 × 100 px the algorithm reads; the decode then
//! shrinks as far as that allows (a large JPEG at 1/8 scale, or from its DC coefficients alone), so
//! the hash costs little more than reading the header.

use super::geometry::{Canvas, Plan};
use super::steps::Steps;
use super::{cost, decode_still, planned, shrink_on_load, Limits, Output, Timings, TransformError};
use crate::spec::limits::{at_least_1, round_div};
use crate::spec::Format;
use crate::spec::{Centi, TransformSpec};
use base64::Engine;
use image::DynamicImage;
use std::time::Instant;

/// The largest side the ThumbHash encoder takes.
const MAX_SIDE: u32 = 100;

/// `plan` with its output scaled to fit [`MAX_SIDE`] (unchanged when it already fits).
pub(super) fn tiny(plan: &Plan) -> Plan {
    let (w, h) = plan.output();
    let long = u64::from(w.max(h));
    if long <= u64::from(MAX_SIDE) {
        return *plan;
    }
    let k = |v: u32| at_least_1(round_div(u64::from(v) * u64::from(MAX_SIDE), long));
    let scaled = (k(plan.scaled.0), k(plan.scaled.1));
    let canvas = plan.canvas.map(|c| {
        let (width, height) = (k(c.width).max(scaled.0), k(c.height).max(scaled.1));
        let at = |v: u32, room: u32| (round_div(u64::from(v) * u64::from(MAX_SIDE), long) as u32).min(room);
        Canvas { width, height, left: at(c.left, width - scaled.0), top: at(c.top, height - scaled.1) }
    });
    Plan { region: plan.region, scaled, canvas, frame: plan.frame }
}

/// The options for the tiny render: a blur's sigma scaled with the image; sharpening dropped (it
/// cannot show in a placeholder).
pub(super) fn options(spec: &TransformSpec, full: &Plan, tiny: &Plan) -> TransformSpec {
    let (from, to) = (u64::from(full.output().0), u64::from(tiny.output().0));
    let blur = spec.blur.map(|s| Centi(round_div(u64::from(s.0) * to, from) as u32)).filter(|s| s.0 >= 30);
    TransformSpec { blur, sharpen: None, ..spec.clone() }
}

/// The ThumbHash of `img` (at most [`MAX_SIDE`] px a side), base64 with padding as `btoa` writes it.
pub(super) fn encode(img: &DynamicImage) -> String {
    let rgba = img.to_rgba8();
    let hash = thumbhash::rgba_to_thumb_hash(rgba.width() as usize, rgba.height() as usize, rgba.as_raw());
    base64::engine::general_purpose::STANDARD.encode(hash)
}

/// `f_thumbhash`: the request rendered at most 100 px a side, from the smallest decode that
/// allows, then hashed.
pub(super) fn run(
    bytes: &[u8],
    spec: &TransformSpec,
    limits: &Limits,
    deadline: Instant,
    started: Instant,
) -> Result<Output, TransformError> {
    let (header, displayed, plan, anim) = planned(bytes, spec, limits, deadline)?;
    let tiny = tiny(&plan);
    let estimate = cost::within_budget(&header, bytes.len(), &tiny, anim.as_ref(), spec, limits)?;
    let exif = header.orientation;
    let shrink = shrink_on_load(&header, &tiny);
    let bounds = super::sandbox::Bounds { deadline, memory: estimate.memory };
    let decoded = decode_still(bytes, header, shrink, anim.is_some(), spec, limits, bounds)?;
    let decoded_at = Instant::now();
    let options = options(spec, &plan, &tiny);
    let steps = Steps::new(exif, displayed, &tiny, &options, deadline);
    let img = steps.render(decoded.image, decoded.header.icc.as_deref())?;
    let encode_start = Instant::now();
    let text = encode(&img);
    let timings = Timings {
        decode: decoded_at - started,
        transform: encode_start - decoded_at,
        encode: encode_start.elapsed(),
    };
    let (width, height) = plan.output();
    Ok(Output { bytes: text.into_bytes(), format: Format::Thumbhash, width, height, quality: None, timings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_options;
    use crate::transform::geometry::plan;

    fn tiny_of(src: (u32, u32), opts: &str) -> Plan {
        tiny(&plan(src, &parse_options(opts, 8192).unwrap(), 8192).unwrap())
    }

    #[test]
    fn the_tiny_plan_keeps_the_aspect_and_the_padding_inside() {
        assert_eq!(tiny_of((4000, 3000), "").output(), (100, 75));
        assert_eq!(tiny_of((4000, 3000), "w_60").output(), (60, 45));
        let padded = tiny_of((1000, 500), "w_800,h_800,c_pad,g_south");
        assert_eq!(padded.output(), (100, 100));
        let c = padded.canvas.unwrap();
        assert_eq!((padded.scaled, c.left, c.top), ((100, 50), 0, 50));
        assert_eq!(tiny_of((50, 5000), "").output(), (1, 100));
    }

    #[test]
    fn blur_scales_with_the_image_and_sharpen_is_dropped() {
        let spec = parse_options("w_1000,blur_20,sharpen", 8192).unwrap();
        let full = plan((2000, 1000), &spec, 8192).unwrap();
        let t = options(&spec, &full, &tiny(&full));
        assert_eq!((t.blur, t.sharpen), (Some(Centi(200)), None));
    }
}
