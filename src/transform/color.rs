//! Colour: embedded ICC profiles converted to sRGB, and greyscale.

use image::DynamicImage;

/// Converts pixels described by `icc` to sRGB. Profiles that are already sRGB, unreadable or not
/// RGB are left alone (an unreadable profile must not fail the request).
pub(super) fn to_srgb(img: DynamicImage, icc: Option<&[u8]>) -> DynamicImage {
    let Some(profile) = icc.and_then(|b| qcms::Profile::new_from_slice(b, false)) else {
        return img;
    };
    if profile.is_sRGB() {
        return img;
    }
    let srgb = qcms::Profile::new_sRGB();
    let transform = |ty| qcms::Transform::new(&profile, &srgb, ty, qcms::Intent::Perceptual);
    if transform(qcms::DataType::RGB8).is_none_or(|t| is_identity(&t)) {
        return img; // many cameras and editors embed a copy of sRGB that qcms does not recognise
    }
    match img {
        DynamicImage::ImageRgb8(mut buf) => {
            if let Some(t) = transform(qcms::DataType::RGB8) {
                t.apply(&mut buf);
            }
            DynamicImage::ImageRgb8(buf)
        }
        DynamicImage::ImageRgba8(mut buf) => {
            if let Some(t) = transform(qcms::DataType::RGBA8) {
                t.apply(&mut buf);
            }
            DynamicImage::ImageRgba8(buf)
        }
        other => other,
    }
}

/// Whether `t` moves no colour of a 17-level grid by more than one step.
fn is_identity(t: &qcms::Transform) -> bool {
    let levels: Vec<u8> = (0..=16u32).map(|i| (i * 255 / 16) as u8).collect();
    let mut grid = Vec::with_capacity(17 * 17 * 17 * 3);
    for &r in &levels {
        for &g in &levels {
            for &b in &levels {
                grid.extend([r, g, b]);
            }
        }
    }
    let mut out = grid.clone();
    t.apply(&mut out);
    grid.iter().zip(&out).all(|(a, b)| a.abs_diff(*b) <= 1)
}

/// Greyscale, keeping alpha when there is any.
pub(super) fn grayscale(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_) => img,
        DynamicImage::ImageRgba8(_) => DynamicImage::ImageLumaA8(img.to_luma_alpha8()),
        other => DynamicImage::ImageLuma8(other.to_luma8()),
    }
}

/// Whether any pixel is not fully opaque.
pub(super) fn has_transparency(img: &DynamicImage) -> bool {
    match img {
        DynamicImage::ImageRgba8(b) => b.pixels().any(|p| p.0[3] != 255),
        DynamicImage::ImageLumaA8(b) => b.pixels().any(|p| p.0[1] != 255),
        _ => false,
    }
}

/// Drops an alpha channel that is fully opaque, so encoders and format choice see an opaque image.
pub(super) fn drop_opaque_alpha(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageRgba8(_) if !has_transparency(&img) => DynamicImage::ImageRgb8(img.to_rgb8()),
        DynamicImage::ImageLumaA8(_) if !has_transparency(&img) => DynamicImage::ImageLuma8(img.to_luma8()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_srgb_copy_is_left_alone_and_a_different_profile_converts() {
        let srgb = qcms::Profile::new_sRGB();
        let t = qcms::Transform::new(&srgb, &srgb, qcms::DataType::RGB8, qcms::Intent::Perceptual).unwrap();
        assert!(is_identity(&t));
        // Display P3 primaries: the same numbers mean more saturated colours than sRGB's.
        let white = qcms::CIE_xyY { x: 0.3127, y: 0.3290, Y: 1.0 };
        let primaries = qcms::CIE_xyYTRIPLE {
            red: qcms::CIE_xyY { x: 0.680, y: 0.320, Y: 1.0 },
            green: qcms::CIE_xyY { x: 0.265, y: 0.690, Y: 1.0 },
            blue: qcms::CIE_xyY { x: 0.150, y: 0.060, Y: 1.0 },
        };
        let p3 = qcms::Profile::new_rgb_with_gamma_set(white, primaries, 2.2, 2.2, 2.2).unwrap();
        let t = qcms::Transform::new(&p3, &srgb, qcms::DataType::RGB8, qcms::Intent::Perceptual).unwrap();
        assert!(!is_identity(&t));
    }
}
