//! One AV1 still picture encoded by libaom (BSD-2-Clause; the reference AV1 encoder, built from
//! the sources `libaom-sys` vendors, with its SIMD: x86-64 assembly by nasm, aarch64 NEON
//! intrinsics), configured as libavif configures it for a single image: the all-intra usage,
//! constant-quality rate control, SSIM tuning, no post-processing filters on the reconstruction.
//! libaom has no safe Rust API, so the calls are wrapped here, and only here; the encoder and its
//! image are released on every path, and the packets are copied out before they are.
#![allow(unsafe_code)]

use super::TransformError;
use libaom_sys as sys;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_uint};

/// libaom's speed (`cpu-used`, 0 slowest … 9 fastest in the all-intra usage).
const SPEED: c_int = 6;

/// The picture's planes, each row after row with no padding.
pub(super) enum Layout<'a> {
    /// Y, Cb and Cr, the chroma halved both ways (BT.601, full range, sRGB, as libavif writes).
    Yuv420([&'a [u8]; 3]),
    /// Y, Cb and Cr, each at every pixel (AV1's High profile).
    Yuv444([&'a [u8]; 3]),
    /// One plane of full-range samples (an alpha channel).
    Monochrome(&'a [u8]),
}

/// Owns an initialised encoder and destroys it on every path. Boxed: the context is not moved
/// after libaom has initialised it.
struct Encoder(Box<sys::aom_codec_ctx_t>);

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised by aom_codec_enc_init_ver and is destroyed once.
        unsafe { sys::aom_codec_destroy(&mut *self.0) };
    }
}

/// Owns an image libaom allocated and frees it on every path.
struct Image(*mut sys::aom_image_t);

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: the pointer came from aom_img_alloc (not null) and is freed once.
        unsafe { sys::aom_img_free(self.0) };
    }
}

/// The AV1 bitstream (OBUs) of one still picture `width` × `height` at `quantizer` (0 best …
/// 63), one thread and one tile, so the bytes do not depend on the machine.
pub(super) fn encode(
    width: usize,
    height: usize,
    layout: &Layout<'_>,
    quantizer: u8,
) -> Result<Vec<u8>, TransformError> {
    let fail = |what: &str| TransformError::Internal(format!("avif encoder: {what}"));
    let (w, h) = match (c_uint::try_from(width), c_uint::try_from(height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => (w, h),
        _ => return Err(fail("picture size out of range")),
    };
    let monochrome = matches!(layout, Layout::Monochrome(_));
    let full_chroma = matches!(layout, Layout::Yuv444(_));
    // SAFETY: every pointer handed to libaom points to a live value of the type its header
    // declares; the control values have the types aomcx.h gives them (int or unsigned int).
    unsafe {
        let iface = sys::aom_codec_av1_cx();
        let mut cfg = MaybeUninit::<sys::aom_codec_enc_cfg>::zeroed();
        if sys::aom_codec_enc_config_default(iface, cfg.as_mut_ptr(), sys::AOM_USAGE_ALL_INTRA)
            != sys::AOM_CODEC_OK
        {
            return Err(fail("no all-intra configuration"));
        }
        let mut cfg = cfg.assume_init();
        cfg.g_w = w;
        cfg.g_h = h;
        // Main profile (4:2:0 and monochrome); High for 4:4:4.
        cfg.g_profile = c_uint::from(full_chroma);
        cfg.g_bit_depth = sys::AOM_BITS_8;
        cfg.g_input_bit_depth = 8;
        cfg.g_threads = 1;
        // One frame: libaom writes a still-picture sequence header; no lookahead buffers.
        cfg.g_limit = 1;
        cfg.g_lag_in_frames = 0;
        cfg.kf_mode = sys::AOM_KF_DISABLED;
        cfg.kf_max_dist = 0;
        cfg.rc_end_usage = sys::AOM_Q;
        cfg.rc_min_quantizer = 0;
        cfg.rc_max_quantizer = 63;
        cfg.monochrome = c_uint::from(monochrome);

        let mut ctx = Box::new(MaybeUninit::<sys::aom_codec_ctx_t>::zeroed().assume_init());
        if sys::aom_codec_enc_init_ver(&mut *ctx, iface, &cfg, 0, sys::AOM_ENCODER_ABI_VERSION as c_int)
            != sys::AOM_CODEC_OK
        {
            // A failed init needs no destroy.
            return Err(fail("cannot start"));
        }
        let mut encoder = Encoder(ctx);
        let ctx: *mut sys::aom_codec_ctx_t = &mut *encoder.0;
        let int =
            |id: sys::aome_enc_control_id, value: c_int| sys::aom_codec_control(ctx, id as c_int, value);
        let uint =
            |id: sys::aome_enc_control_id, value: c_uint| sys::aom_codec_control(ctx, id as c_int, value);
        let set = [
            int(sys::AOME_SET_CPUUSED, SPEED),
            uint(sys::AOME_SET_CQ_LEVEL, c_uint::from(quantizer.min(63))),
            int(sys::AOME_SET_TUNING, sys::AOM_TUNE_SSIM as c_int),
            uint(sys::AV1E_SET_SKIP_POSTPROC_FILTERING, 1),
            int(sys::AV1E_SET_COLOR_RANGE, sys::AOM_CR_FULL_RANGE as c_int),
        ];
        if set.iter().any(|&e| e != sys::AOM_CODEC_OK) {
            return Err(fail("a setting was refused"));
        }
        if !monochrome {
            let colour = [
                int(sys::AV1E_SET_COLOR_PRIMARIES, sys::AOM_CICP_CP_BT_709 as c_int),
                int(sys::AV1E_SET_TRANSFER_CHARACTERISTICS, sys::AOM_CICP_TC_SRGB as c_int),
                int(sys::AV1E_SET_MATRIX_COEFFICIENTS, sys::AOM_CICP_MC_BT_601 as c_int),
            ];
            if colour.iter().any(|&e| e != sys::AOM_CODEC_OK) {
                return Err(fail("a colour setting was refused"));
            }
        }

        let format = if full_chroma { sys::AOM_IMG_FMT_I444 } else { sys::AOM_IMG_FMT_I420 };
        let raw = sys::aom_img_alloc(std::ptr::null_mut(), format, w, h, 16);
        if raw.is_null() {
            return Err(fail("no picture buffer"));
        }
        let image = Image(raw);
        let img = &mut *image.0;
        img.range = sys::AOM_CR_FULL_RANGE;
        img.monochrome = c_int::from(monochrome);
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        let planes: Vec<(&[u8], usize, usize)> = match layout {
            Layout::Yuv420([y, u, v]) => vec![(y, width, height), (u, cw, ch), (v, cw, ch)],
            Layout::Yuv444([y, u, v]) => vec![(y, width, height), (u, width, height), (v, width, height)],
            Layout::Monochrome(y) => vec![(y, width, height)],
        };
        for (index, (plane, pw, ph)) in planes.into_iter().enumerate() {
            if plane.len() != pw * ph {
                return Err(fail("a plane is not the picture's size"));
            }
            let stride = img.stride[index] as usize;
            for (row, src) in plane.chunks_exact(pw).enumerate() {
                std::ptr::copy_nonoverlapping(src.as_ptr(), img.planes[index].add(row * stride), pw);
            }
        }
        if monochrome {
            // libaom reads no chroma from a monochrome picture; neutral grey all the same.
            for index in 1..3 {
                std::ptr::write_bytes(img.planes[index], 128, img.stride[index] as usize * ch);
            }
        } else {
            img.cp = sys::AOM_CICP_CP_BT_709;
            img.tc = sys::AOM_CICP_TC_SRGB;
            img.mc = sys::AOM_CICP_MC_BT_601;
        }

        let mut out = Vec::new();
        // The picture, then the flush (a null image) until no packet is left.
        for picture in [image.0 as *const sys::aom_image_t, std::ptr::null()] {
            if sys::aom_codec_encode(ctx, picture, 0, 1, 0) != sys::AOM_CODEC_OK {
                return Err(fail("encoding failed"));
            }
            let mut iter: sys::aom_codec_iter_t = std::ptr::null();
            loop {
                let packet = sys::aom_codec_get_cx_data(ctx, &mut iter);
                if packet.is_null() {
                    break;
                }
                if (*packet).kind == sys::AOM_CODEC_CX_FRAME_PKT {
                    let frame = (*packet).data.frame;
                    out.extend_from_slice(std::slice::from_raw_parts(frame.buf as *const u8, frame.sz));
                }
            }
        }
        if out.is_empty() {
            return Err(fail("no picture came out"));
        }
        Ok(out)
    }
}
