//! Effects applied at output size: gaussian blur and unsharp mask. A large image is filtered in
//! bands of rows, each with the kernel's radius of rows above and below it, so the result equals
//! one whole pass and the deadline is checked between bands (a cancelled request stops within a
//! band instead of running a 30-second blur to the end).

use super::cost::gaussian_radius;
use super::TransformError;
use crate::spec::TransformSpec;
use image::DynamicImage;
use std::time::Instant;

/// Pixels filtered per band (margins included), a few tens of milliseconds at large sigmas.
const BAND_PIXELS: u64 = 1 << 20;

/// Applies `blur_` and `sharpen_` in that order.
pub(super) fn apply(
    mut img: DynamicImage,
    spec: &TransformSpec,
    deadline: Instant,
) -> Result<DynamicImage, TransformError> {
    if let Some(sigma) = spec.blur {
        let s = sigma.get() as f32;
        img = banded(&img, gaussian_radius(sigma.get()), deadline, |band| band.blur(s))?;
    }
    if let Some(sigma) = spec.sharpen {
        let s = sigma.get() as f32;
        img = banded(&img, gaussian_radius(sigma.get()), deadline, |band| band.unsharpen(s, 0))?;
    }
    Ok(img)
}

/// Runs `filter` (whose kernel reaches `radius` rows) over bands of `img` and stitches the rows.
fn banded(
    img: &DynamicImage,
    radius: u32,
    deadline: Instant,
    filter: impl Fn(&DynamicImage) -> DynamicImage,
) -> Result<DynamicImage, TransformError> {
    let (w, h) = (img.width(), img.height());
    let rows = ((BAND_PIXELS / u64::from(w.max(1))) as u32).max(2 * radius).max(16);
    if rows >= h {
        super::check(deadline)?;
        return Ok(filter(img));
    }
    let mut out = DynamicImage::new(w, h, img.color());
    let mut first = 0;
    while first < h {
        super::check(deadline)?;
        let last = (first + rows).min(h);
        let (top, bottom) = (first.saturating_sub(radius), (last + radius).min(h));
        let band = filter(&img.crop_imm(0, top, w, bottom - top));
        let kept = band.crop_imm(0, first - top, w, last - first);
        image::GenericImage::copy_from(&mut out, &kept, 0, first)
            .map_err(|e| TransformError::Internal(e.to_string()))?;
        first = last;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The banded blur equals one whole pass, so splitting for cancellation changes no pixel.
    #[test]
    fn banded_filtering_equals_one_pass() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(300, 4000, |x, y| {
            image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, ((x ^ y) % 256) as u8])
        }));
        let far = Instant::now() + std::time::Duration::from_secs(3600);
        for sigma in [1.0f32, 6.0] {
            let radius = gaussian_radius(f64::from(sigma));
            let whole = img.blur(sigma);
            let bands = banded(&img, radius, far, |b| b.blur(sigma)).unwrap();
            assert_eq!(whole.as_bytes(), bands.as_bytes(), "sigma {sigma}");
        }
    }

    #[test]
    fn a_passed_deadline_stops_between_bands() {
        let img = DynamicImage::new_rgb8(2000, 2000);
        let past = Instant::now() - std::time::Duration::from_millis(1);
        assert!(matches!(banded(&img, 2, past, |b| b.blur(1.0)), Err(TransformError::Deadline)));
    }
}
