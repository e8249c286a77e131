//! JPEG XL originals, through jxl-oxide (pure Rust). The header (size, orientation, alpha, bit
//! depth, colour encoding) is read before any frame is decoded, so the pixel limit holds; the
//! decoder's allocations are capped by the same budget as the other decoders'. jxl-oxide applies
//! the header's orientation itself, so the pipeline sees the image upright.
//!
//! Colour: an image in XYB (every lossy JPEG XL) or in an enumerated colour space (sRGB, Display
//! P3, BT.2100 PQ/HLG, …) is rendered to sRGB by jxl-oxide, which tone-maps HDR transfer
//! functions; an image that carries an ICC profile of its own, not XYB, keeps it for the
//! pipeline's ICC conversion (qcms), as the other formats do. The first keyframe of an animation
//! is the still.

use super::TransformError;
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use jxl_oxide::{EnumColourEncoding, InitializeResult, JxlImage, PixelFormat, RenderingIntent};

/// What the header states.
#[derive(Debug, Clone)]
pub(super) struct Stated {
    /// Width as shown (orientation applied).
    pub(super) width: u32,
    /// Height as shown.
    pub(super) height: u32,
    /// Whether an alpha channel is present.
    pub(super) alpha: bool,
    /// Bits per colour sample.
    pub(super) bit_depth: u8,
    /// The ICC profile the pipeline converts from (only for non-XYB images that carry one).
    pub(super) icc: Option<Vec<u8>>,
}

/// Reads the header alone.
pub(super) fn header(bytes: &[u8]) -> Result<Stated, TransformError> {
    let mut uninit = JxlImage::builder().build_uninit();
    uninit.feed_bytes(bytes).map_err(corrupt)?;
    match uninit.try_init().map_err(corrupt)? {
        InitializeResult::Initialized(image) => Ok(stated(&image)),
        InitializeResult::NeedMoreData(_) => {
            Err(TransformError::Corrupt("JPEG XL: the header is cut short".into()))
        }
    }
}

fn stated(image: &JxlImage) -> Stated {
    let meta = &image.image_header().metadata;
    Stated {
        width: image.width(),
        height: image.height(),
        alpha: meta.ec_info.iter().any(|ec| ec.is_alpha()),
        bit_depth: meta.bit_depth.bits_per_sample().min(255) as u8,
        icc: keeps_icc(image).then(|| image.original_icc().map(<[u8]>::to_vec)).flatten(),
    }
}

/// Whether the image's own ICC profile describes its samples (rather than jxl-oxide's render).
fn keeps_icc(image: &JxlImage) -> bool {
    !image.image_header().metadata.xyb_encoded && image.original_icc().is_some()
}

/// The allocation cap for decoding an image of the header's size. jxl-oxide holds every channel
/// as 32-bit floats and renders into a second set beside them: about 32 bytes per pixel with
/// alpha, plus its state. (A cap of 8 bytes per pixel of the pixel limit, as the other decoders
/// get, refused a 20 MP photo well inside the limit — a regression test in tests/it/jxl.rs.)
pub(super) fn alloc_budget(header: &super::decode::Header) -> u64 {
    u64::from(header.width) * u64::from(header.height) * 32 + (64 << 20)
}

/// Decodes the first keyframe to 8 bits (rounded), upright, in sRGB unless an ICC profile is
/// kept (see the module's notes).
pub(super) fn decode(bytes: &[u8], max_alloc: u64) -> Result<DynamicImage, TransformError> {
    let tracker = jxl_oxide::AllocTracker::with_limit(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    let mut image = JxlImage::builder().alloc_tracker(tracker).read(bytes).map_err(corrupt)?;
    if !keeps_icc(&image) {
        image.request_color_encoding(EnumColourEncoding::srgb(RenderingIntent::Relative));
    }
    if image.num_loaded_keyframes() == 0 {
        return Err(TransformError::Corrupt("JPEG XL: no complete frame".into()));
    }
    let render = image.render_frame(0).map_err(corrupt)?;
    let mut stream = render.stream();
    let (w, h, channels) = (stream.width(), stream.height(), stream.channels());
    let mut pixels = vec![0u8; w as usize * h as usize * channels as usize];
    stream.write_to_buffer(&mut pixels);
    let built = match (image.pixel_format(), channels) {
        (PixelFormat::Gray, 1) => GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        (PixelFormat::Graya, 2) => GrayAlphaImage::from_raw(w, h, pixels).map(DynamicImage::ImageLumaA8),
        (PixelFormat::Rgb, 3) => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        (PixelFormat::Rgba, 4) => RgbaImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8),
        (format, _) => {
            return Err(TransformError::Unsupported(format!(
                "JPEG XL images with {format:?} samples are not decoded"
            )))
        }
    };
    built.ok_or_else(|| TransformError::Internal("JPEG XL buffer size".into()))
}

fn corrupt(e: Box<dyn std::error::Error + Send + Sync>) -> TransformError {
    let text = e.to_string();
    if text.contains("allocat") || text.contains("Out of memory") {
        return TransformError::OverLimit(format!("decoding would exceed a limit: {text}"));
    }
    TransformError::Corrupt(format!("JPEG XL: {text}"))
}
