//! TIFF layouts the `image` crate's decoder refuses but the `tiff` crate reads (palette at 1 to
//! 8 bits, grey at 1 to 16 bits, grey with alpha, signed samples, uncompressed YCbCr, CIE L*a*b*):
//! decoded here from the `tiff` crate's raw samples into the 8-bit layouts the pipeline handles,
//! as Pillow and browsers with TIFF support show them.

use super::TransformError;
use image::DynamicImage;
use std::borrow::Cow;
use std::io::Cursor;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

fn corrupt(e: tiff::TiffError) -> TransformError {
    match e {
        tiff::TiffError::LimitsExceeded => {
            TransformError::OverLimit("decoding the TIFF would exceed a limit".into())
        }
        tiff::TiffError::UnsupportedError(u) => {
            tracing::info!(detail = %u, "the tiff crate refused a feature of the source");
            TransformError::Unsupported(
                "the source uses an image feature that pixflow does not decode".into(),
            )
        }
        other => TransformError::Corrupt(format!("TIFF: {other}")),
    }
}

fn decoder(bytes: &[u8], max_alloc: u64) -> Result<Decoder<Cursor<&[u8]>>, TransformError> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = max_alloc as usize;
    limits.intermediate_buffer_size = max_alloc as usize;
    Ok(Decoder::new(Cursor::new(bytes)).map_err(corrupt)?.with_limits(limits))
}

/// Width, height and whether there is alpha, from the first image's tags.
pub(super) fn header(bytes: &[u8], max_alloc: u64) -> Result<(u32, u32, bool), TransformError> {
    let (bytes, original) = readable(bytes);
    let mut d = decoder(&bytes, max_alloc)?;
    let (w, h) = d.dimensions().map_err(corrupt)?;
    let alpha = matches!(
        colour_type(original, d.colortype().map_err(corrupt)?),
        ColorType::GrayA(_) | ColorType::RGBA(_)
    );
    Ok((w, h, alpha))
}

/// Decodes the first image.
pub(super) fn decode(bytes: &[u8], max_alloc: u64) -> Result<DynamicImage, TransformError> {
    let (bytes, original) = readable(bytes);
    let mut d = decoder(&bytes, max_alloc)?;
    let (w, h) = d.dimensions().map_err(corrupt)?;
    let colour = colour_type(original, d.colortype().map_err(corrupt)?);
    let colormap = match colour {
        ColorType::Palette(_) => d.find_tag_unsigned_vec::<u16>(Tag::ColorMap).map_err(corrupt)?,
        _ => None,
    };
    let subsampling = d.find_tag_unsigned_vec::<u16>(Tag::Unknown(530)).map_err(corrupt)?;
    let samples = d.read_image().map_err(corrupt)?;
    let bad = || TransformError::Corrupt("the TIFF's samples do not fill the image".into());
    let (wu, hu) = (w as usize, h as usize);
    let img = match (colour, samples) {
        (ColorType::Gray(bits), DecodingResult::U8(buf)) if bits < 8 => {
            let top = (1u32 << bits) - 1;
            let px = unpack(&buf, wu, hu, bits).ok_or_else(bad)?;
            luma(w, h, px.into_iter().map(|v| (u32::from(v) * 255 / top) as u8).collect())
        }
        (ColorType::Gray(8), DecodingResult::U8(buf)) => luma(w, h, buf),
        (ColorType::Gray(_), DecodingResult::U16(buf)) => {
            luma(w, h, buf.iter().map(|&v| narrow(v)).collect())
        }
        (ColorType::Gray(_), DecodingResult::I8(buf)) => {
            luma(w, h, buf.iter().map(|&v| (i16::from(v) + 128) as u8).collect())
        }
        (ColorType::Gray(_), DecodingResult::I16(buf)) => {
            luma(w, h, buf.iter().map(|&v| narrow((i32::from(v) + 32768) as u16)).collect())
        }
        // 32-bit integer grey (scientific and PGM-converted files): the top 8 bits, as for 16.
        (ColorType::Gray(_), DecodingResult::U32(buf)) => {
            luma(w, h, buf.iter().map(|&v| (v >> 24) as u8).collect())
        }
        (ColorType::Gray(_), DecodingResult::I32(buf)) => {
            luma(w, h, buf.iter().map(|&v| ((i64::from(v) + (1 << 31)) >> 24) as u8).collect())
        }
        (ColorType::GrayA(8), DecodingResult::U8(buf)) => {
            image::GrayAlphaImage::from_raw(w, h, buf).map(DynamicImage::ImageLumaA8)
        }
        (ColorType::GrayA(_), DecodingResult::U16(buf)) => {
            image::GrayAlphaImage::from_raw(w, h, buf.iter().map(|&v| narrow(v)).collect())
                .map(DynamicImage::ImageLumaA8)
        }
        (ColorType::Palette(bits), DecodingResult::U8(buf)) => {
            let map = colormap
                .ok_or_else(|| TransformError::Corrupt("a palette TIFF without a colour map".into()))?;
            let entries = map.len() / 3;
            let px = if bits < 8 { unpack(&buf, wu, hu, bits).ok_or_else(bad)? } else { buf };
            let rgb = px
                .iter()
                .flat_map(|&i| {
                    let i = usize::from(i).min(entries.saturating_sub(1));
                    [map[i], map[entries + i], map[2 * entries + i]].map(narrow)
                })
                .collect();
            image::RgbImage::from_raw(w, h, rgb).map(DynamicImage::ImageRgb8)
        }
        (ColorType::YCbCr(8), DecodingResult::U8(buf)) => {
            if subsampling.is_some_and(|s| s.iter().any(|&f| f != 1)) {
                return Err(TransformError::Unsupported(
                    "subsampled uncompressed YCbCr TIFFs are not decoded".into(),
                ));
            }
            let rgb = buf.chunks_exact(3).flat_map(|p| ycbcr_to_rgb(p[0], p[1], p[2])).collect();
            image::RgbImage::from_raw(w, h, rgb).map(DynamicImage::ImageRgb8)
        }
        (ColorType::Lab(8), DecodingResult::U8(buf)) => {
            let rgb = buf.chunks_exact(3).flat_map(|p| lab_to_srgb(p[0], p[1] as i8, p[2] as i8)).collect();
            image::RgbImage::from_raw(w, h, rgb).map(DynamicImage::ImageRgb8)
        }
        (ColorType::RGB(8), DecodingResult::U8(buf)) => {
            image::RgbImage::from_raw(w, h, buf).map(DynamicImage::ImageRgb8)
        }
        (other, _) => {
            tracing::info!(?other, "a TIFF colour type pixflow does not decode");
            return Err(TransformError::Unsupported(
                "the source uses an image feature that pixflow does not decode".into(),
            ));
        }
    };
    img.ok_or_else(bad)
}

/// The tiff crate refuses palette and CIELab TIFFs outright; told they are grey and RGB, it hands
/// over their raw samples, which are mapped here. Returns the bytes to decode and the
/// interpretation they really have.
fn readable(bytes: &[u8]) -> (Cow<'_, [u8]>, Option<u16>) {
    match photometric(bytes) {
        Some((at, PALETTE)) => (Cow::Owned(with_photometric(bytes, at, BLACK_IS_ZERO)), Some(PALETTE)),
        Some((at, CIELAB)) => (Cow::Owned(with_photometric(bytes, at, RGB)), Some(CIELAB)),
        _ => (Cow::Borrowed(bytes), None),
    }
}

/// The colour type the samples really have.
fn colour_type(original: Option<u16>, seen: ColorType) -> ColorType {
    match (original, seen) {
        (Some(PALETTE), ColorType::Gray(bits)) => ColorType::Palette(bits),
        (Some(CIELAB), ColorType::RGB(bits)) => ColorType::Lab(bits),
        (_, ColorType::Multiband { bit_depth, num_samples: 2 }) => ColorType::GrayA(bit_depth),
        (_, other) => other,
    }
}

const BLACK_IS_ZERO: u16 = 1;
const RGB: u16 = 2;
const PALETTE: u16 = 3;
const CIELAB: u16 = 8;

/// Where the first IFD's PhotometricInterpretation value sits, and the value (classic TIFF only).
fn photometric(b: &[u8]) -> Option<(usize, u16)> {
    let big_endian = match b.get(..4)? {
        [b'I', b'I', 42, 0] => false,
        [b'M', b'M', 0, 42] => true,
        _ => return None,
    };
    let u16_at = |i: usize| {
        let s = [*b.get(i)?, *b.get(i + 1)?];
        Some(if big_endian { u16::from_be_bytes(s) } else { u16::from_le_bytes(s) })
    };
    let u32_at = |i: usize| {
        let s = [*b.get(i)?, *b.get(i + 1)?, *b.get(i + 2)?, *b.get(i + 3)?];
        Some(if big_endian { u32::from_be_bytes(s) } else { u32::from_le_bytes(s) })
    };
    let ifd = u32_at(4)? as usize;
    let count = usize::from(u16_at(ifd)?);
    (0..count).map(|n| ifd + 2 + 12 * n).find(|&e| u16_at(e) == Some(262)).and_then(|e| {
        // A SHORT value sits in the first two bytes of the entry's value field.
        (u16_at(e + 2)? == 3).then_some(())?;
        Some((e + 8, u16_at(e + 8)?))
    })
}

fn with_photometric(bytes: &[u8], at: usize, value: u16) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let v = if bytes.starts_with(b"MM") { value.to_be_bytes() } else { value.to_le_bytes() };
    out[at..at + 2].copy_from_slice(&v);
    out
}

fn luma(w: u32, h: u32, px: Vec<u8>) -> Option<DynamicImage> {
    image::GrayImage::from_raw(w, h, px).map(DynamicImage::ImageLuma8)
}

/// 16 bits to 8, rounded (not truncated, which darkens and bands).
fn narrow(v: u16) -> u8 {
    ((u32::from(v) * 255 + 32767) / 65535) as u8
}

/// Samples of `bits` each, packed MSB first with every row starting on a byte.
fn unpack(buf: &[u8], w: usize, h: usize, bits: u8) -> Option<Vec<u8>> {
    let row_bytes = (w * usize::from(bits)).div_ceil(8);
    if buf.len() < row_bytes * h {
        return None;
    }
    let mask = (1u16 << bits) - 1;
    let mut out = Vec::with_capacity(w * h);
    for row in buf.chunks_exact(row_bytes).take(h) {
        for x in 0..w {
            let bit = x * usize::from(bits);
            let pair = u16::from_be_bytes([row[bit / 8], *row.get(bit / 8 + 1).unwrap_or(&0)]);
            out.push(((pair >> (16 - usize::from(bits) - bit % 8)) & mask) as u8);
        }
    }
    Some(out)
}

/// ITU-R BT.601 full range, the TIFF default (YCbCrCoefficients 299/587/114).
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
    let c = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    [c(y + 1.402 * cr), c(y - 0.344_136 * cb - 0.714_136 * cr), c(y + 1.772 * cb)]
}

/// 8-bit CIE L*a*b* (L scaled to 0–255, a and b signed) relative to D50, to sRGB (Bradford-adapted
/// to D65, the matrix of Lindbloom's tables).
fn lab_to_srgb(l: u8, a: i8, b: i8) -> [u8; 3] {
    let l = f64::from(l) * 100.0 / 255.0;
    let fy = (l + 16.0) / 116.0;
    let fx = fy + f64::from(a) / 500.0;
    let fz = fy - f64::from(b) / 200.0;
    let inv =
        |t: f64| if t > 6.0 / 29.0 { t * t * t } else { 3.0 * (6.0f64 / 29.0).powi(2) * (t - 4.0 / 29.0) };
    let (x, y, z) = (0.964_22 * inv(fx), inv(fy), 0.825_21 * inv(fz));
    let lin = [
        3.133_856_1 * x - 1.616_866_7 * y - 0.490_614_6 * z,
        -0.978_768_4 * x + 1.916_141_5 * y + 0.033_454_0 * z,
        0.071_945_3 * x - 0.228_991_4 * y + 1.405_242_7 * z,
    ];
    lin.map(|v| {
        let v = v.clamp(0.0, 1.0);
        let g = if v <= 0.003_130_8 { 12.92 * v } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
        (g * 255.0).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_white_and_reds_land_where_srgb_puts_them() {
        assert_eq!(lab_to_srgb(255, 0, 0), [255, 255, 255]);
        let red = lab_to_srgb((54.29 * 2.55) as u8, 80, 69);
        assert!(red[0] > 240 && red[1] < 30 && red[2] < 30, "{red:?}");
    }

    #[test]
    fn sub_byte_samples_unpack_per_row() {
        // Two rows of three 4-bit samples: each row is padded to two bytes.
        assert_eq!(unpack(&[0x12, 0x30, 0x45, 0x60], 3, 2, 4), Some(vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(unpack(&[0b1010_0000], 3, 1, 1), Some(vec![1, 0, 1]));
    }
}
