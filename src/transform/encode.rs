//! Encoders: libjpeg-turbo for JPEG, libwebp for WebP, libaom for AVIF (`encode_avif.rs`),
//! `image` (png, gif) for the rest.
//! Nothing of the source's metadata is written: orientation has been applied, colour is sRGB.

use super::TransformError;
use crate::spec::Format;
use image::{DynamicImage, ExtendedColorType, ImageEncoder};

/// Whether lossless WebP makes `img` smaller than lossy at `quality`: true for hard edges and few
/// colours (drawings, stickers, screenshots), false for photographs.
pub(super) fn lossless_is_smaller(img: &DynamicImage, quality: u8) -> bool {
    let size = |lossless| encode(img, Format::Webp, quality, lossless).map_or(usize::MAX, |b| b.len());
    size(true) < size(false)
}

/// `img`'s pixels interleaved as 8-bit RGBA when it has alpha, else RGB, and how many channels:
/// borrowed when they already are.
pub(super) fn rgb8_or_rgba8(img: &DynamicImage) -> (std::borrow::Cow<'_, [u8]>, usize) {
    use std::borrow::Cow;
    match img {
        DynamicImage::ImageRgb8(b) => (Cow::Borrowed(b.as_raw().as_slice()), 3),
        DynamicImage::ImageRgba8(b) => (Cow::Borrowed(b.as_raw().as_slice()), 4),
        other if other.color().has_alpha() => (Cow::Owned(other.to_rgba8().into_raw()), 4),
        other => (Cow::Owned(other.to_rgb8().into_raw()), 3),
    }
}

/// From this encoder quality up, JPEG and AVIF keep the chroma at full resolution (4:4:4), below
/// it they halve it both ways (4:2:0) — libvips' automatic subsampling (`jpegsave`, `heifsave`).
/// At the top of the scale the halved chroma, not the quantizer, is what limits how close the
/// output gets to its source on colourful detail, and `q_auto:best` could not reach its target on
/// such images (BENCHMARKS.md). WebP's lossy format has no 4:4:4.
pub(super) const FULL_CHROMA_FROM: u8 = 90;

/// Encodes `img` as `format`. JPEG expects an opaque image (flatten first).
pub(super) fn encode(
    img: &DynamicImage,
    format: Format,
    quality: u8,
    webp_lossless: bool,
) -> Result<Vec<u8>, TransformError> {
    let (w, h) = (img.width(), img.height());
    let fail =
        |e: &dyn std::fmt::Display| TransformError::Internal(format!("{} encoder: {e}", format.as_str()));
    match format {
        Format::Jpeg => {
            let (pixels, pf, subsamp) = match img {
                DynamicImage::ImageLuma8(b) => {
                    (b.as_raw().as_slice(), turbojpeg::PixelFormat::GRAY, turbojpeg::Subsamp::Gray)
                }
                DynamicImage::ImageRgb8(b) => {
                    let subsamp = if quality >= FULL_CHROMA_FROM {
                        turbojpeg::Subsamp::None
                    } else {
                        turbojpeg::Subsamp::Sub2x2
                    };
                    (b.as_raw().as_slice(), turbojpeg::PixelFormat::RGB, subsamp)
                }
                _ => return Err(fail(&"expects L8 or RGB8 pixels")),
            };
            let mut c = turbojpeg::Compressor::new().map_err(|e| fail(&e))?;
            c.set_quality(i32::from(quality)).map_err(|e| fail(&e))?;
            c.set_subsamp(subsamp).map_err(|e| fail(&e))?;
            c.set_optimize(true).map_err(|e| fail(&e))?;
            let channels = pf.size();
            let image = turbojpeg::Image {
                pixels,
                width: w as usize,
                pitch: w as usize * channels,
                height: h as usize,
                format: pf,
            };
            c.compress_to_vec(image).map_err(|e| fail(&e))
        }
        Format::Webp => {
            let (pixels, channels) = rgb8_or_rgba8(img);
            let encoder = match channels {
                4 => webp::Encoder::from_rgba(&pixels, w, h),
                _ => webp::Encoder::from_rgb(&pixels, w, h),
            };
            let mem =
                if webp_lossless { encoder.encode_lossless() } else { encoder.encode(f32::from(quality)) };
            Ok(mem.to_vec())
        }
        Format::Png => {
            let mut out = Vec::new();
            let encoder = image::codecs::png::PngEncoder::new(&mut out);
            encoder.write_image(img.as_bytes(), w, h, img.color().into()).map_err(|e| fail(&e))?;
            Ok(out)
        }
        Format::Avif => super::encode_avif::encode(img, quality),
        Format::Gif => {
            let mut out = Vec::new();
            let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 10);
            encoder.encode(img.to_rgba8().as_raw(), w, h, ExtendedColorType::Rgba8).map_err(|e| fail(&e))?;
            drop(encoder);
            Ok(out)
        }
        Format::Auto | Format::Json | Format::Thumbhash => {
            Err(fail(&"f_auto, f_json and f_thumbhash have no encoder"))
        }
    }
}
