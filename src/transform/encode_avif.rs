//! AVIF output: libaom (`aom.rs`) on YUV 4:2:0 (BT.601, full range, as libavif writes 8-bit
//! sRGB) — 4:4:4 from quality [`FULL_CHROMA_FROM`](super::encode::FULL_CHROMA_FROM) up — the
//! alpha as a second, monochrome AV1 picture, in the container avif-serialize writes.
//! 4:2:0 is what Pillow and browsers' own encoders default to. libaom replaced rav1e
//! (BENCHMARKS.md): fed the same pixels, its speed 6 reaches the SSIMULACRA2 of Pillow's AVIF
//! (libavif + libaom, speed 6) at the same bytes, where rav1e at speed 8 needed 6–17 % more,
//! in 40 % of rav1e's time.

use super::aom;
use super::TransformError;
use image::DynamicImage;

/// The AVIF of `img` at `quality` (1–100, AVIF's own scale: see `transform/quality.rs`).
pub(super) fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, TransformError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let quantizer = quantizer(quality);
    let (pixels, channels) = super::encode::rgb8_or_rgba8(img);
    let pixels = pixels.as_ref();
    let full_chroma = quality >= super::encode::FULL_CHROMA_FROM;
    let [y, u, v] = if full_chroma { yuv444(pixels, w, h, channels) } else { yuv420(pixels, w, h, channels) };
    let layout =
        if full_chroma { aom::Layout::Yuv444([&y, &u, &v]) } else { aom::Layout::Yuv420([&y, &u, &v]) };
    let colour = aom::encode(w, h, &layout, quantizer)?;
    let alpha = match channels {
        4 => {
            let a: Vec<u8> = pixels.chunks_exact(4).map(|p| p[3]).collect();
            Some(aom::encode(w, h, &aom::Layout::Monochrome(&a), quantizer)?)
        }
        _ => None,
    };
    let mut container = avif_serialize::Aviffy::new();
    container
        .set_chroma_subsampling((!full_chroma, !full_chroma))
        .set_matrix_coefficients(avif_serialize::constants::MatrixCoefficients::Bt601)
        .set_transfer_characteristics(avif_serialize::constants::TransferCharacteristics::Srgb)
        .set_color_primaries(avif_serialize::constants::ColorPrimaries::Bt709)
        .set_full_color_range(true);
    Ok(container.to_vec(&colour, alpha.as_deref(), w as u32, h as u32, 8))
}

/// AVIF quality (1–100) to libaom's quantizer (0–63), as libavif maps it (so `q_N` means at
/// pixflow what `--quality N` means to avifenc, sharp and Pillow).
fn quantizer(quality: u8) -> u8 {
    (((100 - u32::from(quality.clamp(1, 100))) * 63 + 50) / 100) as u8
}

/// One pixel's full-range BT.601 luma and its two colour differences (centred on 0).
fn ycbcr(p: &[u8]) -> [f32; 3] {
    let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
    let luma = 0.299 * r + 0.587 * g + 0.114 * b;
    [luma, (b - luma) / 1.772, (r - luma) / 1.402]
}

/// A value rounded into a sample.
fn sample(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Interleaved 8-bit RGB(A) to full-range BT.601 Y, Cb and Cr at every pixel.
fn yuv444(pixels: &[u8], w: usize, h: usize, channels: usize) -> [Vec<u8>; 3] {
    let mut planes = [vec![0u8; w * h], vec![0u8; w * h], vec![0u8; w * h]];
    for (i, p) in pixels.chunks_exact(channels).take(w * h).enumerate() {
        let [y, cb, cr] = ycbcr(p);
        planes[0][i] = sample(y);
        planes[1][i] = sample(cb + 128.0);
        planes[2][i] = sample(cr + 128.0);
    }
    planes
}

/// Interleaved 8-bit RGB(A) to full-range BT.601 Y, and Cb, Cr averaged over each 2×2 block
/// (centre-sited, as decoders assume when the position is unknown).
fn yuv420(pixels: &[u8], w: usize, h: usize, channels: usize) -> [Vec<u8>; 3] {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut y = vec![0u8; w * h];
    let (mut cb_sum, mut cr_sum, mut count) = (vec![0f32; cw * ch], vec![0f32; cw * ch], vec![0u8; cw * ch]);
    for row in 0..h {
        for col in 0..w {
            let [luma, cb, cr] = ycbcr(&pixels[(row * w + col) * channels..]);
            y[row * w + col] = sample(luma);
            let c = (row / 2) * cw + col / 2;
            cb_sum[c] += cb;
            cr_sum[c] += cr;
            count[c] += 1;
        }
    }
    let chroma = |sums: Vec<f32>| -> Vec<u8> {
        sums.iter().zip(&count).map(|(s, &n)| sample(s / f32::from(n) + 128.0)).collect()
    };
    [y, chroma(cb_sum), chroma(cr_sum)]
}
