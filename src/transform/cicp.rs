//! Pictures tagged by code points (ITU-T H.273, the `nclx` box of AVIF/HEIC) rather than an ICC
//! profile, brought to sRGB: wide primaries (BT.2020, Display P3) converted in linear light, and
//! the HDR transfers tone-mapped so that the picture looks as a browser on an SDR screen shows
//! it, neither washed out nor dark.
//!
//! The choice, written down: PQ is decoded to absolute light and HLG through its inverse OETF and
//! the BT.2100 OOTF for a 1,000 cd/m² display; both are scaled so that 203 cd/m² (BT.2408's
//! reference white) is SDR white; then the largest channel of each pixel is rolled off above
//! 0.8 of white by a smooth curve that reaches white only at infinity (BT.2390's knee, in
//! spirit), and the other two follow it so hues hold. Out-of-gamut channels are clipped.

use super::heif::Nclx;

const PRIMARIES_BT709: [u16; 4] = [1, 2, 5, 6];
const TRANSFER_PQ: u16 = 16;
const TRANSFER_HLG: u16 = 18;
const TRANSFER_LINEAR: u16 = 8;
/// BT.2408: the signal level of graphics white in an HDR picture.
const REFERENCE_WHITE_NITS: f32 = 203.0;
/// Where the roll-off starts, as a fraction of SDR white.
const KNEE: f32 = 0.8;

/// Whether the picture needs more than the YUV → RGB matrix to be sRGB.
pub(super) fn converts(n: &Nclx) -> bool {
    !PRIMARIES_BT709.contains(&n.primaries)
        || [TRANSFER_PQ, TRANSFER_HLG, TRANSFER_LINEAR].contains(&n.transfer)
}

/// The conversion of one picture's code points to sRGB.
pub(super) struct Converter {
    transfer: u16,
    hdr: bool,
    /// Linear source RGB → linear BT.709/sRGB RGB.
    matrix: [[f32; 3]; 3],
}

impl Converter {
    /// The conversion for `n`.
    pub(super) fn new(n: &Nclx) -> Converter {
        let matrix = match n.primaries {
            9 => [[1.6605, -0.5876, -0.0728], [-0.1246, 1.1329, -0.0083], [-0.0182, -0.1006, 1.1187]],
            11 | 12 => [[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]],
            _ => [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        };
        Converter { transfer: n.transfer, hdr: [TRANSFER_PQ, TRANSFER_HLG].contains(&n.transfer), matrix }
    }

    /// One pixel, non-linear source RGB in 0..=1 → sRGB in 0..=1.
    pub(super) fn apply(&self, rgb: [f32; 3]) -> [f32; 3] {
        let linear = match self.transfer {
            TRANSFER_PQ => rgb.map(|e| pq_eotf(e) / REFERENCE_WHITE_NITS),
            TRANSFER_HLG => hlg_display(rgb),
            TRANSFER_LINEAR => rgb,
            _ => rgb.map(srgb_to_linear),
        };
        let m = &self.matrix;
        let mut out = [0.0f32; 3];
        for (o, row) in out.iter_mut().zip(m) {
            *o = (row[0] * linear[0] + row[1] * linear[1] + row[2] * linear[2]).max(0.0);
        }
        let peak = out[0].max(out[1]).max(out[2]);
        if self.hdr && peak > KNEE {
            let rolled = KNEE + (1.0 - KNEE) * (1.0 - (-(peak - KNEE) / (1.0 - KNEE)).exp());
            out = out.map(|c| c * rolled / peak);
        }
        out.map(linear_to_srgb)
    }
}

/// SMPTE ST 2084: signal → cd/m².
fn pq_eotf(e: f32) -> f32 {
    const M1: f32 = 2610.0 / 16384.0;
    const M2: f32 = 2523.0 / 4096.0 * 128.0;
    const C1: f32 = 3424.0 / 4096.0;
    const C2: f32 = 2413.0 / 4096.0 * 32.0;
    const C3: f32 = 2392.0 / 4096.0 * 32.0;
    let p = e.clamp(0.0, 1.0).powf(1.0 / M2);
    10000.0 * ((p - C1).max(0.0) / (C2 - C3 * p)).powf(1.0 / M1)
}

/// BT.2100 HLG: signal → display light on a 1,000 cd/m² display, in units of reference white.
fn hlg_display(rgb: [f32; 3]) -> [f32; 3] {
    const A: f32 = 0.178_832_77;
    const B: f32 = 0.284_668_92;
    const C: f32 = 0.559_910_7;
    let scene = rgb.map(|e| {
        let e = e.clamp(0.0, 1.0);
        if e <= 0.5 {
            e * e / 3.0
        } else {
            (((e - C) / A).exp() + B) / 12.0
        }
    });
    // OOTF: display = 1000 · Ys^(γ−1) · scene, γ = 1.2 at 1,000 cd/m² (BT.2020 luma weights).
    let ys = 0.2627 * scene[0] + 0.6780 * scene[1] + 0.0593 * scene[2];
    let gain = 1000.0 * ys.max(1e-6).powf(0.2) / REFERENCE_WHITE_NITS;
    scene.map(|s| s * gain)
}

fn srgb_to_linear(e: f32) -> f32 {
    let e = e.clamp(0.0, 1.0);
    if e <= 0.04045 {
        e / 12.92
    } else {
        ((e + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(l: f32) -> f32 {
    let l = l.clamp(0.0, 1.0);
    if l <= 0.003_130_8 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nclx(primaries: u16, transfer: u16) -> Nclx {
        Nclx { primaries, transfer, matrix: 9, full_range: false }
    }

    #[test]
    fn sdr_bt709_needs_nothing() {
        assert!(!converts(&nclx(1, 13)));
        assert!(!converts(&nclx(2, 2)));
        assert!(converts(&nclx(9, 16)));
        assert!(converts(&nclx(12, 13)));
    }

    #[test]
    fn pq_reference_white_is_near_sdr_white_and_highlights_roll_off() {
        let c = Converter::new(&nclx(9, TRANSFER_PQ));
        // PQ 0.58 ≈ 203 cd/m²: reference white lands just under white (the knee bends it).
        let white = c.apply([0.58, 0.58, 0.58]);
        assert!(white[0] > 0.9 && white[0] <= 1.0, "{white:?}");
        // 10,000 cd/m² is white, not beyond; 1,000 cd/m² is brighter than reference white.
        assert!(c.apply([1.0; 3])[0] <= 1.0);
        assert!(c.apply([0.75; 3])[0] > white[0]);
        // Black stays black; grey stays grey (no hue shift on neutrals).
        assert_eq!(c.apply([0.0; 3]), [0.0; 3]);
        let grey = c.apply([0.4; 3]);
        assert!((grey[0] - grey[2]).abs() < 1e-3, "{grey:?}");
    }

    #[test]
    fn hlg_is_neither_dark_nor_clipped() {
        let c = Converter::new(&nclx(9, TRANSFER_HLG));
        // HLG 0.75 is BT.2408's reference white.
        let white = c.apply([0.75; 3]);
        assert!(white[0] > 0.85 && white[0] <= 1.0, "{white:?}");
        let mid = c.apply([0.4; 3]);
        assert!(mid[0] > 0.3 && mid[0] < white[0], "{mid:?}");
    }

    #[test]
    fn display_p3_red_is_clipped_into_srgb_red() {
        let c = Converter::new(&nclx(12, 13));
        let red = c.apply([1.0, 0.0, 0.0]);
        assert!(red[0] > 0.99 && red[1] < 0.01 && red[2] < 0.01, "{red:?}");
        // SDR highlights are not rolled off: P3 white is sRGB white.
        let white = c.apply([1.0; 3]);
        assert!(white.iter().all(|&v| v > 0.995), "{white:?}");
    }
}
