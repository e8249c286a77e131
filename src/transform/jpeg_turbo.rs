//! JPEG pixels through libjpeg-turbo: RGB or grey at a DCT scale, and CMYK/YCCK converted to
//! sRGB. Its warnings (extraneous bytes, a premature end) keep the picture, as browsers do.

use super::TransformError;
use image::DynamicImage;

/// libjpeg-turbo's decode at `scale_eighths`/8, to RGB or (for `gray`) luma only.
pub fn decode_turbo(bytes: &[u8], scale_eighths: u8, gray: bool) -> Result<DynamicImage, TransformError> {
    let format = if gray { turbojpeg::PixelFormat::GRAY } else { turbojpeg::PixelFormat::RGB };
    let (pixels, w, h) = turbo_pixels(bytes, scale_eighths, format)?;
    let img = if gray {
        image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
    } else {
        image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
    };
    img.ok_or_else(|| internal("JPEG buffer size"))
}

/// A CMYK or YCCK JPEG: libjpeg-turbo's CMYK samples at `scale_eighths`/8 (Adobe's inverted
/// samples turned back), converted to sRGB by [`super::color::cmyk_to_srgb`]. Returns whether
/// the file's CMYK profile was used.
pub(super) fn decode_cmyk(
    bytes: &[u8],
    scale_eighths: u8,
    icc: Option<&[u8]>,
) -> Result<(DynamicImage, bool), TransformError> {
    let (mut cmyk, w, h) = turbo_pixels(bytes, scale_eighths, turbojpeg::PixelFormat::CMYK)?;
    if super::jpeg_meta::adobe(bytes) {
        cmyk.iter_mut().for_each(|s| *s = 255 - *s);
    }
    let (rgb, profiled) = super::color::cmyk_to_srgb(&cmyk, icc);
    let image = image::RgbImage::from_raw(w, h, rgb).ok_or_else(|| internal("JPEG buffer size"))?;
    Ok((DynamicImage::ImageRgb8(image), profiled))
}

/// libjpeg-turbo's decode at `scale_eighths`/8 into packed pixels of `format`, with the size.
fn turbo_pixels(
    bytes: &[u8],
    scale_eighths: u8,
    format: turbojpeg::PixelFormat,
) -> Result<(Vec<u8>, u32, u32), TransformError> {
    let mut d = turbojpeg::Decompressor::new().map_err(internal)?;
    let scale = turbojpeg::ScalingFactor::new(usize::from(scale_eighths.clamp(1, 8)), 8);
    let h = d.read_header(bytes).map_err(|e| TransformError::Corrupt(e.to_string()))?.scaled(scale);
    d.set_scaling_factor(scale).map_err(internal)?;
    let channels = format.size();
    let mut pixels = vec![0u8; h.width * h.height * channels];
    let out = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: h.width,
        pitch: h.width * channels,
        height: h.height,
        format,
    };
    match d.decompress(bytes, out) {
        Ok(()) => {}
        // libjpeg-turbo reports a warning (extraneous bytes before a marker, a premature end of
        // data) after decoding all it could; browsers show that image, and so does pixflow.
        Err(turbojpeg::Error::TurboJpegError(m)) if is_libjpeg_warning(&m) => {
            tracing::info!(warning = %m, "libjpeg-turbo warning; the decoded image is used");
        }
        Err(e) => return Err(TransformError::Corrupt(format!("JPEG data: {e}"))),
    }
    Ok((pixels, h.width as u32, h.height as u32))
}

/// libjpeg's warning messages (jerror.h, the JWRN_ codes): the decoder went on to the end.
fn is_libjpeg_warning(message: &str) -> bool {
    const WARNINGS: &[&str] = &[
        "Corrupt JPEG data",
        "Premature end of JPEG file",
        "Invalid SOS parameters for sequential JPEG",
        "Inconsistent progression sequence",
        "Unknown Adobe color transform code",
        "Warning: unknown JFIF revision",
        "Warning: thumbnail image size",
        "Application transferred too many scanlines",
    ];
    WARNINGS.iter().any(|w| message.contains(w))
}

fn internal(e: impl std::fmt::Display) -> TransformError {
    TransformError::Internal(e.to_string())
}
