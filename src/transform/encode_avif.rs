//! AVIF output: rav1e on YUV 4:2:0 (BT.601, full range, as libavif writes 8-bit sRGB), the
//! alpha as a second, monochrome AV1 picture, in the container avif-serialize writes. ravif —
//! what the `image` crate encodes AVIF with — codes colour as 4:4:4 only; 4:2:0 is what libavif,
//! sharp and browsers' own encoders default to. Measured on photographs (BENCHMARKS.md): 13 %
//! faster than 4:4:4, at 1–7 % more bytes for the same SSIMULACRA2.

use super::TransformError;
use image::DynamicImage;
use rav1e::prelude::*;

/// rav1e's speed preset (0 slowest … 10 fastest).
pub(super) const SPEED: u8 = 8;

/// The AVIF of `img` at `quality` (1–100, AVIF's own scale: see `transform/quality.rs`).
pub(super) fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, TransformError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let quantizer = quantizer(quality);
    let (pixels, channels) = super::encode::rgb8_or_rgba8(img);
    let pixels = pixels.as_ref();
    let [y, u, v] = yuv420(pixels, w, h, channels);
    let colour =
        av1(w, h, ChromaSampling::Cs420, quantizer, &[(&y, w), (&u, w.div_ceil(2)), (&v, w.div_ceil(2))])?;
    let alpha = match channels {
        4 => {
            let a: Vec<u8> = pixels.chunks_exact(4).map(|p| p[3]).collect();
            Some(av1(w, h, ChromaSampling::Cs400, quantizer, &[(&a, w)])?)
        }
        _ => None,
    };
    let mut container = avif_serialize::Aviffy::new();
    container
        .set_chroma_subsampling((true, true))
        .set_matrix_coefficients(avif_serialize::constants::MatrixCoefficients::Bt601)
        .set_transfer_characteristics(avif_serialize::constants::TransferCharacteristics::Srgb)
        .set_color_primaries(avif_serialize::constants::ColorPrimaries::Bt709)
        .set_full_color_range(true);
    Ok(container.to_vec(&colour, alpha.as_deref(), w as u32, h as u32, 8))
}

/// AVIF quality (1–100) to rav1e's quantizer (0–255), as ravif maps it, so that numbers keep
/// meaning what they meant with the `image` crate's encoder.
fn quantizer(quality: u8) -> usize {
    let q = f32::from(quality.clamp(1, 100)) / 100.0;
    let x = if q >= 0.82 {
        (1.0 - q) * 2.6
    } else if q > 0.25 {
        1.0 - 0.125 - q * 0.5
    } else {
        1.0 - q
    };
    (x * 255.0).round() as usize
}

/// Interleaved 8-bit RGB(A) to full-range BT.601 Y, and Cb, Cr averaged over each 2×2 block
/// (centre-sited, as decoders assume when the position is unknown).
fn yuv420(pixels: &[u8], w: usize, h: usize, channels: usize) -> [Vec<u8>; 3] {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut y = vec![0u8; w * h];
    let (mut cb_sum, mut cr_sum, mut count) = (vec![0f32; cw * ch], vec![0f32; cw * ch], vec![0u8; cw * ch]);
    for row in 0..h {
        for col in 0..w {
            let p = &pixels[(row * w + col) * channels..];
            let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
            let luma = 0.299 * r + 0.587 * g + 0.114 * b;
            y[row * w + col] = luma.round().clamp(0.0, 255.0) as u8;
            let c = (row / 2) * cw + col / 2;
            cb_sum[c] += (b - luma) / 1.772;
            cr_sum[c] += (r - luma) / 1.402;
            count[c] += 1;
        }
    }
    let chroma = |sums: Vec<f32>| -> Vec<u8> {
        sums.iter()
            .zip(&count)
            .map(|(s, &n)| (s / f32::from(n) + 128.0).round().clamp(0.0, 255.0) as u8)
            .collect()
    };
    [y, chroma(cb_sum), chroma(cr_sum)]
}

/// One still AV1 picture of `planes` (data, stride) — one thread, one tile, so the bytes do not
/// depend on the machine.
fn av1(
    w: usize,
    h: usize,
    sampling: ChromaSampling,
    quantizer: usize,
    planes: &[(&[u8], usize)],
) -> Result<Vec<u8>, TransformError> {
    let fail = |e: &dyn std::fmt::Display| TransformError::Internal(format!("avif encoder: {e}"));
    let mut speed = SpeedSettings::from_preset(SPEED);
    // A still picture: nothing to gain from looking at other frames.
    speed.multiref = false;
    speed.rdo_lookahead_frames = 1;
    speed.scene_detection_mode = SceneDetectionSpeed::None;
    speed.motion.include_near_mvs = false;
    let config = EncoderConfig {
        width: w,
        height: h,
        bit_depth: 8,
        chroma_sampling: sampling,
        chroma_sample_position: ChromaSamplePosition::Unknown,
        pixel_range: PixelRange::Full,
        color_description: (sampling != ChromaSampling::Cs400).then_some(ColorDescription {
            color_primaries: ColorPrimaries::BT709,
            transfer_characteristics: TransferCharacteristics::SRGB,
            matrix_coefficients: MatrixCoefficients::BT601,
        }),
        still_picture: true,
        quantizer,
        min_quantizer: quantizer as u8,
        tune: Tune::Psychovisual,
        tiles: 1,
        speed_settings: speed,
        ..EncoderConfig::default()
    };
    let mut ctx: Context<u8> =
        Config::new().with_encoder_config(config).with_threads(1).new_context().map_err(|e| fail(&e))?;
    let mut frame = ctx.new_frame();
    for (plane, (data, stride)) in frame.planes.iter_mut().zip(planes) {
        plane.copy_from_raw_u8(data, *stride, 1);
    }
    ctx.send_frame(frame).map_err(|e| fail(&e))?;
    ctx.flush();
    let mut out = Vec::new();
    loop {
        match ctx.receive_packet() {
            Ok(packet) if packet.frame_type == FrameType::KEY => out.extend_from_slice(&packet.data),
            Ok(_) => {}
            Err(EncoderStatus::Encoded) => {}
            Err(EncoderStatus::LimitReached) => break,
            Err(e) => return Err(fail(&e)),
        }
    }
    Ok(out)
}
