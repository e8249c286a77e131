//! Scaling with the SIMD resizer: a (fractional) source region to an exact size, Lanczos3,
//! with alpha premultiplied so transparent pixels do not bleed colour. Large outputs are made in
//! bands of rows with a deadline check between bands, so a cancelled request stops within one
//! band; the resizer reads filter support outside its crop box, so bands match one whole pass.

use super::TransformError;
use fast_image_resize::{images::Image, FilterType, MulDiv, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;
use std::time::Instant;

/// Output pixels per band: a few milliseconds of work each.
const BAND_PIXELS: u64 = 1 << 20;

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
    deadline: Instant,
) -> Result<DynamicImage, TransformError> {
    let (pixel_type, channels) = match img {
        DynamicImage::ImageLuma8(_) => (PixelType::U8, 1),
        DynamicImage::ImageLumaA8(_) => (PixelType::U8x2, 2),
        DynamicImage::ImageRgb8(_) => (PixelType::U8x3, 3),
        DynamicImage::ImageRgba8(_) => (PixelType::U8x4, 4),
        _ => return Err(TransformError::Internal("resize expects 8-bit pixels".into())),
    };
    let internal = |e: &dyn std::fmt::Display| TransformError::Internal(e.to_string());
    let src = fast_image_resize::images::ImageRef::new(img.width(), img.height(), img.as_bytes(), pixel_type)
        .map_err(|e| internal(&e))?;
    // Alpha is premultiplied once for all bands (the resizer would redo it for every band).
    let alpha = channels % 2 == 0;
    let premultiplied = match alpha {
        true => {
            let mut p = Image::new(img.width(), img.height(), pixel_type);
            MulDiv::default().multiply_alpha(&src, &mut p).map_err(|e| internal(&e))?;
            Some(p)
        }
        false => None,
    };
    // Scaling the region by decoded/full size can overshoot the edge by a rounding error.
    let (x, y) = (region.x.min(f64::from(img.width())), region.y.min(f64::from(img.height())));
    let width = region.width.min(f64::from(img.width()) - x);
    let height = region.height.min(f64::from(img.height()) - y);
    let rows_per_band = (BAND_PIXELS / u64::from(size.0.max(1))).max(16).min(u64::from(size.1.max(1))) as u32;
    let row_bytes = size.0 as usize * channels;
    let mut buf = vec![0u8; row_bytes * size.1 as usize];
    let mut resizer = Resizer::new();
    for (band, out) in buf.chunks_mut(row_bytes * rows_per_band as usize).enumerate() {
        super::check(deadline)?;
        let first = band as u32 * rows_per_band;
        let rows = (out.len() / row_bytes) as u32;
        let scale = height / f64::from(size.1);
        // The last band ends exactly at the region's edge: summing band heights could overshoot
        // the image by a rounding error, which the resizer refuses.
        let top = y + f64::from(first) * scale;
        let bottom = match first + rows == size.1 {
            true => y + height,
            false => (y + f64::from(first + rows) * scale).min(y + height),
        };
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
            .use_alpha(false)
            .crop(x, top, width, bottom - top);
        let mut dst = fast_image_resize::images::Image::from_slice_u8(size.0, rows, out, pixel_type)
            .map_err(|e| internal(&e))?;
        match &premultiplied {
            Some(p) => resizer.resize(p, &mut dst, &options),
            None => resizer.resize(&src, &mut dst, &options),
        }
        .map_err(|e| internal(&e))?;
        if alpha {
            MulDiv::default().divide_alpha_inplace(&mut dst).map_err(|e| internal(&e))?;
        }
    }
    let (w, h) = (size.0, size.1);
    debug_assert_eq!(buf.len(), (w * h) as usize * channels);
    let out = match channels {
        1 => image::GrayImage::from_raw(w, h, buf).map(DynamicImage::ImageLuma8),
        2 => image::GrayAlphaImage::from_raw(w, h, buf).map(DynamicImage::ImageLumaA8),
        3 => image::RgbImage::from_raw(w, h, buf).map(DynamicImage::ImageRgb8),
        _ => image::RgbaImage::from_raw(w, h, buf).map(DynamicImage::ImageRgba8),
    };
    out.ok_or_else(|| TransformError::Internal("resize buffer size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Bug: the bands' crop boxes were summed in floating point, so the last one could end a
    /// rounding error below the image and the resizer refused it (a 500 under load, for
    /// `/w_335,f_webp/` of a 1411 px JPEG decoded at half size).
    #[test]
    fn bands_of_fractional_regions_stay_inside_the_image() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(706, 706, image::Rgb([9, 99, 199])));
        let far = Instant::now() + Duration::from_secs(3600);
        for target in (40..=700).step_by(7) {
            let side = 705.5;
            let region = Region { x: 0.0, y: 0.0, width: side, height: side };
            let out = resize(&img, region, (target, target), far).unwrap_or_else(|e| panic!("{target}: {e}"));
            assert_eq!((out.width(), out.height()), (target, target));
            assert_eq!(out.to_rgb8().get_pixel(target / 2, target - 1).0, [9, 99, 199]);
        }
    }

    /// One band or many, the pixels are the same.
    #[test]
    fn banded_resizing_equals_one_pass() {
        let img = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(900, 700, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8, ((x + y) % 256) as u8])
        }));
        let far = Instant::now() + Duration::from_secs(3600);
        let region = Region { x: 10.5, y: 3.25, width: 800.0, height: 650.0 };
        // 2500 × 2000 is five bands of 419 rows; compare with the resizer run once.
        let banded = resize(&img, region, (2500, 2000), far).unwrap();
        let src =
            fast_image_resize::images::ImageRef::new(900, 700, img.as_bytes(), PixelType::U8x4).unwrap();
        let mut whole = Image::new(2500, 2000, PixelType::U8x4);
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
            .crop(10.5, 3.25, 800.0, 650.0);
        Resizer::new().resize(&src, &mut whole, &options).unwrap();
        let diff = banded.as_bytes().iter().zip(whole.buffer()).filter(|(a, b)| a.abs_diff(**b) > 1).count();
        assert_eq!(diff, 0, "pixels differing by more than one level");
    }
}
