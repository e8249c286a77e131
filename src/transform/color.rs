//! Colour: embedded ICC profiles converted to sRGB (RGB and grey profiles here, CMYK ones while
//! a CMYK JPEG is decoded, [`cmyk_to_srgb`]), and greyscale.

use image::DynamicImage;

/// The colour space an ICC profile describes (its header's bytes 16..20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProfileSpace {
    /// `RGB `.
    Rgb,
    /// `GRAY`.
    Gray,
    /// `CMYK`.
    Cmyk,
    /// Anything else (Lab, n-colour, …), or no readable header.
    Other,
}

/// What colour space `icc` describes. Checked before qcms is asked for a transform: it asserts
/// (in debug builds) when a profile and a pixel layout do not match.
pub(super) fn profile_space(icc: &[u8]) -> ProfileSpace {
    match icc.get(16..20) {
        Some(b"RGB ") => ProfileSpace::Rgb,
        Some(b"GRAY") => ProfileSpace::Gray,
        Some(b"CMYK") => ProfileSpace::Cmyk,
        _ => ProfileSpace::Other,
    }
}

/// Converts pixels described by `icc` to sRGB. Profiles that are already sRGB, unreadable or of
/// another colour space than the pixels are left alone (an unreadable profile must not fail the
/// request). A grey profile converts grey pixels (and RGB ones that are grey, as libjpeg-turbo
/// decodes a grey JPEG) channel by channel: a grey stays a grey.
pub(super) fn to_srgb(img: DynamicImage, icc: Option<&[u8]>) -> DynamicImage {
    let Some(icc) = icc else {
        return img;
    };
    let space = profile_space(icc);
    if space == ProfileSpace::Gray {
        return match gray_curve(icc) {
            Some(curve) => map_colour_channels(img, &curve),
            None => img,
        };
    }
    if space != ProfileSpace::Rgb {
        return img;
    }
    let Some(profile) = qcms::Profile::new_from_slice(icc, false) else {
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

/// A grey profile's 256 levels in sRGB, when qcms reads it and it is not sRGB's own curve.
fn gray_curve(icc: &[u8]) -> Option<[u8; 256]> {
    let profile = qcms::Profile::new_from_slice(icc, false)?;
    let srgb = qcms::Profile::new_sRGB();
    let t = qcms::Transform::new_to(
        &profile,
        &srgb,
        qcms::DataType::Gray8,
        qcms::DataType::RGB8,
        qcms::Intent::Perceptual,
    )?;
    let levels: Vec<u8> = (0..=255).collect();
    let mut rgb = vec![0u8; 256 * 3];
    t.convert(&levels, &mut rgb);
    let mut curve = [0u8; 256];
    for (c, px) in curve.iter_mut().zip(rgb.chunks_exact(3)) {
        *c = px[1]; // a neutral grey: the three channels agree to a level
    }
    // A profile that leaves every level within one of its own is sRGB's grey (or near it).
    (curve.iter().enumerate().any(|(i, &c)| c.abs_diff(i as u8) > 1)).then_some(curve)
}

/// Every colour channel (not alpha) through `curve`.
fn map_colour_channels(img: DynamicImage, curve: &[u8; 256]) -> DynamicImage {
    let map = |raw: &mut [u8], channels: usize, colour: usize| {
        for px in raw.chunks_exact_mut(channels) {
            for c in &mut px[..colour] {
                *c = curve[usize::from(*c)];
            }
        }
    };
    match img {
        DynamicImage::ImageLuma8(mut b) => {
            map(&mut b, 1, 1);
            DynamicImage::ImageLuma8(b)
        }
        DynamicImage::ImageLumaA8(mut b) => {
            map(&mut b, 2, 1);
            DynamicImage::ImageLumaA8(b)
        }
        DynamicImage::ImageRgb8(mut b) => {
            map(&mut b, 3, 3);
            DynamicImage::ImageRgb8(b)
        }
        DynamicImage::ImageRgba8(mut b) => {
            map(&mut b, 4, 3);
            DynamicImage::ImageRgba8(b)
        }
        other => other,
    }
}

/// CMYK samples (0 is no ink; Adobe's inverted samples already turned back) to sRGB: through
/// `icc` when it is a CMYK profile qcms reads (a LUT-based transform, as Firefox does), else the
/// conversion browsers use without one (each channel's ink, times the black's). Returns the RGB
/// samples and whether the profile was used.
pub(super) fn cmyk_to_srgb(cmyk: &[u8], icc: Option<&[u8]>) -> (Vec<u8>, bool) {
    let mut rgb = vec![0u8; cmyk.len() / 4 * 3];
    let transform = icc.filter(|p| profile_space(p) == ProfileSpace::Cmyk).and_then(|p| {
        let profile = qcms::Profile::new_from_slice(p, false)?;
        let srgb = qcms::Profile::new_sRGB();
        qcms::Transform::new_to(
            &profile,
            &srgb,
            qcms::DataType::CMYK,
            qcms::DataType::RGB8,
            qcms::Intent::Perceptual,
        )
    });
    if let Some(t) = &transform {
        t.convert(cmyk, &mut rgb);
        return (rgb, true);
    }
    for (out, px) in rgb.chunks_exact_mut(3).zip(cmyk.chunks_exact(4)) {
        let white = u32::from(255 - px[3]);
        for (o, &ink) in out.iter_mut().zip(&px[..3]) {
            *o = ((u32::from(255 - ink) * white + 127) / 255) as u8;
        }
    }
    (rgb, false)
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

    #[test]
    fn cmyk_without_a_profile_is_ink_times_black() {
        // No ink is white, full black is black, full cyan alone takes red away.
        let (rgb, profiled) = cmyk_to_srgb(&[0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 128], None);
        assert!(!profiled);
        assert_eq!(rgb, vec![255, 255, 255, 0, 0, 0, 0, 255, 255, 127, 127, 127]);
        // An RGB profile is not a CMYK one: the same conversion.
        let srgb_icc = b"0123456789abcdefRGB ".to_vec();
        assert!(!cmyk_to_srgb(&[0, 0, 0, 0], Some(&srgb_icc)).1);
    }

    #[test]
    fn a_profile_names_its_colour_space_in_its_header() {
        let header = |space: &[u8; 4]| [&[0u8; 16][..], space].concat();
        assert_eq!(profile_space(&header(b"GRAY")), ProfileSpace::Gray);
        assert_eq!(profile_space(&header(b"CMYK")), ProfileSpace::Cmyk);
        assert_eq!(profile_space(&header(b"RGB ")), ProfileSpace::Rgb);
        assert_eq!(profile_space(&header(b"Lab ")), ProfileSpace::Other);
        assert_eq!(profile_space(b"short"), ProfileSpace::Other);
    }
}
