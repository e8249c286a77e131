//! Shrink-on-load for PNG: rows are decoded one at a time and averaged into `factor`×`factor`
//! boxes as they arrive, so a 50 MP source becomes a few-hundred-pixel image without the full
//! decoded image ever existing in memory. Colour is averaged with alpha weighting (premultiplied),
//! so fully transparent pixels do not bleed into their neighbours. Interlaced (Adam7) files return
//! `None`: their rows arrive in seven passes, and they decode whole as before.

use super::TransformError;
use image::{DynamicImage, ImageBuffer};
use png::{BitDepth, ColorType, Transformations};
use std::io::Cursor;

/// The box size for a region of `region` px shrinking to `target` px: the largest integer that
/// still leaves at least twice the target on both axes, so Lanczos has real pixels to filter.
pub fn factor(region: (u32, u32), target: (u32, u32)) -> u32 {
    let fx = region.0 / (2 * target.0.max(1));
    let fy = region.1 / (2 * target.1.max(1));
    fx.min(fy).max(1)
}

/// Decodes `bytes` shrunk by `factor` (`ceil(w/factor)` × `ceil(h/factor)`); `None` for
/// interlaced files.
pub fn decode(bytes: &[u8], factor: u32, max_alloc: u64) -> Result<Option<DynamicImage>, TransformError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(Transformations::normalize_to_color8());
    decoder.set_limits(png::Limits { bytes: usize::try_from(max_alloc).unwrap_or(usize::MAX) });
    let mut reader = decoder.read_info().map_err(corrupt)?;
    if reader.info().interlaced {
        return Ok(None);
    }
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    let channels = match reader.output_color_type() {
        (ColorType::Grayscale, BitDepth::Eight) => 1,
        (ColorType::GrayscaleAlpha, BitDepth::Eight) => 2,
        (ColorType::Rgb, BitDepth::Eight) => 3,
        (ColorType::Rgba, BitDepth::Eight) => 4,
        _ => return Ok(None),
    };
    let k = factor as usize;
    let (out_w, out_h) = (width.div_ceil(k), height.div_ceil(k));
    let alpha = channels % 2 == 0;
    // Per output pixel: channel sums (colour weighted by alpha) and the pixel count.
    let mut sums = vec![0u64; out_w * channels];
    let mut counts = vec![0u64; out_w];
    let mut out = Vec::with_capacity(out_w * out_h * channels);
    let mut y = 0;
    while let Some(row) = reader.next_row().map_err(corrupt)? {
        for (x, px) in row.data().chunks_exact(channels).enumerate() {
            let (s, a) = (&mut sums[(x / k) * channels..][..channels], u64::from(px[channels - 1]));
            if alpha {
                for c in 0..channels - 1 {
                    s[c] += u64::from(px[c]) * a;
                }
                s[channels - 1] += a;
            } else {
                for c in 0..channels {
                    s[c] += u64::from(px[c]);
                }
            }
            counts[x / k] += 1;
        }
        y += 1;
        if y % k == 0 || y == height {
            flush(&mut sums, &mut counts, channels, alpha, &mut out);
        }
    }
    if y != height {
        return Err(TransformError::Corrupt("the PNG ends before its last row".into()));
    }
    let (w, h) = (out_w as u32, out_h as u32);
    let image = match channels {
        1 => ImageBuffer::from_raw(w, h, out).map(DynamicImage::ImageLuma8),
        2 => ImageBuffer::from_raw(w, h, out).map(DynamicImage::ImageLumaA8),
        3 => ImageBuffer::from_raw(w, h, out).map(DynamicImage::ImageRgb8),
        _ => ImageBuffer::from_raw(w, h, out).map(DynamicImage::ImageRgba8),
    };
    image.map(Some).ok_or_else(|| TransformError::Internal("PNG shrink buffer size".into()))
}

/// Turns one row of box sums into output pixels and clears the sums.
fn flush(sums: &mut [u64], counts: &mut [u64], channels: usize, alpha: bool, out: &mut Vec<u8>) {
    for (s, n) in sums.chunks_exact_mut(channels).zip(counts.iter_mut()) {
        let count = (*n).max(1);
        if alpha {
            let a = s[channels - 1];
            for &v in &s[..channels - 1] {
                out.push((v + a / 2).checked_div(a).unwrap_or(0) as u8);
            }
            out.push(((a + count / 2) / count) as u8);
        } else {
            out.extend(s.iter().map(|&v| ((v + count / 2) / count) as u8));
        }
        s.fill(0);
        *n = 0;
    }
}

fn corrupt(e: png::DecodingError) -> TransformError {
    match e {
        png::DecodingError::LimitsExceeded => {
            TransformError::OverLimit("decoding the PNG would exceed the memory limit".into())
        }
        other => TransformError::Corrupt(format!("PNG: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    fn png(img: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn box_averages_match_a_full_decode() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(103, 61, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 4) as u8, ((x * y) % 251) as u8])
        }));
        let shrunk = decode(&png(&img), 4, 1 << 30).unwrap().unwrap().to_rgb8();
        assert_eq!(shrunk.dimensions(), (26, 16));
        let full = img.to_rgb8();
        for (ox, oy, p) in shrunk.enumerate_pixels() {
            let (mut sum, mut n) = ([0u32; 3], 0);
            for y in oy * 4..(oy * 4 + 4).min(61) {
                for x in ox * 4..(ox * 4 + 4).min(103) {
                    (0..3).for_each(|c| sum[c] += u32::from(full.get_pixel(x, y).0[c]));
                    n += 1;
                }
            }
            assert_eq!(p.0, sum.map(|s| ((s + n / 2) / n) as u8), "({ox}, {oy})");
        }
    }

    #[test]
    fn transparent_pixels_do_not_bleed() {
        // Left half opaque red, right half transparent blue: the boxes on the seam stay red.
        let img =
            RgbaImage::from_fn(
                16,
                8,
                |x, _| if x < 6 { Rgba([255, 0, 0, 255]) } else { Rgba([0, 0, 255, 0]) },
            );
        let shrunk = decode(&png(&DynamicImage::ImageRgba8(img)), 4, 1 << 30).unwrap().unwrap().to_rgba8();
        assert_eq!(shrunk.get_pixel(1, 0).0, [255, 0, 0, 128], "half-covered box");
        assert_eq!(shrunk.get_pixel(3, 1).0[3], 0);
    }

    #[test]
    fn the_factor_leaves_twice_the_target() {
        assert_eq!(factor((9400, 5300), (400, 226)), 11);
        assert_eq!(factor((800, 600), (400, 300)), 1);
        assert_eq!(factor((100, 100), (0, 0)), 50);
    }
}
