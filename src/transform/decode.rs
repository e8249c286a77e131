//! Decoding, with every limit checked from the header before pixels are touched. JPEGs go through
//! libjpeg-turbo with DCT-domain downscaling, JPEG XL through jxl-oxide, AVIF through rav1d, HEIC
//! through libde265, SVG through resvg (drawn at the size the plan asks for); everything else
//! through the `image` crate.

use super::jpeg_turbo::decode_cmyk;
pub use super::jpeg_turbo::decode_turbo;
use super::sandbox::{self, Bounds};
use super::{Limits, TransformError};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// Source formats pixflow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// JPEG XL.
    Jxl,
    /// AVIF (still images: the primary item).
    Avif,
    /// HEIC (HEVC in HEIF: the primary item), with the `heic` feature.
    Heic,
    /// SVG, or SVGZ (gzip-compressed SVG).
    Svg,
}

impl SourceFormat {
    /// Recognises a supported format from its magic bytes.
    pub fn sniff(bytes: &[u8]) -> Result<SourceFormat, TransformError> {
        // BigTIFF (version 43), which `guess_format` does not know; the tiff crate reads it.
        if bytes.starts_with(b"II\x2B\0") || bytes.starts_with(b"MM\0\x2B") {
            return Ok(SourceFormat::Tiff);
        }
        if super::decode_svg::sniff(bytes) {
            return Ok(SourceFormat::Svg);
        }
        if let Some(f) = super::identify::foreign(bytes) {
            match f.name {
                "jxl" => return Ok(SourceFormat::Jxl),
                "avif" => return Ok(SourceFormat::Avif),
                "heic" if cfg!(feature = "heic") => return Ok(SourceFormat::Heic),
                _ => {}
            }
            return Err(TransformError::Unsupported(format!(
                "{} originals are served untouched when asked for with no options, but not transformed yet",
                f.name.to_uppercase()
            )));
        }
        match image::guess_format(bytes) {
            Ok(ImageFormat::Jpeg) => Ok(SourceFormat::Jpeg),
            Ok(ImageFormat::Png) => Ok(SourceFormat::Png),
            Ok(ImageFormat::WebP) => Ok(SourceFormat::Webp),
            Ok(ImageFormat::Gif) => Ok(SourceFormat::Gif),
            Ok(ImageFormat::Bmp) => Ok(SourceFormat::Bmp),
            Ok(ImageFormat::Tiff) => Ok(SourceFormat::Tiff),
            Ok(other) => Err(TransformError::Unsupported(format!("{other:?} sources are not supported"))),
            Err(_) => Err(TransformError::Unsupported("the source is not a recognised image".into())),
        }
    }

    /// The MIME type of the source bytes.
    pub fn mime(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "image/jpeg",
            SourceFormat::Png => "image/png",
            SourceFormat::Webp => "image/webp",
            SourceFormat::Gif => "image/gif",
            SourceFormat::Bmp => "image/bmp",
            SourceFormat::Tiff => "image/tiff",
            SourceFormat::Jxl => "image/jxl",
            SourceFormat::Avif => "image/avif",
            SourceFormat::Heic => "image/heic",
            SourceFormat::Svg => super::identify::SVG_MIME,
        }
    }

    /// The `image` crate's name for the format (JPEG XL, AVIF and SVG have their own decoders).
    fn image_format(self) -> ImageFormat {
        match self {
            SourceFormat::Jpeg => ImageFormat::Jpeg,
            SourceFormat::Png => ImageFormat::Png,
            SourceFormat::Webp => ImageFormat::WebP,
            SourceFormat::Gif => ImageFormat::Gif,
            SourceFormat::Bmp => ImageFormat::Bmp,
            SourceFormat::Tiff
            | SourceFormat::Jxl
            | SourceFormat::Avif
            | SourceFormat::Heic
            | SourceFormat::Svg => ImageFormat::Tiff,
        }
    }
}

/// What the header says, read before decoding.
#[derive(Debug, Clone)]
pub struct Header {
    /// The format.
    pub format: SourceFormat,
    /// Stored width (before orientation).
    pub width: u32,
    /// Stored height.
    pub height: u32,
    /// EXIF orientation, 1..=8.
    pub orientation: u8,
    /// Embedded ICC profile.
    pub icc: Option<Vec<u8>>,
    /// A JPEG for the `image` crate's decoder rather than libjpeg-turbo: CMYK/YCCK (which
    /// libjpeg-turbo will not turn into RGB), or a header libjpeg-turbo refuses.
    pub cmyk: bool,
    /// Whether the pixel layout has an alpha channel.
    pub alpha: bool,
    /// Bits per sample, where the header states it (not for SVG).
    pub bit_depth: Option<u8>,
    /// A vector source's own size (SVG). `width` × `height` is then the size it is drawn at,
    /// which the plan chooses (`super::planned`).
    pub vector: Option<(u32, u32)>,
}

impl Header {
    /// Drawn pixels per pixel of a vector source's own size (1 for a raster): what `rect_` (given
    /// in the SVG's own pixels) is scaled by to the drawing, and `f_json`'s region back by.
    pub fn drawing_scale(&self) -> f64 {
        self.vector.map_or(1.0, |(w, _)| f64::from(self.width) / f64::from(w))
    }

    /// A header with nothing but its format, size and alpha: upright, no ICC profile, not CMYK,
    /// no stated bit depth, not a vector.
    fn plain(format: SourceFormat, width: u32, height: u32, alpha: bool) -> Header {
        Header {
            format,
            width,
            height,
            orientation: 1,
            icc: None,
            cmyk: false,
            alpha,
            bit_depth: None,
            vector: None,
        }
    }
}

/// A decoded image and the factor it was shrunk by while decoding (1 unless DCT-scaled).
pub struct Decoded {
    /// 8-bit pixels: L8, La8, Rgb8 or Rgba8.
    pub image: DynamicImage,
    /// The header.
    pub header: Header,
}

/// Runs a decoder step. A panic inside a decoder is that file's fault as far as the client can
/// tell (422, DESIGN §3), and a decoder bug as far as the log is concerned; the process, the
/// transform slot and other requests are unharmed.
pub fn guarded<T>(step: &str, f: impl FnOnce() -> Result<T, TransformError>) -> Result<T, TransformError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        tracing::error!(step, "a decoder panicked on this file (a decoder bug; answered 422)");
        Err(TransformError::Corrupt(format!("the {step} panicked")))
    })
}

/// Reads the header and checks the pixel limit. An SVG is parsed for its size in the sandbox,
/// killed at `deadline`.
pub fn read_header(
    bytes: &[u8],
    limits: &Limits,
    deadline: std::time::Instant,
) -> Result<Header, TransformError> {
    let format = SourceFormat::sniff(bytes)?;
    let turbo_header = match format {
        SourceFormat::Jpeg => Some(turbojpeg::Decompressor::new().map_err(internal)?.read_header(bytes)),
        _ => None,
    };
    let header = if let Some(Ok(h)) = turbo_header {
        let (icc, exif) = super::jpeg_meta::segments(bytes);
        Header {
            format,
            width: h.width as u32,
            height: h.height as u32,
            orientation: exif.map_or(1, super::jpeg_meta::exif_orientation),
            icc,
            cmyk: matches!(h.colorspace, turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK),
            alpha: false,
            bit_depth: Some(8),
            vector: None,
        }
    } else if let Some(Err(e)) = turbo_header {
        // A header libjpeg-turbo refuses (an ICC marker after SOF, an APP14 cut short) may still
        // be one the `image` crate's more lenient decoder reads, as browsers would.
        tracing::info!(error = %e, "libjpeg-turbo refused the JPEG header; trying the image crate");
        let mut decoder = image_decoder(bytes, format, limits)
            .map_err(|_| TransformError::Corrupt(format!("JPEG header: {e}")))?;
        let (width, height) = decoder.dimensions();
        let (icc, exif) = super::jpeg_meta::segments(bytes);
        let icc = icc.or_else(|| decoder.icc_profile().ok().flatten());
        let orientation = exif.map_or(1, super::jpeg_meta::exif_orientation);
        Header {
            format,
            width,
            height,
            orientation,
            icc,
            cmyk: true,
            alpha: false,
            bit_depth: Some(8),
            vector: None,
        }
    } else if format == SourceFormat::Jxl {
        let s = super::decode_jxl::header(bytes)?;
        Header {
            icc: s.icc,
            bit_depth: Some(s.bit_depth),
            ..Header::plain(format, s.width, s.height, s.alpha)
        }
    } else if let Some(codec) = heif_codec(format) {
        let s = super::decode_heif::header(bytes, codec)?;
        Header {
            orientation: s.orientation,
            icc: s.icc,
            bit_depth: Some(s.bit_depth),
            ..Header::plain(format, s.width, s.height, s.alpha)
        }
    } else if format == SourceFormat::Svg {
        let (width, height) = sandbox::svg_size(bytes, limits.max_source_pixels, Bounds::header(deadline))?;
        Header { vector: Some((width, height)), ..Header::plain(format, width, height, true) }
    } else {
        match image_decoder(bytes, format, limits) {
            Ok(mut decoder) => {
                let (width, height) = decoder.dimensions();
                let orientation = decoder.orientation().map(orientation_number).unwrap_or(1);
                let icc = decoder.icc_profile().ok().flatten();
                let colour = decoder.original_color_type();
                let alpha = decoder.color_type().has_alpha();
                let bit_depth =
                    u8::try_from(colour.bits_per_pixel() / u16::from(colour.channel_count().max(1))).ok();
                Header {
                    format,
                    width,
                    height,
                    orientation,
                    icc,
                    cmyk: false,
                    alpha,
                    bit_depth,
                    vector: None,
                }
            }
            // Layouts the image crate refuses and the tiff crate reads (palette, odd depths, Lab).
            Err(TransformError::Unsupported(_)) if format == SourceFormat::Tiff => {
                let (width, height, alpha) = super::decode_tiff::header(bytes, max_alloc(limits))?;
                Header::plain(format, width, height, alpha)
            }
            Err(e) => return Err(e),
        }
    };
    // A drawing's pixels are those it is drawn at, which the plan chooses within the limit.
    if header.vector.is_none() {
        check_pixels(&header, limits)?;
    }
    Ok(header)
}

/// The codec of a HEIF-family format.
fn heif_codec(format: SourceFormat) -> Option<super::decode_heif::Codec> {
    match format {
        SourceFormat::Avif => Some(super::decode_heif::Codec::Av1),
        SourceFormat::Heic => Some(super::decode_heif::Codec::Hevc),
        _ => None,
    }
}

pub(super) fn check_pixels(h: &Header, limits: &Limits) -> Result<(), TransformError> {
    if h.width == 0 || h.height == 0 {
        return Err(TransformError::Corrupt("the image has no pixels".into()));
    }
    if u64::from(h.width) * u64::from(h.height) > limits.max_source_pixels {
        return Err(TransformError::TooManyPixels(h.width, h.height, limits.max_source_pixels));
    }
    Ok(())
}

/// Room for an RGBA8 (or 16-bit RGB) buffer of the largest allowed image plus decoder state.
pub(super) fn max_alloc(limits: &Limits) -> u64 {
    limits.max_source_pixels.saturating_mul(8).saturating_add(64 << 20)
}

fn image_decoder<'a>(
    bytes: &'a [u8],
    format: SourceFormat,
    limits: &Limits,
) -> Result<Box<dyn ImageDecoder + 'a>, TransformError> {
    let bytes = match format {
        SourceFormat::Gif => super::repair::gif(bytes),
        SourceFormat::Bmp => super::repair::bmp(bytes),
        _ => std::borrow::Cow::Borrowed(bytes),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut l = image::Limits::default();
    l.max_alloc = Some(max_alloc(limits));
    reader.limits(l);
    reader.into_decoder().map(|d| Box::new(d) as Box<dyn ImageDecoder + 'a>).map_err(decode_error)
}

/// Decodes `bytes`, shrinking in the DCT domain by `scale_eighths`/8 when the source is a JPEG,
/// and by `png_factor` boxes while streaming rows when it is a PNG. SVG and HEIC are drawn and
/// decoded in the sandbox within `bounds`; an AVIF grid stops at its deadline.
pub fn decode(
    bytes: &[u8],
    mut header: Header,
    (scale_eighths, png_factor): (u8, u32),
    gray: bool,
    limits: &Limits,
    bounds: Bounds,
) -> Result<Decoded, TransformError> {
    let image = match header.format {
        SourceFormat::Png if png_factor > 1 => {
            match super::shrink_png::decode(bytes, png_factor, max_alloc(limits))? {
                Some(image) => image,
                None => decode_with_image(bytes, header.format, limits)?,
            }
        }
        // CMYK/YCCK, which libjpeg-turbo will not turn into RGB, go to the `image` decoder.
        SourceFormat::Jpeg if !header.cmyk => {
            let gray = gray && header.icc.is_none();
            // At 1/8 scale a progressive file needs only its DC scans.
            match (scale_eighths == 1).then(|| super::dc_only::decode(bytes, gray)).flatten() {
                Some(image) => image,
                None => match decode_turbo(bytes, scale_eighths, gray) {
                    Ok(image) => image,
                    // The header read, the data did not: the image crate may read what is there.
                    Err(e @ TransformError::Corrupt(_)) => decode_with_image(bytes, header.format, limits)
                        .map(|img| fit_scale(img, scale_eighths))
                        .map_err(|_| e)?,
                    Err(e) => return Err(e),
                },
            }
        }
        // CMYK/YCCK: libjpeg-turbo's CMYK samples through the file's CMYK profile here (so the
        // pipeline's ICC step, which converts RGB and grey, has nothing left to do).
        SourceFormat::Jpeg => match decode_cmyk(bytes, scale_eighths, header.icc.as_deref()) {
            Ok((image, profiled)) => {
                if profiled {
                    header.icc = None;
                }
                image
            }
            // A header libjpeg-turbo refused: the image crate's more lenient decoder.
            Err(_) => decode_with_image(bytes, header.format, limits)?,
        },
        SourceFormat::Jxl => super::decode_jxl::decode(bytes, super::decode_jxl::alloc_budget(&header))?,
        SourceFormat::Avif => super::decode_heif::decode(
            bytes,
            super::decode_heif::Codec::Av1,
            limits.max_source_pixels,
            bounds.deadline,
        )?,
        SourceFormat::Heic => sandbox::heic(bytes, limits.max_source_pixels, bounds)?,
        SourceFormat::Svg => {
            sandbox::svg_render(bytes, limits.max_source_pixels, (header.width, header.height), bounds)?
        }
        f => decode_with_image(bytes, f, limits)?,
    };
    Ok(Decoded { image, header })
}

fn decode_with_image(
    bytes: &[u8],
    format: SourceFormat,
    limits: &Limits,
) -> Result<DynamicImage, TransformError> {
    let img = match image_decoder(bytes, format, limits)
        .and_then(|d| DynamicImage::from_decoder(d).map_err(decode_error))
    {
        Ok(img) => img,
        Err(TransformError::Unsupported(_)) if format == SourceFormat::Tiff => {
            super::decode_tiff::decode(bytes, max_alloc(limits))?
        }
        Err(e) => return Err(e),
    };
    Ok(to_8bit(img))
}

/// A full-size fallback decode, reduced to the DCT scale the plan expects (a box average, as the
/// DCT-domain scale is).
fn fit_scale(img: DynamicImage, scale_eighths: u8) -> DynamicImage {
    if scale_eighths >= 8 {
        return img;
    }
    let s = u32::from(scale_eighths);
    let (w, h) = ((img.width() * s).div_ceil(8), (img.height() * s).div_ceil(8));
    img.resize_exact(w, h, image::imageops::FilterType::Triangle)
}

/// Narrows any decoded image to one of the four 8-bit layouts the pipeline handles.
pub fn to_8bit(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => img,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(img.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
        other if other.color().has_alpha() => DynamicImage::ImageRgba8(other.to_rgba8()),
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

pub(super) fn decode_error(e: image::ImageError) -> TransformError {
    match e {
        image::ImageError::Limits(l) => {
            TransformError::OverLimit(format!("decoding would exceed a limit: {l}"))
        }
        image::ImageError::Unsupported(u) => {
            tracing::info!(detail = %u, "a decoder refused a feature of the source");
            TransformError::Unsupported(
                "the source uses an image feature that pixflow does not decode".into(),
            )
        }
        other => TransformError::Corrupt(other.to_string()),
    }
}

fn internal(e: impl std::fmt::Display) -> TransformError {
    TransformError::Internal(e.to_string())
}

fn orientation_number(o: image::metadata::Orientation) -> u8 {
    use image::metadata::Orientation::*;
    match o {
        NoTransforms => 1,
        FlipHorizontal => 2,
        Rotate180 => 3,
        FlipVertical => 4,
        Rotate90FlipH => 5,
        Rotate90 => 6,
        Rotate270FlipH => 7,
        Rotate270 => 8,
    }
}
