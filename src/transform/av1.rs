//! One AV1 still decoded by rav1d (the Rust port of dav1d, BSD-2-Clause; its assembly on x86_64
//! and aarch64), through the dav1d C API that rav1d exports — rav1d has no safe Rust API, so
//! the calls are wrapped here, and only here. The picture's planes are copied out before the
//! picture is released, so nothing borrowed from the decoder outlives this module.
//!
//! The decoder runs with two frame contexts (see [`decode`] for why not one), and `frame_size_limit` refuses a frame larger than the pixel limit before its
//! buffers are allocated, whatever the container claimed.
#![allow(unsafe_code)]

use super::heif::{Layout, Picture};
use super::TransformError;
use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib as dav1d;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

/// Owns an open decoder and closes it on every path.
struct Context(Option<Dav1dContext>);

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: the pointer is to this struct's own field, which holds an open context or None.
        unsafe { dav1d::dav1d_close(Some(NonNull::from(&mut self.0))) };
    }
}

/// Owns a picture the decoder filled and releases it on every path.
struct OwnedPicture(Dav1dPicture);

impl Drop for OwnedPicture {
    fn drop(&mut self) {
        // SAFETY: the picture was filled by dav1d_get_picture (or is still the zeroed default,
        // which unref accepts).
        unsafe { dav1d::dav1d_picture_unref(Some(NonNull::from(&mut self.0))) };
    }
}

/// Owns the input buffer and releases what of it the decoder did not take, on every path.
struct OwnedData(Dav1dData);

impl Drop for OwnedData {
    fn drop(&mut self) {
        // SAFETY: the data was made by dav1d_data_create (or is still the empty default, which
        // unref accepts); the decoder has released what it consumed.
        unsafe { dav1d::dav1d_data_unref(Some(NonNull::from(&mut self.0))) };
    }
}

/// dav1d's errors are negated errno values (Linux, the targets pixflow builds for).
const EAGAIN: i32 = 11;
const ENOMEM: i32 = 12;

/// Decodes the AV1 OBUs of one still image, refusing frames over `max_pixels`.
pub(super) fn decode(obus: &[u8], max_pixels: u64) -> Result<Picture, TransformError> {
    if obus.is_empty() {
        return Err(corrupt("no AV1 data"));
    }
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: dav1d_default_settings writes a whole Dav1dSettings to the pointer it is given.
    let mut settings = unsafe {
        dav1d::dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
        settings.assume_init()
    };
    // Two frame contexts, not one: with a single one (one thread, or a frame delay of 1) any
    // decode error makes rav1d 1.1 unwrap a header it already dropped, inside an `extern "C"`
    // function, which aborts the process (rav1d issue #1497, PRs #1496/#1503, open). A still
    // has one frame, so the second context costs a thread and no work.
    settings.n_threads = 2;
    settings.max_frame_delay = 2;
    settings.frame_size_limit = u32::try_from(max_pixels).unwrap_or(u32::MAX);
    let mut context = Context(None);
    // SAFETY: both pointers are to live locals; dav1d_open writes the context on success.
    let opened =
        unsafe { dav1d::dav1d_open(Some(NonNull::from(&mut context.0)), Some(NonNull::from(&mut settings))) };
    if opened.0 != 0 || context.0.is_none() {
        return Err(TransformError::Internal(format!("the AV1 decoder did not open ({})", opened.0)));
    }
    let mut data = OwnedData(Dav1dData::default());
    // SAFETY: data_create allocates `obus.len()` bytes owned by `data` and returns their address
    // (null on failure), which is written before the data is sent.
    unsafe {
        let buffer = dav1d::dav1d_data_create(Some(NonNull::from(&mut data.0)), obus.len());
        if buffer.is_null() {
            return Err(TransformError::OverLimit("the AV1 data could not be buffered".into()));
        }
        std::ptr::copy_nonoverlapping(obus.as_ptr(), buffer, obus.len());
    }
    let mut picture = OwnedPicture(Dav1dPicture::default());
    let mut sent = false;
    let mut drains = 0;
    // A still is one temporal unit: send it (the decoder may take it in parts), then ask for the
    // picture; EAGAIN from either means "call the other".
    for _ in 0..64 {
        if !sent {
            // SAFETY: the context is open and `data` is a live Dav1dData the decoder consumes.
            let r = unsafe { dav1d::dav1d_send_data(context.0, Some(NonNull::from(&mut data.0))) };
            match r.0 {
                0 => sent = data.0.sz == 0,
                e if e == -EAGAIN => {}
                e => return Err(decode_error(e)),
            }
        }
        // SAFETY: the context is open; the picture is ours to fill.
        let r = unsafe { dav1d::dav1d_get_picture(context.0, Some(NonNull::from(&mut picture.0))) };
        match r.0 {
            0 => return copy_out(&picture.0),
            e if e == -EAGAIN => {
                if sent {
                    // With frame contexts the picture comes out when the decoder is drained,
                    // which the second ask after the data ends does; more asks find nothing.
                    drains += 1;
                    if drains > 3 {
                        break;
                    }
                }
            }
            e => return Err(decode_error(e)),
        }
    }
    Err(corrupt("the AV1 data holds no complete frame"))
}

fn copy_out(p: &Dav1dPicture) -> Result<Picture, TransformError> {
    let (width, height) = (
        u32::try_from(p.p.w).map_err(|_| corrupt("picture width"))?,
        u32::try_from(p.p.h).map_err(|_| corrupt("picture height"))?,
    );
    let bit_depth = u8::try_from(p.p.bpc).map_err(|_| corrupt("bit depth"))?;
    let layout = match p.p.layout {
        DAV1D_PIXEL_LAYOUT_I400 => Layout::Monochrome,
        DAV1D_PIXEL_LAYOUT_I420 => Layout::Yuv420,
        DAV1D_PIXEL_LAYOUT_I422 => Layout::Yuv422,
        _ => Layout::Yuv444,
    };
    let mut picture = Picture {
        width,
        height,
        bit_depth,
        layout,
        planes: [Vec::new(), Vec::new(), Vec::new()],
        cicp: (2, 2, 2, false),
    };
    if let Some(seq) = p.seq_hdr {
        // SAFETY: a returned picture's sequence header lives as long as the picture.
        let seq = unsafe { seq.as_ref() };
        picture.cicp = (seq.pri as u16, seq.trc as u16, seq.mtrx as u16, seq.color_range != 0);
    }
    let (cw, ch) = picture.chroma_size();
    let sizes = [(width, height, p.stride[0]), (cw, ch, p.stride[1]), (cw, ch, p.stride[1])];
    let wide = bit_depth > 8;
    for (plane, (&(w, h, stride), data)) in sizes.iter().zip(p.data.iter()).enumerate() {
        if w == 0 {
            continue;
        }
        let data = data.ok_or_else(|| corrupt("a picture plane is missing"))?;
        let (w, h) = (w as usize, h as usize);
        let mut out = Vec::with_capacity(w * h);
        for row in 0..h {
            let offset = row as isize * stride;
            // SAFETY: dav1d's planes hold `h` rows of `stride` bytes with at least `w` samples
            // (1 byte each at 8 bits, 2 bytes above); the picture is alive for this borrow.
            unsafe {
                let start = data.as_ptr().cast::<u8>().offset(offset);
                if wide {
                    let samples = std::slice::from_raw_parts(start.cast::<u16>(), w);
                    out.extend_from_slice(samples);
                } else {
                    let samples = std::slice::from_raw_parts(start, w);
                    out.extend(samples.iter().map(|&s| u16::from(s)));
                }
            }
        }
        picture.planes[plane] = out;
    }
    Ok(picture)
}

fn decode_error(code: i32) -> TransformError {
    match -code {
        ENOMEM => TransformError::OverLimit("the AV1 frame is over the pixel limit".into()),
        _ => corrupt(&format!("the AV1 decoder refused the data (error {})", -code)),
    }
}

fn corrupt(what: &str) -> TransformError {
    TransformError::Corrupt(format!("AVIF: {what}"))
}
