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
