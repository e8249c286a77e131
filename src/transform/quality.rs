//! One quality, every format. `q_N` (and the default, 80) is written on JPEG's scale — libjpeg's
//! quality, what most people mean by "quality 80" — and each format's encoder is given the
//! quality at which it reaches the same SSIMULACRA2 score: the medians over the shared photo
//! corpus at 800 px wide, measured by `scripts/calibrate-quality` (which prints this table; the
//! figures are in BENCHMARKS.md). Between the measured points the mapping is linear.

use crate::spec::{Format, Quality};

/// The quality when the URL gives none, on JPEG's scale.
pub const DEFAULT: u8 = 80;

/// `(JPEG quality, WebP quality, AVIF quality)` at equal median SSIMULACRA2
/// (scripts/calibrate-quality, the first 12 corpus photos → 800 px, 2026-12-04: JPEG q80 scores
/// 79.1, WebP q85 79.0, AVIF q70 79.0 (libaom); 1 and 100 are fixed ends). From 90 up JPEG and
/// AVIF keep full chroma (`encode::FULL_CHROMA_FROM`): JPEG q90 scores 87.5, more than WebP at
/// 99, and at q95 (90.3) more than WebP reaches at all (87.7 at 100), which is then given 100.
const EQUAL_SCORE: [(u8, u8, u8); 10] = [
    (1, 1, 1),
    (50, 58, 49),
    (60, 68, 53),
    (70, 78, 59),
    (75, 82, 63),
    (80, 85, 70),
    (85, 89, 78),
    (90, 99, 88),
    (95, 100, 93),
    (100, 100, 100),
];

/// The quality `format`'s encoder is given for `quality` (the URL's, or the default).
pub fn encoder_quality(format: Format, quality: Option<Quality>) -> u8 {
    let q = match quality {
        Some(Quality::Encoder(q)) => return q,
        Some(Quality::Fixed(q)) => q,
        // q_auto's search (auto_quality.rs) sets the quality of lossy formats; the others have
        // no quality.
        Some(Quality::Auto(_)) | None => DEFAULT,
    };
    let pick = |k: &(u8, u8, u8)| match format {
        Format::Webp => k.1,
        Format::Avif => k.2,
        _ => k.0,
    };
    let q = q.clamp(1, 100);
    let upper = EQUAL_SCORE.iter().position(|k| k.0 >= q).unwrap_or(EQUAL_SCORE.len() - 1);
    let (a, b) = (EQUAL_SCORE[upper.saturating_sub(1)], EQUAL_SCORE[upper]);
    if b.0 == a.0 {
        return pick(&b);
    }
    let t = f32::from(q - a.0) / f32::from(b.0 - a.0);
    (f32::from(pick(&a)) + t * (f32::from(pick(&b)) - f32::from(pick(&a)))).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_keeps_its_number_and_the_others_follow_the_table() {
        for q in 1..=100 {
            assert_eq!(encoder_quality(Format::Jpeg, Some(Quality::Fixed(q))), q);
        }
        assert_eq!(encoder_quality(Format::Webp, None), 85);
        assert_eq!(encoder_quality(Format::Avif, None), 70);
        assert_eq!(encoder_quality(Format::Webp, Some(Quality::Fixed(65))), 73);
        assert_eq!(encoder_quality(Format::Avif, Some(Quality::Encoder(60))), 60);
        // Monotonic: a higher q never gives a lower encoder quality.
        for f in [Format::Webp, Format::Avif] {
            let qs: Vec<u8> = (1..=100).map(|q| encoder_quality(f, Some(Quality::Fixed(q)))).collect();
            assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{f:?}: {qs:?}");
            assert_eq!((qs[0], qs[99]), (1, 100));
        }
    }
}
