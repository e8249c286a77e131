//! Animations through the pipeline: frames stream from the decoder through the same steps as a
//! still (one geometry plan for all) into an animated encoder, one at a time, so memory holds a
//! few canvases whatever the frame count. Which outputs animate is decided here too.

use super::decode::{Header, SourceFormat};
use super::encode_anim::{AnimWriter, Settings};
use super::frames::{self, Animation};
use super::steps::Steps;
use super::{check, check_output_size, quality, Limits, Output, Timings, TransformError};
use crate::spec::{Format, TransformSpec};
use image::DynamicImage;
use std::time::{Duration, Instant};

/// The animated format an animated source is written as, or `None` for a still (`pg_`, or an
/// output format that cannot animate: JPEG, AVIF). Without `f_`, the source's own format;
/// `f_auto` gives animated WebP to clients that accept WebP or AVIF (every browser that takes
/// AVIF takes WebP) and the source's format to the others (GIF for a WebP source).
pub(super) fn output_format(spec: &TransformSpec, source: SourceFormat) -> Option<Format> {
    if spec.page.is_some() {
        return None;
    }
    let own = match source {
        SourceFormat::Gif => Format::Gif,
        SourceFormat::Webp => Format::Webp,
        SourceFormat::Png => Format::Png,
        _ => return None,
    };
    match spec.format {
        None => Some(own),
        Some(Format::Auto) => Some(if own == Format::Webp { Format::Gif } else { own }),
        Some(Format::Avif) if spec.negotiated => Some(Format::Webp),
        Some(f @ (Format::Gif | Format::Webp | Format::Png)) => Some(f),
        Some(_) => None,
    }
}

/// Runs `steps` over every frame of the animated `bytes` and encodes the result as `format`.
pub(super) fn run(
    bytes: &[u8],
    header: Header,
    anim: &Animation,
    steps: &Steps<'_>,
    format: Format,
    limits: &Limits,
) -> Result<Output, TransformError> {
    let spec = steps.spec;
    let size = steps.plan.output();
    let mut frames = super::decode::guarded("decoder", || frames::decode(bytes, header.format, limits))?;
    let (mut decoding, mut transforming, mut encoding) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut writer: Option<AnimWriter> = None;
    let mut given = None;
    let mut written = 0;
    while written < anim.frames {
        let t0 = Instant::now();
        let Some(frame) = super::decode::guarded("decoder", || frames.next().transpose())? else { break };
        let t1 = Instant::now();
        let image = steps.render(DynamicImage::ImageRgba8(frame.image), header.icc.as_deref())?.into_rgba8();
        let t2 = Instant::now();
        let w = match writer.as_mut() {
            Some(w) => w,
            None => {
                // The quality (q_auto's from the first frame) and lossless WebP when the URL
                // names no quality and the first frame is smaller that way (hard edges, few
                // colours) are decided once, for every frame.
                let first = DynamicImage::ImageRgba8(image.clone());
                let chosen = quality(spec, format, &first, limits, steps.deadline)?.given;
                let quality = chosen.quality;
                let lossless = format == Format::Webp
                    && spec.quality.is_none()
                    && super::encode::lossless_is_smaller(&first, quality);
                given = (format.is_lossy() && !lossless).then_some(chosen);
                let settings = Settings {
                    format,
                    size,
                    frames: anim.frames,
                    loop_count: anim.loop_count,
                    quality,
                    lossless,
                };
                writer.insert(AnimWriter::new(&settings)?)
            }
        };
        w.add(image, frame.delay)?;
        let t3 = Instant::now();
        (decoding, transforming, encoding) =
            (decoding + (t1 - t0), transforming + (t2 - t1), encoding + (t3 - t2));
        written += 1;
        check(steps.deadline)?;
    }
    if written < anim.frames && format == Format::Png {
        // An APNG declares its frame count first; one that ends early is damaged, not shorter.
        return Err(TransformError::Corrupt(format!(
            "the animation ended after {written} of its {} frames",
            anim.frames
        )));
    }
    let writer = writer.ok_or_else(|| TransformError::Corrupt("the animation has no frames".into()))?;
    let t = Instant::now();
    let bytes = writer.finish()?;
    encoding += t.elapsed();
    check_output_size(&bytes, limits)?;
    let timings = Timings { decode: decoding, transform: transforming, encode: encoding };
    Ok(Output { bytes, format, width: size.0, height: size.1, quality: given, timings })
}
