//! Scaling with the SIMD resizer: a (fractional) source region to an exact size, Lanczos3,
//! with alpha premultiplied so transparent pixels do not bleed colour.

use super::TransformError;
use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

/// A region in the pixels of `img`, possibly fractional after DCT scaling.
#[derive(Debug, Clone, Copy)]
pub(super) struct Region {
    /// Left.
    pub(super) x: f64,
    /// Top.
    pub(super) y: f64,
    /// Width.
    pub(super) width: f64,
    /// Height.
    pub(super) height: f64,
}

/// Resizes `region` of `img` to exactly `size`.
pub(super) fn resize(
    img: &DynamicImage,
    region: Region,
    size: (u32, u32),
) -> Result<DynamicImage, TransformError> {
    let (pixel_type, channels) = match img {
        DynamicImage::ImageLuma8(_) => (PixelType::U8, 1),
        DynamicImage::ImageLumaA8(_) => (PixelType::U8x2, 2),
        DynamicImage::ImageRgb8(_) => (PixelType::U8x3, 3),
        DynamicImage::ImageRgba8(_) => (PixelType::U8x4, 4),
        _ => return Err(TransformError::Internal("resize expects 8-bit pixels".into())),
    };
    let src = fast_image_resize::images::ImageRef::new(img.width(), img.height(), img.as_bytes(), pixel_type)
        .map_err(|e| TransformError::Internal(e.to_string()))?;
    let mut dst = Image::new(size.0, size.1, pixel_type);
    // Scaling the region by decoded/full size can overshoot the edge by a rounding error.
    let (x, y) = (region.x.min(f64::from(img.width())), region.y.min(f64::from(img.height())));
    let width = region.width.min(f64::from(img.width()) - x);
    let height = region.height.min(f64::from(img.height()) - y);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(x, y, width, height);
    Resizer::new().resize(&src, &mut dst, &options).map_err(|e| TransformError::Internal(e.to_string()))?;
    let (w, h, buf) = (size.0, size.1, dst.into_vec());
    debug_assert_eq!(buf.len(), (w * h) as usize * channels);
    let out = match channels {
        1 => image::GrayImage::from_raw(w, h, buf).map(DynamicImage::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(w, h, buf).map(DynamicImage::ImageLumaA8),
        3 => image::RgbImage::from_raw(w, h, buf).map(DynamicImage::ImageRgb8),
        _ => image::RgbaImage::from_raw(w, h, buf).map(DynamicImage::ImageRgba8),
    };
    out.ok_or_else(|| TransformError::Internal("resize buffer size".into()))
}
