//! `q_auto[:LEVEL]`: per image, the lowest encoder quality whose output reaches the level's
//! SSIMULACRA2 target, found by a bounded search on the actual output.
//!
//! A model fitted over the shared corpus (`scripts/fit-q-auto`) predicts the quality from the
//! target and what the image holds ([`features`]); that quality is encoded, decoded by pixflow's
//! own decoder and scored against the pixels given to the encoder; if the score is outside
//! `[target − 1, target + 2)`, the next quality steps by the model's slope (or between two trials
//! that bracket the target), at most [`MAX_TRIALS`] encodes in all. The answer is the lowest
//! quality tried that reached `target − 1` (else the best-scoring one). Every step is
//! deterministic — the encoders run on one thread, and the scorer's SIMD and scalar kernels give
//! the same scores — so the same request gives the same bytes. Outputs over [`SEARCH_PIXELS`] are
//! searched on a centred window of that size, then encoded whole at the chosen quality.

use super::{decode, encode, Limits, TransformError};
use crate::spec::{AutoLevel, Format};
use fast_ssim2::{PixelDescriptor, PixelSlice, Ssimulacra2Reference};
use image::DynamicImage;
use std::time::Instant;

/// Most encodes one search makes.
pub const MAX_TRIALS: u32 = 3;
/// Largest window searched on, in pixels (the whole output when smaller).
pub const SEARCH_PIXELS: u32 = 640 * 1024;
/// The encoder qualities a search stays within.
const QUALITIES: (u8, u8) = (20, 95);
/// A search stops at a score in `[target − BELOW, target + ABOVE)`.
const BELOW: f64 = 1.0;
const ABOVE: f64 = 2.0;

/// The SSIMULACRA2 score each level aims at (90: no visible difference side by side at 1:1;
/// 70: differences only when looked for). `good` sits just under the calibrated default q80's
/// median (80.6 against the lossless render), so it spends fewer bytes on most images and lifts
/// the ones the fixed default leaves worst (66.7).
pub fn target(level: AutoLevel) -> f32 {
    match level {
        AutoLevel::Best => 85.0,
        AutoLevel::Good => 78.0,
        AutoLevel::Eco => 72.0,
        AutoLevel::Low => 65.0,
    }
}

/// What predicts how an image takes compression, measured on the pixels about to be encoded.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Features {
    /// Mean absolute Laplacian of the luma (fine detail).
    pub detail: f32,
    /// Mean absolute luma gradient (edges and texture).
    pub edges: f32,
    /// Mean absolute chroma gradient (colour detail).
    pub chroma: f32,
    /// Share of 8×8 blocks whose luma is nearly flat (where banding and blocking show).
    pub flat: f32,
    /// Pixels measured on.
    pub pixels: u32,
}

/// The [`Features`] of `rgb`: one pass over at most about a million pixels (rows are sampled
/// evenly beyond that), a small fraction of an encode.
pub fn features(rgb: &image::RgbImage) -> Features {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let px = rgb.as_raw();
    let ycc = |x: usize, y: usize| -> [i32; 3] {
        let p = &px[(y * w + x) * 3..][..3];
        let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
        [
            (77 * r + 150 * g + 29 * b) >> 8,
            (-43 * r - 85 * g + 128 * b) >> 8,
            (128 * r - 107 * g - 21 * b) >> 8,
        ]
    };
    let step = ((w * h) / 1_000_000).max(1);
    let (mut detail, mut edges, mut chroma, mut n) = (0u64, 0u64, 0u64, 0u64);
    for y in (1..h.saturating_sub(1)).step_by(step) {
        for x in 1..w.saturating_sub(1) {
            let c = ycc(x, y);
            let (l, r, u, d) = (ycc(x - 1, y), ycc(x + 1, y), ycc(x, y - 1), ycc(x, y + 1));
            detail += u64::from((4 * c[0] - l[0] - r[0] - u[0] - d[0]).unsigned_abs());
            edges += u64::from((r[0] - c[0]).unsigned_abs() + (d[0] - c[0]).unsigned_abs());
            chroma += u64::from(
                (r[1] - c[1]).unsigned_abs()
                    + (d[1] - c[1]).unsigned_abs()
                    + (r[2] - c[2]).unsigned_abs()
                    + (d[2] - c[2]).unsigned_abs(),
            );
            n += 1;
        }
    }
    let (mut flat, mut blocks) = (0u64, 0u64);
    for by in (0..h / 8).step_by(step) {
        for bx in 0..w / 8 {
            let (mut s, mut s2) = (0i64, 0i64);
            for y in by * 8..by * 8 + 8 {
                for x in bx * 8..bx * 8 + 8 {
                    let v = i64::from(ycc(x, y)[0]);
                    s += v;
                    s2 += v * v;
                }
            }
            // Variance under 4 (σ < 2 levels of 255).
            flat += u64::from(64 * s2 - s * s < 4 * 64 * 64);
            blocks += 1;
        }
    }
    let mean = |v: u64, n: u64| if n == 0 { 0.0 } else { v as f32 / n as f32 };
    Features {
        detail: mean(detail, n),
        edges: mean(edges, n),
        chroma: mean(chroma, n),
        flat: mean(flat, blocks),
        pixels: (w * h) as u32,
    }
}

/// `q = base + per_target·T + Σ weight·feature`, the features as `ln(1 + x)` but `flat`
/// (scripts/fit-q-auto: least squares over the corpus at 400 and 800 px, targets 60–90).
struct Model {
    base: f32,
    per_target: f32,
    detail: f32,
    edges: f32,
    chroma: f32,
    flat: f32,
    pixels: f32,
}

const JPEG: Model = Model {
    base: -129.70,
    per_target: 1.9627,
    detail: 36.831,
    edges: -36.025,
    chroma: 10.357,
    flat: 7.585,
    pixels: 2.3477,
};
const WEBP: Model = Model {
    base: -102.39,
    per_target: 1.9075,
    detail: 41.050,
    edges: -49.554,
    chroma: 9.601,
    flat: -8.235,
    pixels: 2.9835,
};
const AVIF: Model = Model {
    base: -83.694,
    per_target: 1.5950,
    detail: 25.538,
    edges: -30.958,
    chroma: 7.639,
    flat: -2.995,
    pixels: 2.1428,
};

fn model(format: Format) -> &'static Model {
    match format {
        Format::Webp => &WEBP,
        Format::Avif => &AVIF,
        _ => &JPEG,
    }
}

/// The model's quality for `target` on an image with features `f`, within the search's range.
fn predicted(format: Format, target: f64, f: &Features) -> u8 {
    let m = model(format);
    let ln = |x: f32| (1.0 + x).ln();
    let q = m.base
        + m.per_target * target as f32
        + m.detail * ln(f.detail)
        + m.edges * ln(f.edges)
        + m.chroma * ln(f.chroma)
        + m.flat * f.flat
        + m.pixels * (f.pixels.max(1) as f32).ln();
    q.round().clamp(f32::from(QUALITIES.0), f32::from(QUALITIES.1)) as u8
}

/// The quality an encoder was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Given {
    /// The encoder's own quality.
    pub quality: u8,
    /// `q_auto`: the SSIMULACRA2 score at that quality on the searched window (none for an image
    /// too small to score, or without `q_auto`).
    pub score: Option<f32>,
    /// `q_auto`: the encodes its search made.
    pub trials: u32,
}

/// What a search settled on.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// The quality.
    pub given: Given,
    /// The output at that quality, when the window searched was the whole image.
    pub bytes: Option<Vec<u8>>,
}

/// Searches the quality of `img` written as `format` (JPEG, WebP or AVIF) for `level`.
pub fn choose(
    img: &DynamicImage,
    format: Format,
    level: AutoLevel,
    limits: &Limits,
    deadline: Instant,
) -> Result<Chosen, TransformError> {
    let target = f64::from(target(level));
    let rgb = img.to_rgb8();
    let start = predicted(format, target, &features(&rgb));
    // SSIMULACRA2 looks at six scales, halving each time: below 64 px there is too little to see.
    if img.width() < 64 || img.height() < 64 {
        return Ok(Chosen { given: Given { quality: start, score: None, trials: 0 }, bytes: None });
    }
    let cut = centre_window(img);
    let whole = cut.is_none();
    let reference_rgb = cut.as_ref().map_or(rgb, |c| c.to_rgb8());
    let window = cut.as_ref().unwrap_or(img);
    let reference = Ssimulacra2Reference::new(&slice(&reference_rgb)?).map_err(scorer)?;
    let mut tried: Vec<(u8, f64, Vec<u8>)> = Vec::new();
    let mut q = start;
    loop {
        let bytes = encode::encode(window, format, q, false)?;
        let back = decoded(&bytes, limits, deadline)?;
        let score = reference.compare(&slice(&back)?).map_err(scorer)?;
        tried.push((q, score, bytes));
        super::check(deadline)?;
        if (target - BELOW..target + ABOVE).contains(&score) || tried.len() as u32 == MAX_TRIALS {
            break;
        }
        match next(&tried, target, model(format).per_target) {
            Some(n) => q = n,
            None => break,
        }
    }
    let trials = tried.len() as u32;
    // The lowest quality that reached the target, else the best score (the loop tried once at least).
    let all = 0..tried.len();
    let pick = all.clone().filter(|&i| tried[i].1 >= target - BELOW).min_by_key(|&i| tried[i].0);
    let pick = pick.or_else(|| all.max_by(|&a, &b| tried[a].1.total_cmp(&tried[b].1))).unwrap_or(0);
    let (quality, score, bytes) = tried.swap_remove(pick);
    let given = Given { quality, score: Some(score as f32), trials };
    Ok(Chosen { given, bytes: whole.then_some(bytes) })
}

/// The next quality to try after `tried`: between the closest trials on either side of the
/// target when there are both, else a step by the model's slope (`per_target` qualities per
/// point) of at least 2; none when it was tried already or the range's end is reached.
fn next(tried: &[(u8, f64, Vec<u8>)], target: f64, per_target: f32) -> Option<u8> {
    let below = tried.iter().filter(|t| t.1 < target).max_by_key(|t| t.0);
    let above = tried.iter().filter(|t| t.1 >= target).min_by_key(|t| t.0);
    let q = match (below, above) {
        (Some(b), Some(a)) if a.0 > b.0 + 1 => {
            let t = (target - b.1) / (a.1 - b.1);
            (f64::from(b.0) + t * f64::from(a.0 - b.0)).ceil().clamp(f64::from(b.0 + 1), f64::from(a.0 - 1))
        }
        (Some(_), Some(_)) => return None,
        _ => {
            let (q, s, _) = tried.last()?;
            let step = (target - s) * f64::from(per_target);
            let step = if step >= 0.0 { step.max(2.0) } else { step.min(-2.0) };
            f64::from(*q) + step.round()
        }
    };
    let q = q.clamp(f64::from(QUALITIES.0), f64::from(QUALITIES.1)) as u8;
    (!tried.iter().any(|t| t.0 == q)).then_some(q)
}

/// The centred part of `img` searched on when it is larger than [`SEARCH_PIXELS`]: a window of
/// about that many pixels (its corner on the 16-px grid of the encoders' blocks); none when the
/// whole image is searched.
fn centre_window(img: &DynamicImage) -> Option<DynamicImage> {
    let (w, h) = (img.width(), img.height());
    if u64::from(w) * u64::from(h) <= u64::from(SEARCH_PIXELS) {
        return None;
    }
    let ww = w.min(1024);
    let wh = h.min(SEARCH_PIXELS / ww);
    let x = ((w - ww) / 2) & !15;
    let y = ((h - wh) / 2) & !15;
    Some(img.crop_imm(x, y, ww, wh))
}

/// `rgb` as the scorer reads it.
fn slice(rgb: &image::RgbImage) -> Result<PixelSlice<'_>, TransformError> {
    PixelSlice::new(
        rgb.as_raw(),
        rgb.width(),
        rgb.height(),
        rgb.width() as usize * 3,
        PixelDescriptor::RGB8_SRGB,
    )
    .map_err(scorer)
}

fn scorer(e: impl std::fmt::Display) -> TransformError {
    TransformError::Internal(format!("q_auto's scorer: {e}"))
}

/// A trial's output read back by pixflow's own decoder, as 8-bit RGB.
fn decoded(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<image::RgbImage, TransformError> {
    let header = decode::read_header(bytes, limits, deadline)?;
    let bounds = super::sandbox::Bounds { deadline, memory: limits.max_memory };
    Ok(decode::decode(bytes, header, (8, 1), false, limits, bounds)?.image.to_rgb8())
}
